/**
 * WeighVision benchmark (issue target):  npm run bench -- weighvision [--sessions 300] [--stations 12]
 *
 * Three measurements in one run, in this order, each on the same machine and Temporal server:
 *
 *   (i)  inference per image: the vision model (weighvision/vision/vision-model.ts, the ONNX file of
 *        VISION_MODEL_PATH) loaded in this process, estimate(bytes) — JPEG decode + resize (sharp)
 *        + model run — timed sequentially over the three normal fixture JPEGs after a warm-up;
 *   (ii) the engine limit: the same count of sessions, each with the same signals (5 device events
 *        by signalWithStart, 3 imageStored signals) and the same count of activities (3 inference +
 *        1 record, all no-ops) through the same Temporal dev server, with an empty workflow
 *        (bench/weighvision-engine-workflow.ts) on an in-process worker, sent with the same
 *        concurrency as the stations of (iii);
 *   (iii) the whole flow, every server process real and spawned as production runs it
 *        (node --import tsx <entry>): the edge worker (workers/edge/main.ts: session workflows,
 *        inferImage, recordSession), the MQTT bridge (gateways/mqtt-bridge/main.ts) and the edge HTTP
 *        gateway (gateways/http/edge-main.ts: presign/complete), with a private Mosquitto rendered
 *        from the project's config (test/support/broker.ts), the local S3 store (own bucket), a
 *        dedicated edge database (farmiq_edge_bench_weighvision, created + migrated, emptied at
 *        start and kept), a unique EDGE_ID and EDGE_TASK_QUEUE on the dev server's farmiq-edge
 *        namespace. K simulated stations (test/support/weighvision-station.ts) each weigh sessions
 *        back to back: created, 3 readings, 3 images uploaded concurrently (presign → PUT →
 *        complete), finalized.
 *
 * Reported: sessions/s of (iii) = sessions / (first `created` published → last session row
 * finalized, the row's updated_at); p50/p95/max of finalize → final row per session (the station's
 * clock just before it publishes `finalized` → the row's updated_at, both this machine's clock);
 * (iii) ÷ (ii); ms per image of (i); the edge worker's peak RSS (VmHWM); CPU seconds per process;
 * and the verdict against the targets: ≥ min(20 sessions/s, 70 % of the engine limit); p95
 * finalize → final ≤ 500 ms; ≤ 15 ms per image (p95) including decode.
 *
 * Each of (ii) and (iii) first runs one warm-up session per station (model load, JIT, connections),
 * not counted. Results: bench/results/weighvision-<time>.json. The processes' logs are written to a
 * temp dir, removed at the end unless KEEP_BENCH_LOGS=1.
 *
 * Cleanup: the processes get SIGTERM, the broker and its temp dir go, the edge id's schedules and
 * forwarder and any still-running session workflow are removed from Temporal, the run's uploads
 * are deleted from the bench bucket; the bench database is left as it is (emptied by the next run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { settings } from '../config/settings';
import { migrate } from '../db/migrate';
import { provisionDevice } from '../gateways/mqtt-bridge/broker/credentials';
import { objectStoreConfigFromSettings, s3ObjectStore } from '../weighvision/media/object-store';
import { farmiqBarn, farmiqFarm, farmiqStation, farmiqStatus, farmiqTenant } from '../domain/temporal/search-attributes';
import {
  syncForwarderWorkflowId,
  syncOutboxRetentionScheduleId,
  telemetryRollupsScheduleId,
  weighVisionSessionWorkflowId,
} from '../domain/temporal/workflow-ids';
import { VisionModel, visionModelConfig } from '../weighvision/vision/vision-model';
import { freshEdgeBundle } from '../test/integration/support';
import { freePort, startTestBroker, type TestBroker } from '../test/support/broker';
import { ensureDatabase } from '../test/support/databases';
import { FarmiqProcess } from '../test/support/processes';
import { repoRoot } from '../test/support/stack';
import { fixtureImages, SimulatedStation, type FixtureImage } from '../test/support/weighvision-station';
import type { EngineActivities, EngineSessionInput } from './weighvision-engine-workflow';
import { distribution, machine, processCpuSeconds, withDatabase } from './support/stats';

export interface WeighVisionBenchOptions {
  /** Measured sessions, in each of (ii) and (iii). */
  sessions: number;
  /** Simulated stations weighing at once (and the engine floor's concurrency). */
  stations: number;
  /** Sequential estimate() calls measured in (i). */
  inferenceRuns: number;
  /** Give up on (ii) or (iii) this many seconds after its last session was sent. */
  timeoutSeconds: number;
  /** More settings for the three spawned processes (e.g. BRIDGE_COMMIT_CONCURRENCY). */
  env: Record<string, string>;
  /** Poll interval of the session rows (ms); latency comes from the rows' updated_at, not from it. */
  pollMs: number;
}

const benchDatabase = 'farmiq_edge_bench_weighvision';
const benchBucket = 'farmiq-bench-weighvision';
const place = { farmId: 'bench-farm', barnId: 'barn-1' };
const imagesPerSession = 3;
const readingsPerSession = 3;
/** Signals per session: created + readings + finalized (device events) + images. */
const signalsPerSession = 1 + readingsPerSession + 1 + imagesPerSession;
const edgeTables = [
  'weighvision_session_events',
  'weighvision_weights',
  'inference_results',
  'media_objects',
  'station_calibrations',
  'weighvision_sessions',
  'sync_outbox',
  'ingress_dedupe',
  'telemetry_raw',
  'telemetry_rollup',
  'feed_intake_local',
  'feed_intake_dedupe',
  'ingress_rejects',
  'edge_devices',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmHWM / VmRSS of a process in MiB, from /proc/<pid>/status. */
function memoryOf(pid: number | undefined): { peakMiB: number; rssMiB: number } | null {
  if (!pid) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMiB: Math.round(kb('VmHWM') / 102.4) / 10, rssMiB: Math.round(kb('VmRSS') / 102.4) / 10 };
  } catch {
    return null;
  }
}

