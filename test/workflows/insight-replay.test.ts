/**
 * Replays committed insight workflow histories (test/workflows/insight-histories/*.json, exported
 * from the dev server with `temporal workflow show --namespace farmiq-cloud -w <id> --output json`)
 * against the current cloud workflow code: a change that would break runs in flight fails here.
 * Kept apart from test/workflows/histories/, which replay.test.ts replays against the edge bundle.
 *
 *   generate-insight.predictions-notify.json  all steps, ML predictions, notification child started
 *   generate-insight.llm-fallback.json        ML failing twice, analyzeWithLlm failing twice, the
 *                                             local-activity template fallback
 *   notify-insight.sent.json                  the notification child
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const dir = path.join(__dirname, 'insight-histories');
const histories = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown] as const);

let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/cloud'), logger: new DefaultLogger('WARN') });
});

it('has the three insight histories', () => {
  expect(histories.map(([f]) => f).sort()).toEqual([
    'generate-insight.llm-fallback.json',
    'generate-insight.predictions-notify.json',
    'notify-insight.sent.json',
  ]);
});

it.each(histories)('replays %s against the current cloud workflows', async (_file, history) => {
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).resolves.toBeUndefined();
});

it('rejects a history whose recorded steps no longer match the code', async () => {
  // Drop the predict activity's events from a run that asked for predictions: the code schedules
  // predict where the history now has the LLM step.
  const [, original] = histories.find(([f]) => f === 'generate-insight.predictions-notify.json')!;
  const h = JSON.parse(JSON.stringify(original)) as {
    events: { eventId: string; eventType: string; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
  };
  const scheduled = h.events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'predict');
  expect(scheduled).toBeGreaterThan(0);
  h.events.splice(scheduled - 1, 1 + 3 + 3); // the search-attribute upsert, scheduled/started/completed, and the next workflow task
  h.events.forEach((e, i) => (e.eventId = String(i + 1)));
  await expect(Worker.runReplayHistory({ workflowBundle: bundle }, h)).rejects.toBeInstanceOf(DeterminismViolationError);
});
