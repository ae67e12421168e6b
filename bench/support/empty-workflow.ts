/**
 * The floor of `npm run bench -- alarms`: an empty workflow, started the way the rule evaluator
 * starts an alarm (signalWithStart with one signal), that runs one no-op activity and ends. What
 * it costs is the Temporal server, the SDK and a worker's task handling, nothing of FarmIQ's.
 *
 * Bundled by the benchmark process (bundleWorkflowCode); imports nothing but the workflow SDK.
 */
import { defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface EmptyActivities {
  /** Does nothing; the benchmark notes when it ran. */
  emptyStep(id: string): Promise<void>;
}

export const emptyRaiseSignal = defineSignal<[string]>('raise');

const { emptyStep } = proxyActivities<EmptyActivities>({ startToCloseTimeout: '60 seconds' });

export async function emptyAlarm(id: string): Promise<void> {
  setHandler(emptyRaiseSignal, () => undefined);
  await emptyStep(id);
}