/** The three normal JPEG fixtures, as the stations upload them and the model reads them. */
function sessionImages(): FixtureImage[] {
  const images = fixtureImages()
    .filter((f) => f.trueFlags.length === 0 && f.contentType === 'image/jpeg')
    .slice(0, imagesPerSession);
  if (images.length !== imagesPerSession) throw new Error(`test/fixtures/weighvision holds ${images.length} normal JPEGs, need ${imagesPerSession}`);
  return images;
}

function readingsFor(images: FixtureImage[]) {
  const truth = images[0].trueWeightKg;
  return [
    { kg: truth + 0.4, stable: true },
    { kg: truth - 0.2, stable: true },
    { kg: truth, stable: true },
  ].slice(0, readingsPerSession);
}

/** Runs `count` jobs with `concurrency` loops, each taking the next index; the loops are the stations. */
async function inLoops(concurrency: number, count: number, job: (i: number, loop: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        await job(i, loop);
      }
    }),
  );
}

// ------------------------------------------------------------------------------------------------
// Where the time went: a sample of session histories
// ------------------------------------------------------------------------------------------------

/** temporal.api.enums.v1.EventType values read below. */
const eventType = {
  workflowTaskScheduled: 5,
  workflowTaskStarted: 6,
  workflowTaskCompleted: 7,
  activityScheduled: 10,
  activityStarted: 11,
  activityCompleted: 12,
  markerRecorded: 25,
  signaled: 26,
} as const;

/**
 * From the histories of up to `sample` sessions (spread over the run): the hop from the station's
 * `finalized` to the server storing that signal; each workflow task's queue time (scheduled →
 * picked up by the worker) and run time (picked up → completed); each activity type's queue and
 * run time; and from the stored `finalized` signal to the record activity being scheduled and
 * completed. Times are the server's event times (this machine's clock).
 */
