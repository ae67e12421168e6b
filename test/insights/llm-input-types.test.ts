/**
 * Runs the TypeScript compiler on test/insights/llm-input.types.ts (jest itself only transpiles):
 * as written it must compile cleanly — every `@ts-expect-error` there is a real type error — and
 * with the directives removed every one of those lines must fail to compile. Together: the LLM
 * path's input type admits the feature summary and rejects raw telemetry.
 */
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../support/stack';

const file = path.join(__dirname, 'llm-input.types.ts');

function compile(rewrite?: (text: string) => string): readonly ts.Diagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError, create) => {
    if (rewrite && path.resolve(name) === file) return ts.createSourceFile(name, rewrite(ts.sys.readFile(name) ?? ''), language, true);
    return getSourceFile(name, language, onError, create);
  };
  const program = ts.createProgram({ rootNames: [file], options: { ...config.options, noEmit: true }, host });
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file && path.resolve(d.file.fileName) === file);
}

function describeDiagnostic(d: ts.Diagnostic): string {
  const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
  return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
}

it('compiles: every @ts-expect-error marks a real type error, and the summary itself is accepted', () => {
  expect(compile().map(describeDiagnostic)).toEqual([]);
});

it('without the directives, each raw-telemetry call is a type error', () => {
  const text = ts.sys.readFile(file) ?? '';
  const expected = text.split('\n').filter((l) => l.trim().startsWith('// @ts-expect-error')).length;
  expect(expected).toBe(7);
  const errors = compile((t) => t.replace(/^(\s*)\/\/ @ts-expect-error[^\n]*/gm, '$1// (directive removed)'));
  const lines = new Set(errors.map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line));
  expect(lines.size).toBe(expected);
  for (const d of errors)
    expect(ts.flattenDiagnosticMessageText(d.messageText, ' ')).toMatch(
      /not assignable|is missing the following properties|Object literal may only specify known properties/,
    );
}, 60_000);
