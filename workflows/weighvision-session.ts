/**
 * One WeighVision session (spec §3, DESIGN §3): a station weighs and photographs one animal.
 *
 * Started by whichever of its messages comes first — the MQTT bridge signals-with-start every
 * device event (`sessionEvent`), the media store signals every verified upload (`imageStored`) —
 * under the id weighvision-session/<tenant>/<session> (temporal/workflow-ids.ts).
 *
 *   created ──first reading or image──▶ collecting ──session.finalized──▶ finalizing
 *      │                                     │                                  │ images stored and
 *      └────── no finalized within finalizeTimeoutSeconds ──▶ timed_out        │ inferred (or wait over)
 *                                                                               ▼
 *                                                              finalized, or failed (no weight)
 *
 * - Out of order and twice are normal (QoS 1 redelivery, two transports): a device event is
 *   applied once per event_id, an image once per media id, and a reading before `created` counts.
 * - The session belongs to the station of the event that started it (the input address: tenant,
 *   farm, barn and device of that event's authenticated topic). An event from any other address
 *   changes nothing; the bridge quarantines it as session_not_owned. (Patched: runs started before
 *   this rule keep taking every event on replay.)
 * - Each stored image is inferred as soon as it arrives, while the station is still weighing.
 * - The conclusion (workflows → recordSession) writes the session row, its readings and its device
 *   events to the outbox in one transaction; a timed-out session records its partial data the same
 *   way, so it still reaches the cloud. Events that arrive while that runs are recorded after it.
 * - FarmiqStatus follows the state, and the current details say what the session waits for, so an
 *   operator reads a session in the Temporal UI; the `state` query returns everything live.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createWeighVisionActivities } from '../activities/weighvision-session';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../temporal/search-attributes';
import { sessionRecord, visionInference } from './weighvision-activity-options';
import {
  imageStoredSignal,
  sessionEventSignal,
  sessionStateQuery,
  type ImageState,
  type SessionDeviceEvent,
  type SessionResult,
  type SessionState,
  type SessionStatus,
  type WeighVisionSessionInput,
} from './weighvision-definitions';

type Activities = ReturnType<typeof createWeighVisionActivities>;

// Local activities: milliseconds of work each, on the worker that holds the session (see
// weighvision-activity-options.ts for why).
const { inferImage } = proxyLocalActivities<Activities>({ ...visionInference, summary: 'infer the weight from one image' });
const { recordSession } = proxyLocalActivities<Activities>({ ...sessionRecord, summary: 'record the session and append its events to the outbox' });

/** patched() id of the rule that only the session's own station may write to it. */
export const ownerOnlyPatch = 'weighvision-session-owner-only';