async function whereTimeWent(client: Client, sessions: { workflowId: string; finalizedAt: number }[], recordActivity: string, sample = 25) {
  const step = Math.max(1, Math.floor(sessions.length / sample));
  const picked = sessions.filter((_, i) => i % step === 0).slice(0, sample);
  const acc = {
    stationFinalizedToSignalStoredMs: [] as number[],
    workflowTaskQueueMs: [] as number[],
    workflowTaskRunMs: [] as number[],
    activityQueueMs: {} as Record<string, number[]>,
    activityRunMs: {} as Record<string, number[]>,
    finalizedSignalToRecordScheduledMs: [] as number[],
    finalizedSignalToRecordCompletedMs: [] as number[],
    workflowTasksPerSession: [] as number[],
    /** Local activities (markers): from the stored `finalized` signal to the marker, by activity type. */
    localActivityDoneMs: {} as Record<string, number[]>,
  };
  const push = (into: Record<string, number[]>, key: string, v: number) => (into[key] ??= []).push(v);
  for (const { workflowId, finalizedAt } of picked) {
    let events;
    try {
      events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    } catch {
      continue;
    }
    const byId = new Map<number, (typeof events)[number]>();
    const at = (e: (typeof events)[number] | undefined) => (e ? tsToMs(e.eventTime) : NaN);
    const activityName = (scheduledId: unknown) => byId.get(Number(scheduledId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
    let finalizedSignal: number | undefined;
    let tasks = 0;
    for (const e of events) {
      byId.set(Number(e.eventId), e);
      switch (Number(e.eventType)) {
        case eventType.signaled: {
          const data = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
          try {
            if (data && (JSON.parse(Buffer.from(data).toString('utf8')) as { event_type?: string }).event_type === 'weighvision.session.finalized') {
              finalizedSignal ??= at(e);
              acc.stationFinalizedToSignalStoredMs.push(at(e) - finalizedAt);
            }
          } catch {
            // not JSON: not a device event
          }
          break;
        }
        case eventType.workflowTaskStarted:
          tasks += 1;
          acc.workflowTaskQueueMs.push(at(e) - at(byId.get(Number(e.workflowTaskStartedEventAttributes?.scheduledEventId))));
          break;
        case eventType.workflowTaskCompleted:
          acc.workflowTaskRunMs.push(at(e) - at(byId.get(Number(e.workflowTaskCompletedEventAttributes?.startedEventId))));
          break;
        case eventType.activityScheduled:
          if (
            finalizedSignal !== undefined &&
            e.activityTaskScheduledEventAttributes?.activityType?.name === recordActivity &&
            acc.finalizedSignalToRecordScheduledMs.length < acc.stationFinalizedToSignalStoredMs.length
          ) {
            acc.finalizedSignalToRecordScheduledMs.push(at(e) - finalizedSignal);
          }
          break;
        case eventType.markerRecorded: {
          // A local activity's result: its marker is written when the workflow task that ran it completes.
          const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
          let name = '?';
          try {
            name = (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { activity_type?: string }).activity_type ?? '?';
          } catch {
            // not a local activity marker
          }
          push(acc.localActivityDoneMs, name, finalizedSignal === undefined ? NaN : at(e) - finalizedSignal);
          if (
            name === recordActivity &&
            finalizedSignal !== undefined &&
            acc.finalizedSignalToRecordCompletedMs.length < acc.stationFinalizedToSignalStoredMs.length
          ) {
            acc.finalizedSignalToRecordCompletedMs.push(at(e) - finalizedSignal);
          }
          break;
        }
        case eventType.activityStarted: {
          const a = e.activityTaskStartedEventAttributes;
          push(acc.activityQueueMs, activityName(a?.scheduledEventId), at(e) - at(byId.get(Number(a?.scheduledEventId))));
          break;
        }
        case eventType.activityCompleted: {
          const a = e.activityTaskCompletedEventAttributes;
          const name = activityName(a?.scheduledEventId);
          push(acc.activityRunMs, name, at(e) - at(byId.get(Number(a?.startedEventId))));
          if (
            name === recordActivity &&
            finalizedSignal !== undefined &&
            acc.finalizedSignalToRecordCompletedMs.length < acc.stationFinalizedToSignalStoredMs.length
          ) {
            acc.finalizedSignalToRecordCompletedMs.push(at(e) - finalizedSignal);
          }
          break;
        }
      }
    }
    acc.workflowTasksPerSession.push(tasks);
  }
  const d = (o: Record<string, number[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, distribution(v)]));
  return {
    sessionsSampled: acc.workflowTasksPerSession.length,
    stationFinalizedToSignalStoredMs: distribution(acc.stationFinalizedToSignalStoredMs),
    finalizedSignalToRecordScheduledMs: distribution(acc.finalizedSignalToRecordScheduledMs),
    finalizedSignalToRecordCompletedMs: distribution(acc.finalizedSignalToRecordCompletedMs),
    workflowTaskQueueMs: distribution(acc.workflowTaskQueueMs),
    workflowTaskRunMs: distribution(acc.workflowTaskRunMs),
    workflowTasksPerSession: distribution(acc.workflowTasksPerSession),
    activityQueueMs: d(acc.activityQueueMs),
    activityRunMs: d(acc.activityRunMs),
    localActivityMarkers: Object.fromEntries(Object.entries(acc.localActivityDoneMs).map(([k, v]) => [k, v.length])),
  };
}

type TimeBreakdown = Awaited<ReturnType<typeof whereTimeWent>>;

function breakdownLine(b: TimeBreakdown): string {
  const pp = (x: { p50: number; p95: number }) => `${Math.round(x.p50)}/${Math.round(x.p95)}`;
  return (
    `finalized → signal stored ${pp(b.stationFinalizedToSignalStoredMs)}, signal → record scheduled ${b.finalizedSignalToRecordScheduledMs.n ? pp(b.finalizedSignalToRecordScheduledMs) : 'n/a (local)'}, ` +
    `→ record done ${pp(b.finalizedSignalToRecordCompletedMs)}; workflow task queue ${pp(b.workflowTaskQueueMs)}, run ${pp(b.workflowTaskRunMs)} ` +
    `(${b.workflowTasksPerSession.p50} per session); ` +
    Object.keys(b.activityQueueMs)
      .map((k) => `${k} queue ${pp(b.activityQueueMs[k])}, run ${pp(b.activityRunMs[k] ?? { p50: NaN, p95: NaN })}`)
      .join('; ') +
    Object.keys(b.localActivityMarkers)
      .map((k) => `local ${k} × ${b.localActivityMarkers[k]}`)
      .join(', ') +
    ` (p50/p95 ms, ${b.sessionsSampled} sessions sampled)`
  );
}

// ------------------------------------------------------------------------------------------------
// (i) inference per image
// ------------------------------------------------------------------------------------------------

async function measureInference(runs: number, images: FixtureImage[]) {
  const s = settings();
  const model = await VisionModel.load(visionModelConfig(s));
  try {
    for (let i = 0; i < 30; i++) await model.estimate(images[i % images.length].bytes);
    const wall: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const e = await model.estimate(images[i % images.length].bytes);
      wall.push(performance.now() - t);
      reported.push(e.inferenceMs);
    }
    return {
      modelPath: s.VISION_MODEL_PATH,
      modelId: model.modelId,
      inputSize: s.VISION_INPUT_SIZE,
      imageBytes: images.map((i) => i.bytes.byteLength),
      ms: distribution(wall),
      modelReportedMs: distribution(reported),
    };
  } finally {
    await model.close();
  }
}

// ------------------------------------------------------------------------------------------------
// (ii) engine limit
// ------------------------------------------------------------------------------------------------

interface EngineResult {
  sessions: number;
  seconds: number;
  sessionsPerSecond: number;
  finalizeToRecordMs: ReturnType<typeof distribution>;
  /** Round trips seen by the sending client: signalWithStart (device events), signal (images). */
  callMs: { signalWithStart: ReturnType<typeof distribution>; signal: ReturnType<typeof distribution> };
  /** From a sample of the sessions' histories. */
  timeline: TimeBreakdown;
  failures: string[];
}

