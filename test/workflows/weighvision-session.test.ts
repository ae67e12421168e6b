/**
 * The WeighVision session workflow on the time-skipping test server (pinned binary, offline).
 * Device events reach it the way the MQTT bridge sends them (the real temporalSessionSignaller:
 * signalWithStart); images the way the media store does (the imageStored signal). Activities are
 * fakes that record their calls; the real ones run against Postgres, S3 and the model in
 * test/activities/weighvision-session.test.ts and the end-to-end test.
 *
 * A session belongs to the station whose event started it: other devices' events (on their own
 * topics, with the session's id) come back session_not_owned and change nothing.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure as ActivityApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ImageInference, InferImageInput, RecordSessionInput, createWeighVisionActivities } from '../../activities/weighvision/session';
import type { WeighVisionEvent } from '../../domain/contracts';
import { temporalSessionSignaller, type SessionSignaller, type WeighVisionTopic } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { farmiqSearchAttributes, farmiqStatus } from '../../domain/temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../domain/temporal/workflow-ids';
import { concludeSession } from '../../weighvision/session-result';
import { imageStoredSignal, sessionStateQuery, type SessionConfig, type SessionResult, type StoredImage } from '../../weighvision/session-contract';
import { recordHistory } from '../support/record-history';
import { temporalTestServerPath } from '../support/stack';

type Activities = ReturnType<typeof createWeighVisionActivities>;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') });
});

afterAll(async () => {
  await env?.teardown();
});

const config: SessionConfig = { finalizeTimeoutSeconds: 600, imageWaitSeconds: 120, disagreementRatio: 0.15 };
const tenantId = randomUUID();

interface Calls {
  infer: { input: InferImageInput; attempt: number; at: number }[];
  record: { input: RecordSessionInput; at: number }[];
}

/**
 * Fake activities: inference answers from a table by media id; recording concludes with factor 1
 * and, like the real one (a closed session row is never concluded again), keeps its first answer.
 */
function fakeActivities(
  calls: Calls,
  opts: {
    estimates?: Record<string, Omit<ImageInference, 'mediaId' | 'modelId' | 'inferenceMs'>>;
    failFirst?: number;
    whileRecording?: () => Promise<void>;
  } = {},
): Activities {
  let concluded: SessionResult | undefined;
  return {
    async inferImage(input) {
      const attempt = Context.current().info.attempt;
      calls.infer.push({ input, attempt, at: await env.currentTimeMs() });
      if (opts.failFirst && attempt <= opts.failFirst) throw new Error(`model busy (attempt ${attempt})`);
      const e = opts.estimates?.[input.image.mediaId] ?? { estimatedWeightKg: 100, confidence: 0.9, qualityFlags: [] };
      if (e.estimatedWeightKg < 0) throw ActivityApplicationFailure.nonRetryable('not an image', 'ImageUndecodable');
      return { mediaId: input.image.mediaId, modelId: 'test-model', inferenceMs: 3, ...e };
    },
    async recordSession(input) {
      calls.record.push({ input, at: await env.currentTimeMs() });
      if (calls.record.length === 1) await opts.whileRecording?.();
      concluded ??= concludeSession({ ...input, calibrationFactor: 1 });
      return concluded;
    },
  };
}

interface DevicePlace {
  farmId: string;
  barnId: string;
  deviceId: string;
}

const home: DevicePlace = { farmId: 'farm-1', barnId: 'barn-2', deviceId: 'station-3' };

class Station {
  readonly topic = (step: WeighVisionTopic['step']): WeighVisionTopic => ({ family: 'weighvision', tenantId, ...this.at, sessionId: this.sessionId, step });
  /**
   * at: the device publishing (its topic's farm, barn and device); sessionId: the session it
   * names. signaller: one the caller keeps (a bridge process); by default a new one per event,
   * as if every event reached a freshly started bridge.
   */
  constructor(
    private readonly taskQueue: string,
    readonly at: DevicePlace = home,
    readonly sessionId = `S-${randomUUID().slice(0, 8)}`,
    private readonly kept?: SessionSignaller,
  ) {}

  /** Another device publishing with this session's id on its own topics. */
  other(at: Partial<DevicePlace>, kept?: SessionSignaller): Station {
    return new Station(this.taskQueue, { ...this.at, ...at }, this.sessionId, kept);
  }

