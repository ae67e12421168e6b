/**
 * The engine floor of `npm run bench -- weighvision`: an empty WeighVision session workflow.
 *
 * It takes the same messages as workflows/weighvision/session.ts under the same signal names —
 * device events (`sessionEvent`, sent with signalWithStart: created, 3 × weight.recorded,
 * finalized) and `imageStored` (3 per session) — starts one no-op "inference" activity per image
 * as each arrives, and once all announced signals are in and the inferences are done, runs one
 * no-op "record" activity and completes. No state, no search-attribute upserts, no queries: what
 * is left is the Temporal server, the SDK and the worker's task handling for the same count of
 * signals and activities, so the whole flow can be compared against it. The benchmark runs it twice:
 * with regular no-op activities (the definition) and with local ones (the session
 * workflow's own kind), so both comparisons are on record.
 *
 * Bundled by the benchmark process (bundleWorkflowCode); imports nothing but the workflow SDK.
 */
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';

export interface EngineDeviceEvent {
  event_id: string;
  event_type: string;
  [field: string]: unknown;
}

export interface EngineStoredImage {
  mediaId: string;
  [field: string]: unknown;
}

export interface EngineSessionInput {
  sessionId: string;
  /** Device events + images the session will receive (8 for 1 created, 3 readings, 3 images, 1 finalized). */
  expectedSignals: number;
  /**
   * 'activity': the no-op activities are regular activities (the definition of the engine
   * limit); 'local': local activities, the kind the session workflow itself uses.
   */
  kind: 'activity' | 'local';
}

export interface EngineActivities {
  /** Stands in for inferImage: does nothing. */
  engineInference(sessionId: string, mediaId: string): Promise<void>;
  /** Stands in for recordSession: the benchmark notes the time it ran (the "session row" moment). */
  engineRecord(sessionId: string, signals: number): Promise<void>;
}

export const engineSessionEventSignal = defineSignal<[EngineDeviceEvent]>('sessionEvent');
export const engineImageStoredSignal = defineSignal<[EngineStoredImage]>('imageStored');

const options = { startToCloseTimeout: '60 seconds', retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 } } as const;
const regular = proxyActivities<EngineActivities>(options);
const local = proxyLocalActivities<EngineActivities>(options);

export async function weighVisionEngineSession(input: EngineSessionInput): Promise<number> {
  const { engineInference, engineRecord } = input.kind === 'local' ? local : regular;
  let signals = 0;
  const inferences: Promise<void>[] = [];
  setHandler(engineSessionEventSignal, () => {
    signals += 1;
  });
  setHandler(engineImageStoredSignal, (image) => {
    signals += 1;
    inferences.push(engineInference(input.sessionId, image.mediaId));
  });
  await condition(() => signals >= input.expectedSignals);
  await Promise.all(inferences);
  await engineRecord(input.sessionId, signals);
  return signals;
}