async function measureEngine(
  opts: WeighVisionBenchOptions,
  address: string,
  namespace: string,
  images: FixtureImage[],
  runId: string,
  kind: EngineSessionInput['kind'],
): Promise<EngineResult> {
  const tenantId = randomUUID();
  const taskQueue = `bench-weighvision-engine-${kind}-${runId}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  const recordedAt = new Map<string, number>();
  const activities: EngineActivities = {
    async engineInference() {},
    async engineRecord(sessionId) {
      recordedAt.set(sessionId, Date.now());
    },
  };
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./weighvision-engine-workflow'), logger: new DefaultLogger('ERROR') }),
    activities,
  });
  const running = worker.run();
  const failures: string[] = [];
  const callMs = { signalWithStart: [] as number[], signal: [] as number[] };
  const timed = async <T>(into: number[], call: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const r = await call();
    into.push(performance.now() - t);
    return r;
  };
  try {
    const readings = readingsFor(images);
    // The same requests the bridge (signalWithStart with the session's search attributes) and the
    // media store (signal) send, carrying envelopes of the same shape and size.
    const envelope = (sessionId: string, stationId: string, type: string, payload: object) => ({
      schema_version: '1.0',
      event_id: randomUUID(),
      trace_id: `trace-${sessionId}`,
      event_type: type,
      tenant_id: tenantId,
      device_id: stationId,
      ts: new Date().toISOString(),
      farm_id: place.farmId,
      barn_id: place.barnId,
      session_id: sessionId,
      payload,
    });
    const deviceEvent = (sessionId: string, stationId: string, event: object) =>
      timed(callMs.signalWithStart, () =>
        client.workflow.signalWithStart('weighVisionEngineSession', {
          workflowId: weighVisionSessionWorkflowId(tenantId, sessionId),
          taskQueue,
          args: [{ sessionId, expectedSignals: signalsPerSession, kind } satisfies EngineSessionInput],
          signal: 'sessionEvent',
          signalArgs: [event],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: farmiqTenant, value: tenantId },
            { key: farmiqFarm, value: place.farmId },
            { key: farmiqBarn, value: place.barnId },
            { key: farmiqStation, value: stationId },
            { key: farmiqStatus, value: 'created' },
          ],
          staticSummary: `WeighVision engine floor session ${sessionId} — station ${stationId}`,
        }),
      );
    const session = async (sessionId: string, stationId: string): Promise<number> => {
      await deviceEvent(sessionId, stationId, envelope(sessionId, stationId, 'weighvision.session.created', { batch_id: randomUUID() }));
      for (const r of readings)
        await deviceEvent(sessionId, stationId, envelope(sessionId, stationId, 'weighvision.weight.recorded', { weight_kg: r.kg, stable: r.stable }));
      const handle = client.workflow.getHandle(weighVisionSessionWorkflowId(tenantId, sessionId));
      await Promise.all(
        images.map((img) => {
          const mediaId = randomUUID();
          return timed(callMs.signal, () =>
            handle.signal('imageStored', {
              mediaId,
              objectKey: `${tenantId}/${place.farmId}/${place.barnId}/${stationId}/${sessionId}/${mediaId}.jpg`,
              contentType: img.contentType,
              sizeBytes: img.bytes.byteLength,
              storedAt: new Date().toISOString(),
              traceId: `trace-${sessionId}`,
            }),
          );
        }),
      );
      const finalizedAt = Date.now();
      await deviceEvent(sessionId, stationId, envelope(sessionId, stationId, 'weighvision.session.finalized', { image_count: images.length }));
      return finalizedAt;
    };
    const waitRecorded = async (ids: string[], sentDone: number) => {
      const deadline = sentDone + opts.timeoutSeconds * 1000;
      while (ids.some((id) => !recordedAt.has(id))) {
        if (Date.now() > deadline) return false;
        await sleep(5);
      }
      return true;
    };

    // Warm-up: one session per station.
    const warm = Array.from({ length: opts.stations }, (_, k) => `W-${runId}-${k}`);
    await Promise.all(warm.map((id, k) => session(id, `wv-${k}`)));
    if (!(await waitRecorded(warm, Date.now()))) throw new Error('engine warm-up sessions did not complete');

    const finalizedAt = new Map<string, number>();
    const ids = Array.from({ length: opts.sessions }, (_, i) => `S-${runId}-${i}`);
    callMs.signalWithStart.length = 0;
    callMs.signal.length = 0;
    const t0 = Date.now();
    await inLoops(opts.stations, opts.sessions, async (i, loop) => {
      try {
        finalizedAt.set(ids[i], await session(ids[i], `wv-${loop}`));
      } catch (err) {
        failures.push(`${ids[i]}: ${(err as Error).message}`);
      }
    });
    await waitRecorded([...finalizedAt.keys()], Date.now());
    const done = ids.filter((id) => recordedAt.has(id));
    for (const id of ids) if (finalizedAt.has(id) && !recordedAt.has(id)) failures.push(`${id}: not recorded within ${opts.timeoutSeconds} s`);
    const t1 = Math.max(...done.map((id) => recordedAt.get(id)!));
    const seconds = (t1 - t0) / 1000;
    const timeline = await whereTimeWent(
      client,
      done.map((id) => ({ workflowId: weighVisionSessionWorkflowId(tenantId, id), finalizedAt: finalizedAt.get(id)! })),
      'engineRecord',
    );
    return {
      timeline,
      sessions: done.length,
      seconds,
      sessionsPerSecond: done.length / seconds,
      finalizeToRecordMs: distribution(done.map((id) => recordedAt.get(id)! - finalizedAt.get(id)!)),
      callMs: { signalWithStart: distribution(callMs.signalWithStart), signal: distribution(callMs.signal) },
      failures,
    };
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await nativeConnection.close().catch(() => undefined);
    // Anything left running (a failed run) is ended; completed ones stay in history as usual.
    await terminateRunning(client, `weighvision-session/${tenantId}/`, 'engine floor benchmark over');
    await connection.close().catch(() => undefined);
  }
}

async function terminateRunning(client: Client, idPrefix: string, reason: string): Promise<number> {
  let n = 0;
  try {
    for await (const run of client.workflow.list({ query: `WorkflowId STARTS_WITH '${idPrefix}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(run.workflowId)
        .terminate(reason)
        .catch(() => undefined);
      n++;
    }
  } catch {
    // visibility not answering: nothing more to do from here
  }
  return n;
}

// ------------------------------------------------------------------------------------------------
// (iii) the whole flow
// ------------------------------------------------------------------------------------------------

interface FlowStack {
  broker: TestBroker;
  edgeWorker: FarmiqProcess;
  bridge: FarmiqProcess;
  edgeHttp: FarmiqProcess;
  stations: SimulatedStation[];
  processes(): FarmiqProcess[];
}

