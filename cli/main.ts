/**
 * Entry point of `farmiq` (bin/farmiq runs it with tsx). Exit status: 0 done, 1 refused or failed
 * (one line on stderr; with --json the line is {"error":{"code","message"}}), 2 for a history that
 * does not replay; commander's own usage errors exit 1 too.
 */
import { asCliError } from './errors';
import { buildProgram } from './program';

/** Runs one command line; resolves to the exit status (the process exits with it). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const e = asCliError(err);
    const json = Boolean(program.opts<{ json?: boolean }>().json);
    process.stderr.write(json ? `${JSON.stringify({ error: { code: e.code, message: e.message } })}\n` : `farmiq: ${e.message}\n`);
    if (process.env.FARMIQ_DEBUG === '1') process.stderr.write(`${(e.cause instanceof Error ? e.cause : e).stack}\n`);
    return e.exitCode;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) void main().then((code) => process.exit(code));
