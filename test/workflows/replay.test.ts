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

it('rejects a workflow change that does not match the recorded history', async () => {
  const changed = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/rollups-reordered'), logger: new DefaultLogger('WARN') });
  await expect(Worker.runReplayHistory({ workflowBundle: changed }, histories[0].history)).rejects.toBeInstanceOf(DeterminismViolationError);
});
