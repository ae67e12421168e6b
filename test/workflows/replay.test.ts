/**
 * Replays committed workflow histories (test/workflows/histories/*.json, exported with
 * `temporal workflow show --output json`) against the current workflow code: a change that would
 * break runs already in flight fails here, before it reaches a farm. Change such code with
 * `patched()` and add a history of the new shape.
 *
 * The second test proves the guard itself: a deliberately reordered workflow must not replay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const historiesDir = path.join(__dirname, 'histories');
const histories = fs
  .readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, history: JSON.parse(fs.readFileSync(path.join(historiesDir, f), 'utf8')) as unknown }));

let edgeBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  edgeBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
});

it('has histories to replay', () => {
  expect(histories.length).toBeGreaterThan(0);
});

it.each(histories.map((h) => [h.file, h.history] as const))('replays %s against the current edge workflows', async (_file, history) => {
  await expect(Worker.runReplayHistory({ workflowBundle: edgeBundle }, history)).resolves.toBeUndefined();
});

it('has recorded WeighVision session histories of each ending', () => {
  const sessions = histories.filter((h) => h.file.startsWith('weighvision-session.')).map((h) => h.file);
  expect(sessions).toEqual(
    expect.arrayContaining(['weighvision-session.out-of-order-duplicates.json', 'weighvision-session.timed-out.json', 'weighvision-session.failed.json']),
  );
});

it('rejects a workflow change that does not match the recorded history', async () => {
  const changed = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/rollups-reordered'), logger: new DefaultLogger('WARN') });
  const rollups = histories.find((h) => h.file.startsWith('publish-telemetry-rollups'))!;
  await expect(Worker.runReplayHistory({ workflowBundle: changed }, rollups.history)).rejects.toBeInstanceOf(DeterminismViolationError);
});

it('catches a WeighVision session change that would break sessions in flight', async () => {
  const changed = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/weighvision-reordered'), logger: new DefaultLogger('WARN') });
  const session = histories.find((h) => h.file === 'weighvision-session.out-of-order-duplicates.json')!;
  await expect(Worker.runReplayHistory({ workflowBundle: changed }, session.history)).rejects.toBeInstanceOf(DeterminismViolationError);
});
