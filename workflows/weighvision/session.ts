/**
 * One WeighVision session (spec §3, DESIGN §3): a station weighs and photographs one animal.
 *
 * Started by whichever of its messages comes first — the MQTT bridge signals-with-start every
 * device event (`sessionEvent`), the media store signals every verified upload (`imageStored`) —
 * under the id weighvision-session/<tenant>/<session> (domain/temporal/workflow-ids.ts).
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
import type { createWeighVisionActivities } from '../../activities/weighvision/session';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../../domain/temporal/search-attributes';
import { sessionRecord, visionInference } from './activity-options';
import {
  imageStoredSignal,
  sessionEventSignal,
  sessionStateQuery,
  type ImageState,
  type SessionAddress,
  type SessionDeviceEvent,
  type SessionResult,
  type SessionState,
  type SessionStatus,
  type StoredImage,
  type WeighVisionSessionInput,
} from '../../weighvision/session-contract';

type Activities = ReturnType<typeof createWeighVisionActivities>;

// Local activities: milliseconds of work each, on the worker that holds the session (see
// ./activity-options.ts for why).
const { inferImage } = proxyLocalActivities<Activities>({ ...visionInference, summary: 'infer the weight from one image' });
const { recordSession } = proxyLocalActivities<Activities>({ ...sessionRecord, summary: 'record the session and append its events to the outbox' });

/** patched() id of the rule that only the session's own station may write to it. */
export const ownerOnlyPatch = 'weighvision-session-owner-only';

export async function weighVisionSession(input: WeighVisionSessionInput): Promise<SessionResult> {
  const { config, ...address } = input;
  // Decided once, before anything else: histories recorded before the rule replay without it.
  const ownerOnly = patched(ownerOnlyPatch);
  const s: Session = {
    address,
    ownerOnly,
    state: { ...address, status: 'created', readings: [], images: [], duplicateEvents: 0, notOwnedEvents: 0 },
    seenEvents: new Set<string>(),
    events: [],
    recorded: 0,
    createdSeen: false,
    finalizedSeen: false,
  };
  const { state, events } = s;

  upsertSearchAttributes([
    { key: farmiqTenant, value: address.tenantId },
    { key: farmiqFarm, value: address.farmId },
    { key: farmiqBarn, value: address.barnId },
    { key: farmiqStation, value: address.stationId },
    { key: farmiqStatus, value: state.status },
  ]);
  describe(s);

  setHandler(sessionStateQuery, () => state);
  setHandler(sessionEventSignal, (event) => applyDeviceEvent(s, event));
  setHandler(imageStoredSignal, (image) => acceptImage(s, image));

  // The main flow stays inline: an await more or less here would let an inference that finishes in
  // the same activation land before or after the estimates are taken.
  let ending: 'finalized' | 'timed_out';
  if (await condition(() => s.finalizedSeen, `${config.finalizeTimeoutSeconds} seconds`)) {
    ending = 'finalized';
    if (state.status !== 'finalizing') moveTo(s, 'finalizing');
    describe(s);
    // The announced images (and `created`, if it is still on its way) get imageWaitSeconds.
    await condition(() => s.createdSeen && imagesSettled(s) && settledImages(s) >= (state.imageCount ?? 0), `${config.imageWaitSeconds} seconds`);
  } else {
    ending = 'timed_out';
    // Partial data still syncs: give the inferences already running the same wait, then record.
    await condition(() => imagesSettled(s), `${config.imageWaitSeconds} seconds`);
  }

  const estimates = state.images
    .filter((i) => i.status === 'inferred')
    .map((i) => ({ estimatedWeightKg: i.estimatedWeightKg!, confidence: i.confidence!, qualityFlags: i.qualityFlags ?? [] }));
  const readings = state.readings.map((r) => ({ weightKg: r.weightKg, stable: r.stable }));
  const workflowId = workflowInfo().workflowId;

  const firstBatch = events.slice(s.recorded);
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
  s.recorded += firstBatch.length;
  state.result = result;
  state.failureReason = result.failureReason;
  moveTo(s, result.status);
  describe(s);

  // Events accepted while the session was being recorded are data too: record them before closing
  // (the session row is closed by now, so only their rows and outbox events are added).
  await condition(allHandlersFinished);
  while (s.recorded < events.length) {
    const late = events.slice(s.recorded);
    await recordSession({
      ...address,
      ending,
      readings,
      estimates,
      imagesStored: state.images.length,
      disagreementRatio: config.disagreementRatio,
      events: late,
      workflowId,
    });
    s.recorded += late.length;
  }
  if (result.status === 'failed') {
    // Recorded as failed, and the run says so too: red in the UI, with the reason.
    throw ApplicationFailure.nonRetryable(result.failureReason ?? 'session failed', 'SessionFailed', result);
  }
  return result;
}

