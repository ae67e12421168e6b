/**
 * `farmiq replay`, the check before deploying a workflow change: many committed histories in one
 * run (one bundle), exit 0 when all replay; exit 2 naming the one that does not; exit 1 for a file
 * that is no history.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { farmiq, farmiqError, farmiqJson } from './support';

const historiesDir = path.join(__dirname, '..', 'workflows', 'histories');
const histories = fs
  .readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => path.join(historiesDir, f));
const rollups = histories.find((f) => path.basename(f).startsWith('publish-telemetry-rollups'))!;

interface Replayed {
  kind: string;
  replayed: number;
  results: { source: string; deterministic: boolean | null; error?: string }[];
}

test('every committed history replays against the current edge workflows: exit 0', async () => {
  expect(histories.length).toBeGreaterThan(1);
  const r = await farmiqJson<Replayed>('replay', ...histories, '--kind', 'edge');
  expect(r.kind).toBe('edge');
  expect(r.replayed).toBe(histories.length);
  expect(r.results.map((x) => [x.source, x.deterministic])).toEqual(histories.map((f) => [f, true]));
});

test('a history the code no longer matches: exit 2 naming it, the others still reported', async () => {
  // As if the workflow had been changed to call another activity at that point.
  const tampered = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-replay-')), 'history.json');
  fs.writeFileSync(tampered, fs.readFileSync(rollups, 'utf8').replace(/"publishClosedRollups"/g, '"publishEverything"'));
  const [r, text] = await Promise.all([farmiqError('replay', rollups, tampered), farmiq(['replay', tampered])]);
  expect(r.code).toBe(2);
  expect(r.error.code).toBe('not_deterministic');
  expect(r.error.message).toContain('1 of 2 histories do not replay');
  const out = JSON.parse(r.stdout) as Replayed;
  expect(out.results[0]).toEqual({ source: rollups, deterministic: true });
  expect(out.results[1]).toMatchObject({ source: tampered, deterministic: false, error: expect.stringContaining('publishEverything') });

  expect(text.code).toBe(2);
  expect(text.stdout).toContain(`NOT deterministic: ${tampered}`);
});

test('refusals: a file that is not JSON, files and --workflow-id together', async () => {
  const notJson = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-replay-')), 'notes.txt');
  fs.writeFileSync(notJson, 'not a history');
  const [bad, both] = await Promise.all([farmiqError('replay', notJson), farmiqError('replay', rollups, '--workflow-id', 'x')]);
  expect(bad).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
  expect(bad.error.message).toContain(notJson);
  expect(both).toMatchObject({ code: 1, error: { code: 'invalid_input', message: 'give history files or --workflow-id, not both and not neither' } });
});