  newSignaller(): SessionSignaller {
    return temporalSessionSignaller(env.client, { taskQueue: this.taskQueue, config });
  }

  get workflowId() {
    return weighVisionSessionWorkflowId(tenantId, this.sessionId);
  }

  get signaller() {
    return this.kept ?? this.newSignaller();
  }

  event(type: WeighVisionEvent['event_type'], payload: Record<string, unknown>, eventId: string = randomUUID()): WeighVisionEvent {
    return {
      schema_version: '1.0',
      event_id: eventId,
      trace_id: `trace-${this.sessionId}`,
      event_type: type,
      tenant_id: tenantId,
      device_id: this.at.deviceId,
      ts: new Date().toISOString(),
      payload,
    };
  }

  send(e: WeighVisionEvent) {
    const step =
      e.event_type === 'weighvision.session.created' ? 'created' : e.event_type === 'weighvision.session.finalized' ? 'finalized' : 'weight.recorded';
    return this.signaller.signal(this.topic(step), e);
  }

  created() {
    return this.send(this.event('weighvision.session.created', { batch_id: randomUUID() }));
  }
  weight(kg: number, stable?: boolean, eventId?: string) {
    return this.send(this.event('weighvision.weight.recorded', stable === undefined ? { weight_kg: kg } : { weight_kg: kg, stable }, eventId));
  }
  finalized(imageCount: number) {
    return this.send(this.event('weighvision.session.finalized', { image_count: imageCount }));
  }

  image(mediaId = randomUUID()): Promise<void> {
    const image: StoredImage = {
      mediaId,
      objectKey: `${tenantId}/farm-1/barn-2/station-3/${this.sessionId}/${mediaId}.jpg`,
      contentType: 'image/jpeg',
      sizeBytes: 1234,
      storedAt: new Date().toISOString(),
    };
    return env.client.workflow.getHandle(this.workflowId).signal(imageStoredSignal, image);
  }

  handle(): WorkflowHandle {
    return env.client.workflow.getHandle(this.workflowId);
  }
}