async function startFlowStack(
  pool: Pool,
  dbUrl: string,
  opts: WeighVisionBenchOptions,
  tenantId: string,
  ids: { edgeId: string; taskQueue: string },
  dir: string,
): Promise<FlowStack> {
  const s = settings();
  const broker = await startTestBroker({ pool });
  const credentials = [];
  for (let k = 0; k < opts.stations; k++) {
    credentials.push(await provisionDevice(pool, { tenantId, ...place, deviceId: `wv-${k}`, kind: 'weighvision-station' }));
  }
  await broker.reload();
  await freshEdgeBundle(); // production runs the prebuilt bundle: rebuild it if a workflow source is newer

  const [workerPort, bridgePort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const common: Record<string, string> = {
    LOG_LEVEL: 'warn',
    EDGE_ID: ids.edgeId,
    EDGE_TASK_QUEUE: ids.taskQueue,
    EDGE_DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: s.TEMPORAL_ADDRESS,
    TEMPORAL_EDGE_NAMESPACE: s.TEMPORAL_EDGE_NAMESPACE,
    S3_BUCKET: benchBucket,
    DEPENDENCY_WAIT_SECONDS: '60',
    SHUTDOWN_GRACE_SECONDS: '15',
    ...opts.env,
  };
  const proc = (name: string, entry: string, env: Record<string, string>, healthUrl: string) =>
    new FarmiqProcess({ name, entry, env: { ...common, ...env }, healthUrl, logFile: path.join(dir, `${name}.log`) });
  const edgeWorker = proc('edge-worker', 'workers/edge/main.ts', { EDGE_WORKER_HEALTH_PORT: String(workerPort) }, `http://127.0.0.1:${workerPort}/health`);
  const bridge = proc(
    'mqtt-bridge',
    'gateways/mqtt-bridge/main.ts',
    {
      MQTT_URL: broker.url,
      MQTT_BRIDGE_USERNAME: broker.bridge.username,
      MQTT_BRIDGE_PASSWORD: broker.bridge.password,
      MQTT_BRIDGE_CLIENT_ID: `farmiq-bench-bridge-${ids.edgeId}`,
      BRIDGE_HEALTH_PORT: String(bridgePort),
    },
    `http://127.0.0.1:${bridgePort}/health`,
  );
  // Stations talk to the station listener; the operator listener gets a port of its own.
  const edgeHttp = proc(
    'edge-http',
    'gateways/http/edge-main.ts',
    { EDGE_STATION_HTTP_PORT: String(httpPort), EDGE_HTTP_PORT: String(await freePort()) },
    `http://127.0.0.1:${httpPort}/health`,
  );
  const stack: FlowStack = { broker, edgeWorker, bridge, edgeHttp, stations: [], processes: () => [edgeWorker, bridge, edgeHttp] };
  try {
    await Promise.all([edgeWorker.start(), bridge.start(), edgeHttp.start()]);
    for (let k = 0; k < opts.stations; k++) {
      const station = new SimulatedStation({
        mqttUrl: broker.url,
        httpBase: `http://127.0.0.1:${httpPort}`,
        address: { tenantId, ...place, deviceId: `wv-${k}` },
        credentials: credentials[k],
      });
      await station.connect();
      stack.stations.push(station);
    }
  } catch (err) {
    await stopFlowStack(stack);
    throw err;
  }
  return stack;
}

async function stopFlowStack(stack: FlowStack): Promise<void> {
  for (const st of stack.stations) await st.close().catch(() => undefined);
  // Gracefully, as systemd would; SIGKILL after 30 s (FarmiqProcess.stop).
  await Promise.all(stack.processes().map((p) => p.stop().catch(() => p.kill9())));
  await stack.broker.stop().catch(() => undefined);
}

/** What each step of a station's session took, as the station saw it (ms). */
class StepTimings {
  readonly steps: Record<'created' | 'reading' | 'finalized' | 'presign' | 'put' | 'complete' | 'upload' | 'session', number[]> = {
    created: [],
    reading: [],
    finalized: [],
    presign: [],
    put: [],
    complete: [],
    upload: [],
    session: [],
  };

  reset(): void {
    for (const v of Object.values(this.steps)) v.length = 0;
  }

  async time<T>(step: keyof StepTimings['steps'], work: () => Promise<T>): Promise<T> {
    const t = performance.now();
    const r = await work();
    this.steps[step].push(performance.now() - t);
    return r;
  }

  summary() {
    return Object.fromEntries(Object.entries(this.steps).map(([k, v]) => [k, distribution(v)]));
  }
}

interface SessionRow {
  session_id: string;
  status: string;
  updated_ms: number;
  images_inferred: number;
}

/**
 * Polls the bench database for the closed rows of `pending` sessions (those whose `finalized` was
 * published and whose row was not seen yet); one query per round for all of them.
 */
class RowWatcher {
  readonly rows = new Map<string, SessionRow & { observedMs: number }>();
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly tenantId: string,
    private readonly pending: () => string[],
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.poll().catch((err: Error) => {
          if (!this.stopped) console.warn(`\n    session row poll failed: ${err.message}`);
        });
        await sleep(this.everyMs);
      }
    })();
  }

  async poll(): Promise<void> {
    const ids = this.pending().filter((id) => !this.rows.has(id));
    if (ids.length === 0) return;
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT session_id, status, (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms, images_inferred
         FROM weighvision_sessions
        WHERE tenant_id = $1 AND session_id = ANY($2::text[]) AND status IN ('finalized', 'timed_out', 'failed')`,
      [this.tenantId, ids],
    );
    const now = Date.now();
    for (const r of rows) this.rows.set(r.session_id, { ...r, observedMs: now });
  }

  async until(ids: string[], deadline: number): Promise<boolean> {
    while (ids.some((id) => !this.rows.has(id))) {
      if (Date.now() > deadline) return false;
      await sleep(this.everyMs);
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

function cpuSnapshot(stack: FlowStack) {
  return {
    edgeWorker: stack.edgeWorker.cpuSeconds(),
    bridge: stack.bridge.cpuSeconds(),
    edgeHttp: stack.edgeHttp.cpuSeconds(),
    benchProcess: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    postgres: processCpuSeconds('postgres'),
    temporal: processCpuSeconds('temporal'),
    mosquitto: processCpuSeconds('mosquitto'),
    rclone: processCpuSeconds('rclone'),
  };
}

/** Removes this run's uploads from the bench bucket (the bucket itself stays). */
async function deleteUploads(prefix: string): Promise<number> {
  const c = objectStoreConfigFromSettings(settings());
  const s3 = new S3Client({
    endpoint: c.endpoint,
    region: c.region,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    forcePathStyle: true,
  });
  let deleted = 0;
  try {
    for (;;) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: benchBucket, Prefix: prefix, MaxKeys: 1000 }));
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: benchBucket, Delete: { Objects: keys, Quiet: true } }));
      deleted += keys.length;
      if (!listed.IsTruncated) break;
    }
  } finally {
    s3.destroy();
  }
  return deleted;
}

// ------------------------------------------------------------------------------------------------

export async function benchWeighVision(opts: WeighVisionBenchOptions): Promise<void> {
  const s = settings();
  const facts = machine();
  const runId = Date.now().toString(36);
  const images = sessionImages();
  console.log(
    `weighvision bench: ${opts.sessions} sessions × (${readingsPerSession} readings, ${imagesPerSession} images) from ${opts.stations} stations; ` +
      `${facts.cpus} × ${facts.cpuModel}; load average at start ${facts.loadAverageAtStart.join(' ')}`,
  );

  // (i)
  console.log(`\n(i) inference per image (decode + resize + model), ${opts.inferenceRuns} sequential runs over ${images.length} JPEGs after 30 warm-up runs`);
  const inference = await measureInference(opts.inferenceRuns, images);
  console.log(`    p50 ${inference.ms.p50} ms, p95 ${inference.ms.p95} ms, mean ${inference.ms.mean} ms, max ${inference.ms.max} ms`);

  // (ii)
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const namespace = s.TEMPORAL_EDGE_NAMESPACE;
  {
    const probe = await Connection.connect({ address: s.TEMPORAL_ADDRESS, connectTimeout: '5s' }).catch((err: Error) => {
      throw new Error(`no Temporal at ${s.TEMPORAL_ADDRESS} (make services): ${err.message}`);
    });
    await probe.workflowService.describeNamespace({ namespace }).finally(() => probe.close());
  }
  console.log(
    `\n(ii) engine limit: ${opts.sessions} empty sessions (${signalsPerSession} signals, ${imagesPerSession + 1} no-op activities each), ${opts.stations} at once`,
  );
  const engine = await measureEngine(opts, s.TEMPORAL_ADDRESS, namespace, images, runId, 'activity');
  console.log(
    `    regular activities: ${engine.sessionsPerSecond.toFixed(1)} sessions/s (${engine.sessions} in ${engine.seconds.toFixed(2)} s); finalized → record p50 ${engine.finalizeToRecordMs.p50} ms, p95 ${engine.finalizeToRecordMs.p95} ms; failures ${engine.failures.length}`,
  );
  const engineLocal = await measureEngine(opts, s.TEMPORAL_ADDRESS, namespace, images, `${runId}l`, 'local');
  console.log(
    `    local activities:   ${engineLocal.sessionsPerSecond.toFixed(1)} sessions/s (${engineLocal.sessions} in ${engineLocal.seconds.toFixed(2)} s); finalized → record p50 ${engineLocal.finalizeToRecordMs.p50} ms, p95 ${engineLocal.finalizeToRecordMs.p95} ms; failures ${engineLocal.failures.length}`,
  );

  // (iii)
  const dbUrl = withDatabase(s.EDGE_DATABASE_URL, benchDatabase);
  await ensureDatabase(dbUrl);
  await migrate('edge', dbUrl);
  const pool = new Pool({ connectionString: dbUrl, max: 4, application_name: 'farmiq-bench-weighvision' });
  const tenantId = randomUUID();
  const ids = { edgeId: `edge-bench-wv-${runId}`, taskQueue: `bench-weighvision-${runId}` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-bench-weighvision-'));
  let stack: FlowStack | undefined;
  let connection: Connection | undefined;
  let watcher: RowWatcher | undefined;
  try {
    await pool.query(`TRUNCATE ${edgeTables.join(', ')} CASCADE`);
    const store = s3ObjectStore({ ...objectStoreConfigFromSettings(settings()), bucket: benchBucket });
    await store.ensureBucket();
    store.close();

    connection = await Connection.connect({ address: s.TEMPORAL_ADDRESS });
    console.log(`\n(iii) whole flow: starting the edge worker, MQTT bridge and edge HTTP gateway (logs in ${dir})`);
    stack = await startFlowStack(pool, dbUrl, opts, tenantId, ids, dir);
    const st = stack;
    const readings = readingsFor(images);

    const finalizedAt = new Map<string, number>();
    const failures: string[] = [];
    const rowWatcher = (watcher = new RowWatcher(pool, tenantId, () => [...finalizedAt.keys()], opts.pollMs));
    rowWatcher.start();
    const steps = new StepTimings();
    const weigh = async (sessionId: string, station: SimulatedStation) => {
      try {
        finalizedAt.set(
          sessionId,
          (await steps.time('session', () => station.weigh(sessionId, readings, images, (step, work) => steps.time(step, work)))).finalizedAt,
        );
      } catch (err) {
        failures.push(`${sessionId}: ${(err as Error).message}`);
      }
    };

    // Warm-up: one session per station (the worker loads the model on its first inference).
    const warm = st.stations.map((_, k) => `W-${runId}-${k}`);
    await Promise.all(warm.map((id, k) => weigh(id, st.stations[k])));
    if (failures.length || !(await rowWatcher.until(warm, Date.now() + opts.timeoutSeconds * 1000))) {
      throw new Error(
        `warm-up sessions did not finalize: ${failures.join('; ')}\n${st
          .processes()
          .map((p) => `--- ${p.opts.name} ---\n${p.tail(20)}`)
          .join('\n')}`,
      );
    }
    console.log(`    warm-up: ${warm.length} sessions finalized`);

    const sessionIds = Array.from({ length: opts.sessions }, (_, i) => `S-${runId}-${i}`);
    steps.reset();
    const cpu0 = cpuSnapshot(st);
    const t0 = Date.now();
    let progress = 0;
    const ticker = setInterval(() => {
      const n = sessionIds.filter((id) => rowWatcher.rows.has(id)).length;
      if (n !== progress)
        process.stdout.write(
          `\r    t=${((Date.now() - t0) / 1000).toFixed(0)}s  finalized ${finalizedAt.size - warm.length}/${opts.sessions} published, ${(progress = n)} rows final   `,
        );
    }, 1000);
    await inLoops(opts.stations, opts.sessions, (i, loop) => weigh(sessionIds[i], st.stations[loop]));
    const sentAt = Date.now();
    const complete = await rowWatcher.until(
      sessionIds.filter((id) => finalizedAt.has(id)),
      sentAt + opts.timeoutSeconds * 1000,
    );
    clearInterval(ticker);
    await rowWatcher.stop();
    const cpu1 = cpuSnapshot(st);
    process.stdout.write('\n');

    const memory = { edgeWorker: memoryOf(st.edgeWorker.pid), bridge: memoryOf(st.bridge.pid), edgeHttp: memoryOf(st.edgeHttp.pid) };
    const rows = sessionIds.map((id) => rowWatcher.rows.get(id)).filter((r): r is NonNullable<typeof r> => !!r);
    const finalized = rows.filter((r) => r.status === 'finalized');
    for (const id of sessionIds) {
      const r = rowWatcher.rows.get(id);
      if (finalizedAt.has(id) && !r) failures.push(`${id}: no closed session row within ${opts.timeoutSeconds} s of the last session`);
      else if (r && r.status !== 'finalized') failures.push(`${id}: session row ${r.status}`);
    }
    if (finalized.length === 0) {
      throw new Error(
        `no session finalized: ${failures.slice(0, 5).join('; ')}\n${st
          .processes()
          .map((p) => `--- ${p.opts.name} ---\n${p.tail(20)}`)
          .join('\n')}`,
      );
    }
    const degraded = finalized.filter((r) => r.images_inferred !== imagesPerSession).length;
    const t1 = Math.max(...finalized.map((r) => r.updated_ms));
    const seconds = (t1 - t0) / 1000;
    const rate = finalized.length / seconds;
    const latency = distribution(finalized.map((r) => r.updated_ms - finalizedAt.get(r.session_id)!));
    const observed = distribution(finalized.map((r) => r.observedMs - finalizedAt.get(r.session_id)!));
    const { rows: workerInference } = await pool.query<{ ms: number }>(
      `SELECT inference_ms::float8 AS ms FROM inference_results WHERE tenant_id = $1 AND session_id LIKE $2`,
      [tenantId, `S-${runId}-%`],
    );
    const { rows: outbox } = await pool.query<{ event_type: string; n: string }>(
      `SELECT event_type, count(*) AS n FROM sync_outbox WHERE tenant_id = $1 AND envelope->>'session_id' LIKE $2 GROUP BY event_type ORDER BY event_type`,
      [tenantId, `S-${runId}-%`],
    );
    // Refusals during the measured sessions (the warm-up was over before t0). session_not_found:
    // a presign that came before the bridge had signalled `created`, retried by the station.
    const { rows: rejects } = await pool.query<{ reason: string; n: string }>(
      `SELECT reason, count(*) AS n FROM ingress_rejects WHERE received_at >= $1 GROUP BY reason ORDER BY reason`,
      [new Date(t0)],
    );
    const timeline = await whereTimeWent(
      new Client({ connection, namespace }),
      finalized.map((r) => ({ workflowId: weighVisionSessionWorkflowId(tenantId, r.session_id), finalizedAt: finalizedAt.get(r.session_id)! })),
      'recordSession',
    );
    const cpu = Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, Math.round((v - cpu0[k as keyof typeof cpu0]) * 100) / 100]));

    const ratio = rate / engine.sessionsPerSecond;
    // Like for like: the engine with local no-op activities, the kind the session workflow uses.
    const ratioLocal = rate / engineLocal.sessionsPerSecond;
    const rateTarget = Math.min(20, 0.7 * engine.sessionsPerSecond);
    const verdict = {
      throughput: { target: `≥ min(20, 0.7 × engine ${engine.sessionsPerSecond.toFixed(1)}) = ${rateTarget.toFixed(1)} sessions/s`, met: rate >= rateTarget },
      finalizeLatencyP95: { target: '≤ 500 ms', met: latency.p95 <= 500 },
      inferencePerImageP95: { target: '≤ 15 ms (p95, decode + resize + model)', met: inference.ms.p95 <= 15 },
      failures: { target: '0', met: failures.length === 0 && engine.failures.length === 0 && engineLocal.failures.length === 0 && complete },
    };

    const result = {
      benchmark: 'weighvision',
      at: new Date().toISOString(),
      machine: { ...facts, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) },
      parameters: {
        sessions: opts.sessions,
        stations: opts.stations,
        imagesPerSession,
        readingsPerSession,
        inferenceRuns: opts.inferenceRuns,
        pollMs: opts.pollMs,
        env: opts.env,
        images: images.map((i) => i.file),
      },
      inference,
      engine,
      engineLocal,
      wholeFlow: {
        sessions: finalized.length,
        seconds,
        sessionsPerSecond: rate,
        firstCreatedAt: new Date(t0).toISOString(),
        lastRowAt: new Date(t1).toISOString(),
        finalizeToRowMs: latency,
        finalizeToRowObservedMs: observed,
        stationStepMs: steps.summary(),
        timeline,
        sessionsWithoutAllImagesInferred: degraded,
        workerInferenceMs: distribution(workerInference.map((r) => r.ms)),
        outboxEvents: Object.fromEntries(outbox.map((r) => [r.event_type, Number(r.n)])),
        ingressRejects: Object.fromEntries(rejects.map((r) => [r.reason, Number(r.n)])),
        cpuSeconds: cpu,
        memory,
        failures,
      },
      ratio,
      ratioLocal,
      verdict,
    };
    const resultsDir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `weighvision-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

    const yes = (b: boolean) => (b ? 'met' : 'NOT met');
    const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
    console.log(
      [
        '',
        `(iii) whole flow                 : ${f1(rate)} sessions/s (${finalized.length} sessions in ${seconds.toFixed(2)} s, first created → last final row)`,
        `      finalized → final row      : p50 ${latency.p50} ms, p95 ${latency.p95} ms, max ${latency.max} ms (row updated_at; as polled every ${opts.pollMs} ms: p95 ${observed.p95} ms)`,
        `      failures                   : ${failures.length}${failures.length ? ` (${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '; …' : ''})` : ''}; sessions with < ${imagesPerSession} images inferred: ${degraded}`,
        `      station steps, p50 / p95 ms: ${Object.entries(result.wholeFlow.stationStepMs)
          .map(([k, d]) => `${k} ${Math.round(d.p50)}/${Math.round(d.p95)}`)
          .join(', ')}`,
        `      ingress rejects            : ${JSON.stringify(result.wholeFlow.ingressRejects)} (session_not_found: presigns before the session existed, retried by the station)`,
        `      where the time went        : ${breakdownLine(timeline)}`,
        `      worker's own inference_ms  : p50 ${result.wholeFlow.workerInferenceMs.p50} ms, p95 ${result.wholeFlow.workerInferenceMs.p95} ms (under load, as stored in inference_results)`,
        `      outbox events              : ${JSON.stringify(result.wholeFlow.outboxEvents)}`,
        `      CPU s during the run       : ${Object.entries(cpu)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} (of ${(seconds * facts.cpus).toFixed(1)} available)`,
        `      peak memory (VmHWM)        : edge worker ${memory.edgeWorker?.peakMiB ?? '?'} MiB, bridge ${memory.bridge?.peakMiB ?? '?'} MiB, edge HTTP ${memory.edgeHttp?.peakMiB ?? '?'} MiB`,
        `(ii) engine limit                : ${f1(engine.sessionsPerSecond)} sessions/s (finalized → record p50 ${engine.finalizeToRecordMs.p50} ms, p95 ${engine.finalizeToRecordMs.p95} ms; ` +
          `signalWithStart p50/p95 ${Math.round(engine.callMs.signalWithStart.p50)}/${Math.round(engine.callMs.signalWithStart.p95)} ms, signal ${Math.round(engine.callMs.signal.p50)}/${Math.round(engine.callMs.signal.p95)} ms)`,
        `      where the time went        : ${breakdownLine(engine.timeline)}`,
        `(ii') engine, local activities   : ${f1(engineLocal.sessionsPerSecond)} sessions/s (finalized → record p50 ${engineLocal.finalizeToRecordMs.p50} ms, p95 ${engineLocal.finalizeToRecordMs.p95} ms)`,
        `      where the time went        : ${breakdownLine(engineLocal.timeline)}`,
        `(iii) / (ii)                     : ${ratio.toFixed(2)}   (iii) / (ii') like for like: ${ratioLocal.toFixed(2)}`,
        `(i) inference per image          : p50 ${inference.ms.p50} ms, p95 ${inference.ms.p95} ms, mean ${inference.ms.mean} ms`,
        `targets                          : throughput ${verdict.throughput.target} — ${yes(verdict.throughput.met)}; p95 finalize → final ≤ 500 ms — ${yes(verdict.finalizeLatencyP95.met)}; ` +
          `≤ 15 ms/image — ${yes(verdict.inferencePerImageP95.met)}; failures 0 — ${yes(verdict.failures.met)}`,
        `machine                          : ${facts.cpus} × ${facts.cpuModel}, ${facts.memoryGiB} GiB, load ${facts.loadAverageAtStart.join(' ')} at start, ${result.machine.loadAverageAtEnd.join(' ')} at end`,
        `written to ${path.relative(repoRoot, file)}`,
      ].join('\n'),
    );
  } finally {
    await watcher?.stop();
    if (stack) await stopFlowStack(stack);
    if (connection) {
      const client = new Client({ connection, namespace });
      await terminateRunning(client, `weighvision-session/${tenantId}/`, 'weighvision benchmark over');
      // What the edge worker set up for its edge id: the two schedules, their runs, the forwarder.
      for (const id of [syncOutboxRetentionScheduleId(ids.edgeId), telemetryRollupsScheduleId(ids.edgeId)]) {
        await client.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      }
      for (const prefix of [syncOutboxRetentionScheduleId(ids.edgeId), telemetryRollupsScheduleId(ids.edgeId)]) {
        await terminateRunning(client, prefix, 'weighvision benchmark over');
      }
      await client.workflow
        .getHandle(syncForwarderWorkflowId(ids.edgeId))
        .terminate('weighvision benchmark over')
        .catch(() => undefined);
      await connection.close().catch(() => undefined);
    }
    await deleteUploads(`${tenantId}/`).catch((err: Error) => console.warn(`could not remove the run's uploads from ${benchBucket}: ${err.message}`));
    await pool.end();
    if (!process.env.KEEP_BENCH_LOGS) fs.rmSync(dir, { recursive: true, force: true });
  }
}