export async function weighVisionSession(input: WeighVisionSessionInput): Promise<SessionResult> {
  const { config, ...address } = input;
  // Decided once, before anything else: histories recorded before the rule replay without it.
  const ownerOnly = patched(ownerOnlyPatch);
  const state: SessionState = { ...address, status: 'created', readings: [], images: [], duplicateEvents: 0, notOwnedEvents: 0 };
  const seenEvents = new Set<string>();
  /** Accepted device events, in the order they were applied; recorded from `recorded` on. */
  const events: SessionDeviceEvent[] = [];
  let recorded = 0;
  let createdSeen = false;
  let finalizedSeen = false;

  upsertSearchAttributes([
    { key: farmiqTenant, value: address.tenantId },
    { key: farmiqFarm, value: address.farmId },
    { key: farmiqBarn, value: address.barnId },
    { key: farmiqStation, value: address.stationId },
    { key: farmiqStatus, value: state.status },
  ]);
  describe();

  function moveTo(status: SessionStatus): void {
    if (status === state.status) return;
    state.status = status;
    upsertSearchAttributes([{ key: farmiqStatus, value: status }]);
  }

  /** The readable line in the Temporal UI: what this session has and what it waits for. */
  function describe(): void {
    const inferred = state.images.filter((i) => i.status === 'inferred').length;
    const parts = [
      `${state.status}`,
      `${state.readings.length} reading(s)`,
      `${state.images.length} image(s), ${inferred} inferred`,
      state.imageCount === undefined ? 'image count not announced yet' : `${state.imageCount} announced`,
    ];
    if (!createdSeen) parts.push('session.created not seen yet');
    if (state.notOwnedEvents > 0) parts.push(`${state.notOwnedEvents} event(s) of other stations ignored`);
    if (state.result) parts.push(state.result.weightKg === undefined ? `no weight: ${state.result.failureReason ?? ''}` : `${state.result.weightKg} kg from ${state.result.weightSource}`);
    setCurrentDetails(`WeighVision session ${address.sessionId} at ${address.farmId}/${address.barnId}/${address.stationId}: ${parts.join(', ')}`);
  }

  setHandler(sessionStateQuery, () => state);

  /** The event was published on the session's own station's topic (the bridge stamps farm and barn from it). */
  const fromOwner = (event: SessionDeviceEvent) =>
    event.tenant_id.toLowerCase() === address.tenantId.toLowerCase() &&
    event.farm_id === address.farmId &&
    event.barn_id === address.barnId &&
    event.device_id === address.stationId;

  setHandler(sessionEventSignal, (event) => {
    if (ownerOnly && !fromOwner(event)) {
      state.notOwnedEvents += 1;
      describe();
      return;
    }
    if (seenEvents.has(event.event_id)) {
      state.duplicateEvents += 1;
      return;
    }
    seenEvents.add(event.event_id);
    events.push(event);
    switch (event.event_type) {
      case 'weighvision.session.created':
        createdSeen = true;
        state.batchId = event.payload.batch_id;
        state.startedAt = event.ts;
        break;
      case 'weighvision.weight.recorded':
        state.readings.push({ eventId: event.event_id, weightKg: event.payload.weight_kg ?? 0, stable: event.payload.stable, at: event.ts });
        if (state.status === 'created') moveTo('collecting');
        break;
      case 'weighvision.session.finalized':
        // The first finalized decides; a second one with a new event_id is recorded, not obeyed.
        if (!finalizedSeen) {
          finalizedSeen = true;
          state.imageCount = event.payload.image_count;
          state.finalizedAt = event.ts;
        }
        break;
    }
    describe();
  });

  setHandler(imageStoredSignal, (image) => {
    if (state.images.some((i) => i.mediaId === image.mediaId)) return;
    const entry: ImageState = { mediaId: image.mediaId, status: 'inferring' };
    state.images.push(entry);
    if (state.status === 'created') moveTo('collecting');
    describe();
    // Not awaited here: the state (entry.status) is what the main flow waits on.
    void inferImage({ ...address, image, traceId: image.traceId ?? workflowInfo().workflowId }).then(
      (r) => {
        entry.status = 'inferred';
        entry.estimatedWeightKg = r.estimatedWeightKg;
        entry.confidence = r.confidence;
        entry.qualityFlags = r.qualityFlags;
        describe();
      },
      (err: unknown) => {
        // After its retries an image counts as failed; the session concludes without it.
        entry.status = 'failed';
        entry.error = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
        describe();
      },
    );
  });

  const settled = () => state.images.filter((i) => i.status === 'inferred' || i.status === 'failed').length;
  const imagesSettled = () => settled() === state.images.length;

  let ending: 'finalized' | 'timed_out';
  if (await condition(() => finalizedSeen, `${config.finalizeTimeoutSeconds} seconds`)) {
    ending = 'finalized';
    if (state.status !== 'finalizing') moveTo('finalizing');
    describe();
    // The announced images (and `created`, if it is still on its way) get imageWaitSeconds.
    await condition(() => createdSeen && imagesSettled() && settled() >= (state.imageCount ?? 0), `${config.imageWaitSeconds} seconds`);
  } else {
    ending = 'timed_out';
    // Partial data still syncs: give the inferences already running the same wait, then record.
    await condition(imagesSettled, `${config.imageWaitSeconds} seconds`);
  }

  const estimates = state.images
    .filter((i) => i.status === 'inferred')
    .map((i) => ({ estimatedWeightKg: i.estimatedWeightKg!, confidence: i.confidence!, qualityFlags: i.qualityFlags ?? [] }));
  const readings = state.readings.map((r) => ({ weightKg: r.weightKg, stable: r.stable }));
  const workflowId = workflowInfo().workflowId;

  const firstBatch = events.slice(recorded);
  const result = await recordSession({
    ...address,
    ending,
    readings,
    estimates,
    imagesStored: state.images.length,
    imageCount: state.imageCount,
    batchId: state.batchId,
    startedAt: state.startedAt,
    finalizedAt: state.finalizedAt,
    disagreementRatio: config.disagreementRatio,
    events: firstBatch,
    workflowId,
  });
  recorded += firstBatch.length;
  state.result = result;
  state.failureReason = result.failureReason;
  moveTo(result.status);
  describe();

  // Events accepted while the session was being recorded are data too: record them before closing
  // (the session row is closed by now, so only their rows and outbox events are added).
  await condition(allHandlersFinished);
  while (recorded < events.length) {
    const late = events.slice(recorded);
    await recordSession({ ...address, ending, readings, estimates, imagesStored: state.images.length, disagreementRatio: config.disagreementRatio, events: late, workflowId });
    recorded += late.length;
  }
  if (result.status === 'failed') {
    // Recorded as failed, and the run says so too: red in the UI, with the reason.
    throw ApplicationFailure.nonRetryable(result.failureReason ?? 'session failed', 'SessionFailed', result);
  }
  return result;
}