async function withWorker<T>(activities: Activities, fn: (station: Station) => Promise<T>): Promise<T> {
  const taskQueue = `weighvision-test-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  return worker.runUntil(fn(new Station(taskQueue)));
}

async function signalCount(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}

/**
 * The signals in the history once it holds at least `n` (a signal that arrives while a workflow
 * task runs is written to the history when that task completes).
 */
async function signalsOnceAtLeast(handle: WorkflowHandle, n: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const count = await signalCount(handle);
    if (count >= n || Date.now() > deadline) return count;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function statusAttribute(handle: WorkflowHandle): Promise<unknown> {
  const d = await handle.describe();
  return d.typedSearchAttributes.get(farmiqStatus);
}

describe('weighVisionSession', () => {
  it('concludes from out-of-order and duplicated events: each event once, scale median, vision estimate', async () => {
    const calls: Calls = { infer: [], record: [] };
    const [m1, m2, m3] = [randomUUID(), randomUUID(), randomUUID()];
    const estimates = {
      [m1]: { estimatedWeightKg: 101, confidence: 0.9, qualityFlags: [] },
      [m2]: { estimatedWeightKg: 99, confidence: 0.8, qualityFlags: ['blurred' as const] },
      [m3]: { estimatedWeightKg: 180, confidence: 0.9, qualityFlags: ['multiple_animals' as const] },
    };
    const result = await withWorker(fakeActivities(calls, { estimates }), async (station) => {
      const dup = randomUUID();
      // A reading before its session's `created`, and one reading delivered twice (QoS 1).
      expect(await station.weight(100.4, true, dup)).toBe('signalled');
      expect(await station.weight(100.4, true, dup)).toBe('signalled');
      await station.created();
      await station.weight(99.8, true);
      await station.weight(140, false); // the animal stepping off: unstable, not used
      await station.weight(100.2);
      await station.image(m1);
      await station.image(m1); // the media store re-signals on a repeated complete
      await station.image(m2);
      await station.finalized(3);
      await station.image(m3); // the last image may land after `finalized`
      const r = (await station.handle().result()) as SessionResult;
      await recordHistory(station.handle(), 'weighvision-session.out-of-order-duplicates');
      return r;
    });

    expect(result.status).toBe('finalized');
    expect(result.readingCount).toBe(4);
    expect(result.stableReadingCount).toBe(3);
    expect(result.scaleMedianKg).toBe(100.2);
    // Issue 10: an image saw two animals, so the scale (which may carry both) is vetoed; the weight
    // is the vision estimate of the one-animal images, median(101, 99) = 100 × factor 1, confidence
    // median(0.9, 0.8) = 0.85 ≥ 0.5. The two-animal image is not used; its flag is still reported.
    expect(result.weightKg).toBe(100);
    expect(result.weightSource).toBe('vision');
    expect(result.visionWeightKg).toBe(100);
    expect(result.qualityFlags).toEqual(['multiple_animals', 'blurred']);
    expect(result.imagesInferred).toBe(3);
    expect(result.missingImages).toBe(0);

    expect(calls.infer.map((c) => c.input.image.mediaId).sort()).toEqual([m1, m2, m3].sort());
    expect(calls.record).toHaveLength(1);
    const recorded = calls.record[0].input;
    expect(recorded.ending).toBe('finalized');
    expect(recorded.events.map((e) => e.event_type)).toEqual([
      'weighvision.weight.recorded',
      'weighvision.session.created',
      'weighvision.weight.recorded',
      'weighvision.weight.recorded',
      'weighvision.weight.recorded',
      'weighvision.session.finalized',
    ]);
    expect(new Set(recorded.events.map((e) => e.event_id)).size).toBe(6);
    // The bridge stamps where the event happened from the topic.
    for (const e of recorded.events) expect([e.farm_id, e.barn_id, e.session_id]).toEqual(['farm-1', 'barn-2', recorded.sessionId]);
    expect(recorded.imageCount).toBe(3);
  });

  it('answers the state query while collecting, and keeps FarmiqStatus in step', async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (station) => {
      await station.created();
      expect(await statusAttribute(station.handle())).toBe('created');
      const dup = randomUUID();
      await station.weight(88.5, true, dup);
      await station.weight(88.5, true, dup);
      await station.image();
      const state = await station.handle().query(sessionStateQuery);
      expect(state.status).toBe('collecting');
      expect(state.readings.map((r) => r.weightKg)).toEqual([88.5]);
      expect(state.duplicateEvents).toBe(1);
      expect(state.images).toHaveLength(1);
      expect(state.imageCount).toBeUndefined();
      expect([state.farmId, state.barnId, state.stationId]).toEqual(['farm-1', 'barn-2', 'station-3']);
      expect(await statusAttribute(station.handle())).toBe('collecting');

      await station.finalized(1);
      const result = (await station.handle().result()) as SessionResult;
      expect(result.weightKg).toBe(88.5);
      expect(await statusAttribute(station.handle())).toBe('finalized');
      const final = await station.handle().query(sessionStateQuery);
      expect(final.status).toBe('finalized');
      expect(final.result?.weightKg).toBe(88.5);
    });
  });

  it('concludes without the images that never arrive, after the configured wait', async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (station) => {
      await station.created();
      await station.weight(120, true);
      await station.image();
      await station.finalized(3);
      const started = await env.currentTimeMs();
      const result = (await station.handle().result()) as SessionResult;
      expect(result.status).toBe('finalized');
      expect(result.imagesInferred).toBe(1);
      expect(result.missingImages).toBe(2);
      expect(result.failureReason).toBe('2 of 3 announced images never arrived');
      // The time-skipping server jumped over the image wait.
      expect(calls.record[0].at - started).toBeGreaterThanOrEqual(config.imageWaitSeconds * 1000 - 1000);
    });
  });

  it('ends timed_out when finalized never comes, and still records the partial data', async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (station) => {
      await station.created();
      await station.weight(95, true);
      await station.image();
      const result = (await station.handle().result()) as SessionResult;
      expect(result.status).toBe('timed_out');
      expect(result.weightKg).toBe(95); // the partial data still says what the scale saw
      await recordHistory(station.handle(), 'weighvision-session.timed-out');
      const recorded = calls.record[0].input;
      expect(recorded.ending).toBe('timed_out');
      expect(recorded.events.map((e) => e.event_type)).toEqual(['weighvision.session.created', 'weighvision.weight.recorded']);
      expect(await statusAttribute(station.handle())).toBe('timed_out');
      // The timeout counts from the first event.
      const d = await station.handle().describe();
      expect(d.closeTime!.getTime() - d.startTime.getTime()).toBeGreaterThanOrEqual(config.finalizeTimeoutSeconds * 1000);
      // A late event of a closed session does not open a second one.
      expect(await station.weight(96, true)).toBe('session_closed');
    });
  });

  it('retries a failing inference on the 1 s, 2 s backoff and uses the image once it succeeds', async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls, { failFirst: 2 }), async (station) => {
      await station.created();
      await station.image();
      await station.finalized(1);
      const result = (await station.handle().result()) as SessionResult;
      expect(calls.infer.map((c) => c.attempt)).toEqual([1, 2, 3]);
      await recordHistory(station.handle(), 'weighvision-session.inference-retried');
      const gaps = [calls.infer[1].at - calls.infer[0].at, calls.infer[2].at - calls.infer[1].at];
      expect(gaps[0]).toBeGreaterThanOrEqual(1000);
      expect(gaps[1]).toBeGreaterThanOrEqual(2000);
      expect(result.imagesInferred).toBe(1);
      // No scale reading: the confident whole-animal vision estimate is the session weight.
      expect(result.weightSource).toBe('vision');
      expect(result.weightKg).toBe(100);
    });
  });

  it('fails a session with no weight, recorded as failed with the reason', async () => {
    const calls: Calls = { infer: [], record: [] };
    const empty = randomUUID();
    const broken = randomUUID();
    const estimates = {
      [empty]: { estimatedWeightKg: 0, confidence: 0.95, qualityFlags: ['empty_frame' as const] },
      [broken]: { estimatedWeightKg: -1, confidence: 0, qualityFlags: [] },
    };
    await withWorker(fakeActivities(calls, { estimates }), async (station) => {
      await station.created();
      await station.image(empty);
      await station.image(broken); // undecodable: non-retryable, one attempt
      await station.finalized(2);
      const err = await station
        .handle()
        .result()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toBe('no stable scale reading and no confident vision estimate of one whole animal');
      expect(calls.infer.filter((c) => c.input.image.mediaId === broken)).toHaveLength(1);
      expect(calls.record[0].input.estimates).toHaveLength(1);
      expect(calls.record[0].input.imagesStored).toBe(2);
      const state = await station.handle().query(sessionStateQuery);
      expect(state.status).toBe('failed');
      expect(state.images.find((i) => i.mediaId === broken)?.status).toBe('failed');
      expect(await statusAttribute(station.handle())).toBe('failed');
      await recordHistory(station.handle(), 'weighvision-session.failed');
    });
  });

  it('records an event that arrives while the session is being recorded', async () => {
    const calls: Calls = { infer: [], record: [] };
    let station!: Station;
    const late = randomUUID();
    const activities = fakeActivities(calls, {
      whileRecording: async () => {
        expect(await station.weight(101, true, late)).toBe('signalled');
      },
    });
    await withWorker(activities, async (s) => {
      station = s;
      await s.created();
      await s.weight(100, true);
      await s.finalized(0);
      const result = (await s.handle().result()) as SessionResult;
      expect(result.readingCount).toBe(1);
    });
    // The late event is recorded after the conclusion (a second call), and the conclusion stands.
    const lastCall = calls.record[calls.record.length - 1].input.events.map((e) => e.event_id);
    expect(lastCall).toContain(late);
    expect(calls.record[0].input.events.map((e) => e.event_id)).not.toContain(late);
  });
});

describe('a session belongs to the station that opened it', () => {
  it("ignores another device's readings and finalized on its own topic: session_not_owned, nothing changes", async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (owner) => {
      const neighbour = owner.other({ deviceId: 'sensor-7' }); // same farm and barn, its own topic
      const otherBarn = owner.other({ barnId: 'barn-9' }); // same device id in another barn
      const otherFarm = owner.other({ farmId: 'farm-5' });
      expect(await owner.created()).toBe('signalled');
      expect(await owner.weight(101.5, true)).toBe('signalled');

      expect(await neighbour.weight(4999, true)).toBe('session_not_owned');
      expect(await neighbour.finalized(0)).toBe('session_not_owned');
      expect(await otherBarn.weight(4998, true)).toBe('session_not_owned');
      expect(await otherFarm.send(otherFarm.event('weighvision.session.created', { batch_id: randomUUID() }))).toBe('session_not_owned');

      const state = await owner.handle().query(sessionStateQuery);
      expect(state.status).toBe('collecting'); // the neighbour's finalized did not close it
      expect(state.readings.map((r) => r.weightKg)).toEqual([101.5]);
      expect(state.imageCount).toBeUndefined();
      expect(state.notOwnedEvents).toBe(4);
      expect([state.farmId, state.barnId, state.stationId]).toEqual([home.farmId, home.barnId, home.deviceId]);
      const metadata = await owner.handle().query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('4 event(s) of other stations ignored');

      // The owner carries on and concludes with its own data only.
      expect(await owner.weight(100.5, true)).toBe('signalled');
      await owner.image();
      expect(await owner.finalized(1)).toBe('signalled');
      const result = (await owner.handle().result()) as SessionResult;
      await recordHistory(owner.handle(), 'weighvision-session.not-owned-events-ignored');
      expect(result.status).toBe('finalized');
      expect(result.readingCount).toBe(2);
      expect(result.scaleMedianKg).toBe(101);
      const recorded = calls.record.flatMap((c) => c.input.events);
      expect(recorded.map((e) => e.device_id)).toEqual([home.deviceId, home.deviceId, home.deviceId, home.deviceId]);
      expect(recorded.some((e) => e.payload.weight_kg !== undefined && e.payload.weight_kg > 4000)).toBe(false);
    });
  });

  it("refuses a known session's foreign event before it reaches Temporal", async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (owner) => {
      const bridge = owner.newSignaller(); // one bridge process carrying every device's events
      const ownerViaBridge = owner.other({}, bridge);
      const neighbour = owner.other({ deviceId: 'sensor-7' }, bridge);
      expect(await ownerViaBridge.created()).toBe('signalled');
      expect(await signalsOnceAtLeast(owner.handle(), 1)).toBe(1);
      expect(await neighbour.weight(4999, true)).toBe('session_not_owned');
      expect(await neighbour.finalized(0)).toBe('session_not_owned');
      expect(await ownerViaBridge.weight(90, true)).toBe('signalled');
      // The owner's reading, sent after the two foreign events, is the only signal since created:
      // the foreign ones never reached the history.
      expect(await signalsOnceAtLeast(owner.handle(), 2)).toBe(2);
      expect((await owner.handle().query(sessionStateQuery)).notOwnedEvents).toBe(0);
      await owner.handle().terminate('test over');
    });
  });

  it("is owned by its first event's device even when that event is a reading and created comes later", async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (owner) => {
      const squatter = owner.other({ deviceId: 'station-4' });
      const batch = randomUUID();
      expect(await owner.weight(77, true)).toBe('signalled'); // starts the workflow
      expect(await squatter.send(squatter.event('weighvision.session.created', { batch_id: randomUUID() }))).toBe('session_not_owned');
      expect(await owner.send(owner.event('weighvision.session.created', { batch_id: batch }))).toBe('signalled');
      const state = await owner.handle().query(sessionStateQuery);
      expect(state.batchId).toBe(batch);
      expect(state.stationId).toBe(home.deviceId);
      expect(await owner.finalized(0)).toBe('signalled');
      const result = (await owner.handle().result()) as SessionResult;
      expect(result.weightKg).toBe(77);
      expect(calls.record[0].input.batchId).toBe(batch);
    });
  });

  it('has exactly one owner when two stations open the same session id at once', async () => {
    const calls: Calls = { infer: [], record: [] };
    await withWorker(fakeActivities(calls), async (a) => {
      const b = a.other({ deviceId: 'station-4' });
      const outcomes = await Promise.all([a.created(), b.created()]);
      expect([...outcomes].sort()).toEqual(['session_not_owned', 'signalled']);
      const winner = outcomes[0] === 'signalled' ? a : b;
      const loser = winner === a ? b : a;
      const state = await a.handle().query(sessionStateQuery);
      expect(state.stationId).toBe(winner.at.deviceId);
      expect(await loser.weight(50, true)).toBe('session_not_owned');
      expect(await winner.weight(60, true)).toBe('signalled');
      expect((await a.handle().query(sessionStateQuery)).readings.map((r) => r.weightKg)).toEqual([60]);
      await a.handle().terminate('test over');
    });
  });
});