/** What one session run holds; the `state` query returns `state`. */
interface Session {
  address: SessionAddress;
  ownerOnly: boolean;
  state: SessionState;
  seenEvents: Set<string>;
  /** Accepted device events, in the order they were applied; recorded from `recorded` on. */
  events: SessionDeviceEvent[];
  recorded: number;
  createdSeen: boolean;
  finalizedSeen: boolean;
}

/** sessionEvent: applied once per event_id, and only from the session's own station. */
function applyDeviceEvent(s: Session, event: SessionDeviceEvent): void {
  const { state } = s;
  if (s.ownerOnly && !fromOwner(s.address, event)) {
    state.notOwnedEvents += 1;
    describe(s);
    return;
  }
  if (s.seenEvents.has(event.event_id)) {
    state.duplicateEvents += 1;
    return;
  }
  s.seenEvents.add(event.event_id);
  s.events.push(event);
  switch (event.event_type) {
    case 'weighvision.session.created':
      s.createdSeen = true;
      state.batchId = event.payload.batch_id;
      state.startedAt = event.ts;
      break;
    case 'weighvision.weight.recorded':
      state.readings.push({ eventId: event.event_id, weightKg: event.payload.weight_kg ?? 0, stable: event.payload.stable, at: event.ts });
      if (state.status === 'created') moveTo(s, 'collecting');
      break;
    case 'weighvision.session.finalized':
      // The first finalized decides; a second one with a new event_id is recorded, not obeyed.
      if (!s.finalizedSeen) {
        s.finalizedSeen = true;
        state.imageCount = event.payload.image_count;
        state.finalizedAt = event.ts;
      }
      break;
  }
  describe(s);
}

/** The event was published on the session's own station's topic (the bridge stamps farm and barn from it). */
function fromOwner(address: SessionAddress, event: SessionDeviceEvent): boolean {
  return (
    event.tenant_id.toLowerCase() === address.tenantId.toLowerCase() &&
    event.farm_id === address.farmId &&
    event.barn_id === address.barnId &&
    event.device_id === address.stationId
  );
}

/** imageStored: once per media id, inferred at once while the station is still weighing. */
function acceptImage(s: Session, image: StoredImage): void {
  const { state, address } = s;
  if (state.images.some((i) => i.mediaId === image.mediaId)) return;
  const entry: ImageState = { mediaId: image.mediaId, status: 'inferring' };
  state.images.push(entry);
  if (state.status === 'created') moveTo(s, 'collecting');
  describe(s);
  // Not awaited here: the state (entry.status) is what the main flow waits on.
  void inferImage({ ...address, image, traceId: image.traceId ?? workflowInfo().workflowId }).then(
    (r) => {
      entry.status = 'inferred';
      entry.estimatedWeightKg = r.estimatedWeightKg;
      entry.confidence = r.confidence;
      entry.qualityFlags = r.qualityFlags;
      describe(s);
    },
    (err: unknown) => {
      // After its retries an image counts as failed; the session concludes without it.
      entry.status = 'failed';
      entry.error = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
      describe(s);
    },
  );
}

function settledImages(s: Session): number {
  return s.state.images.filter((i) => i.status === 'inferred' || i.status === 'failed').length;
}

function imagesSettled(s: Session): boolean {
  return settledImages(s) === s.state.images.length;
}

function moveTo(s: Session, status: SessionStatus): void {
  if (status === s.state.status) return;
  s.state.status = status;
  upsertSearchAttributes([{ key: farmiqStatus, value: status }]);
}

/** The readable line in the Temporal UI: what this session has and what it waits for. */
function describe(s: Session): void {
  const { state, address } = s;
  const inferred = state.images.filter((i) => i.status === 'inferred').length;
  const parts = [
    `${state.status}`,
    `${state.readings.length} reading(s)`,
    `${state.images.length} image(s), ${inferred} inferred`,
    state.imageCount === undefined ? 'image count not announced yet' : `${state.imageCount} announced`,
  ];
  if (!s.createdSeen) parts.push('session.created not seen yet');
  if (state.notOwnedEvents > 0) parts.push(`${state.notOwnedEvents} event(s) of other stations ignored`);
  if (state.result)
    parts.push(
      state.result.weightKg === undefined ? `no weight: ${state.result.failureReason ?? ''}` : `${state.result.weightKg} kg from ${state.result.weightSource}`,
    );
  setCurrentDetails(`WeighVision session ${address.sessionId} at ${address.farmId}/${address.barnId}/${address.stationId}: ${parts.join(', ')}`);
}
