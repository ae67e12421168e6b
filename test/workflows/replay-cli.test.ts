/**
 * The replay command users run before deploying a workflow change (temporal/replay.ts): exit 0
 * for a history that replays, exit 2 and a clear message for one that does not.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/stack';

const run = promisify(execFile);
const history = path.join(__dirname, 'histories', 'publish-telemetry-rollups.two-batches-one-retry.json');

function replay(file: string) {
  return run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'temporal/replay.ts'), '--file', file, '--kind', 'edge'], { cwd: repoRoot }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

test('a committed history replays: exit 0', async () => {
  const r = await replay(history);
  expect(r.code).toBe(0);
  expect(r.out).toContain('deterministic:');
});

test('a history the code no longer matches: exit 2 with the reason', async () => {
  // As if the workflow had been changed to call another activity at that point.
  const tampered = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-replay-')), 'history.json');
  fs.writeFileSync(tampered, fs.readFileSync(history, 'utf8').replace(/"publishClosedRollups"/g, '"publishEverything"'));
  const r = await replay(tampered);
  expect(r.code).toBe(2);
  expect(r.out).toContain('NOT deterministic');
  expect(r.out).toContain('publishEverything');
});
