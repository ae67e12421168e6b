/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * WeighVision end to end on the local stack (spec §3): a simulated station publishes its session
 * with a real MQTT client to a real Mosquitto (the project's config, auth and ACL), uploads three
 * real generated images through presigned URLs to the real S3 store, and the session finalizes
 * through the real bridge, Temporal dev server (namespace farmiq-edge), edge worker activities,
 * ONNX model and Postgres — with the rows and outbox events the spec names.
 *
 * The store's own refusals are checked on the same path: a tampered or expired URL, a complete for
 * an object never uploaded, and a station of tenant A presigning for tenant B.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Pool } from 'pg';
import { createWeighVisionActivities } from '../../activities/weighvision-session';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { farmEventSchema } from '../../domain/contracts';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { temporalSessionSignaller } from '../../gateways/mqtt-bridge/session-signaller';
import { createEdgeApp } from '../../gateways/http/edge-app';
import { objectStoreImageSource } from '../../media/image-source';
import { s3ObjectStore, type ObjectStore } from '../../media/object-store';
import { temporalSessionDirectory, type SessionDirectory } from '../../media/session-directory';
import { farmiqStatus } from '../../temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../temporal/workflow-ids';
import { VisionModel, visionModelConfig } from '../../vision/vision-model';
import { sessionStateQuery, type SessionConfig, type SessionResult } from '../../workflows/weighvision-definitions';
import { bridgeOptions } from '../support/bridge';
import { startTestBroker, type TestBroker } from '../support/broker';
import { temporalAddress, testEdgeDatabaseUrl } from '../support/stack';
import { recordHistory } from '../support/record-history';
import { fixtureImages, SimulatedStation } from '../support/weighvision-station';

const namespace = process.env.TEMPORAL_EDGE_NAMESPACE ?? 'farmiq-edge';
const tenantA = randomUUID();
const tenantB = randomUUID();
const place = { farmId: 'farm-e2e', barnId: 'barn-1' };
const config: SessionConfig = { finalizeTimeoutSeconds: 120, imageWaitSeconds: 60, disagreementRatio: 0.15 };
const taskQueue = `weighvision-e2e-${randomUUID().slice(0, 8)}`;

let pool: Pool;
let broker: TestBroker;
let bridge: MqttBridge;
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let store: ObjectStore;
let model: VisionModel;
let server: http.Server;
let sessions: SessionDirectory;
let station: SimulatedStation;
let stationB: SimulatedStation;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  model = await VisionModel.load(visionModelConfig(settings()));
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-weighvision-e2e' });
  broker = await startTestBroker({ pool });
  const credsA = await provisionDevice(pool, { tenantId: tenantA, ...place, deviceId: 'wv-1', kind: 'weighvision-station' });
  const credsB = await provisionDevice(pool, { tenantId: tenantB, ...place, deviceId: 'wv-1', kind: 'weighvision-station' });
  await broker.reload();

  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection, namespace });
  nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  store = s3ObjectStore();
  await store.ensureBucket();
  worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
    activities: createWeighVisionActivities({ pool, images: objectStoreImageSource(store), estimator: async () => model }),
  });
  workerRun = worker.run();

  bridge = new MqttBridge({ ...bridgeOptions(broker), sessions: temporalSessionSignaller(client, { taskQueue, config }) }, pino({ level: 'silent' }));
  await bridge.start();

  sessions = temporalSessionDirectory({ address: temporalAddress, namespace });
  const app = createEdgeApp({ pool, log: pino({ level: 'silent' }), sessions, objectStore: store });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  station = new SimulatedStation({ mqttUrl: broker.url, httpBase, address: { tenantId: tenantA, ...place, deviceId: 'wv-1' }, credentials: credsA });
  stationB = new SimulatedStation({ mqttUrl: broker.url, httpBase, address: { tenantId: tenantB, ...place, deviceId: 'wv-1' }, credentials: credsB });
  await station.connect();
  await stationB.connect();
}, 120_000);

afterAll(async () => {
  await station?.close();
  await stationB?.close();
  await bridge?.stop();
  worker?.shutdown();
  await workerRun;
  await nativeConnection?.close();
  await connection?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
  await sessions?.close();
  await broker?.stop();
  await model?.close();
  store?.close();
  for (const t of [tenantA, tenantB]) {
    await pool.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [t]);
    await pool.query('DELETE FROM media_objects WHERE tenant_id = $1', [t]);
    await pool.query('DELETE FROM weighvision_sessions WHERE tenant_id = $1', [t]);
    await pool.query('DELETE FROM station_calibrations WHERE tenant_id = $1', [t]);
    await pool.query('DELETE FROM ingress_rejects WHERE tenant_id = $1', [t]);
    await pool.query('DELETE FROM edge_devices WHERE tenant_id = $1', [t]);
  }
  await pool.end();
});

/** The session's result, once the bridge has started its workflow (the station's PUBACK comes from the broker). */
async function sessionResult(sessionId: string): Promise<SessionResult> {
  const handle = client.workflow.getHandle(weighVisionSessionWorkflowId(tenantA, sessionId));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await handle.describe();
      return (await handle.result()) as SessionResult;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('a station weighs an animal', () => {
  it('finalizes the session with three inferred images, its rows and its outbox events', async () => {
    const sessionId = `S-${randomUUID().slice(0, 8)}`;
    const images = fixtureImages().filter((f) => f.trueFlags.length === 0 && f.contentType === 'image/jpeg').slice(0, 3);
    expect(images).toHaveLength(3);
    const truth = images[0].trueWeightKg;
    const readings = [{ kg: truth + 0.4, stable: true }, { kg: truth - 0.2, stable: true }, { kg: truth + 30, stable: false }, { kg: truth, stable: true }];
    const { mediaIds } = await station.weigh(sessionId, readings, images);

    const result = await sessionResult(sessionId);
    const handle = client.workflow.getHandle(weighVisionSessionWorkflowId(tenantA, sessionId));
    expect(result.status).toBe('finalized');
    expect(result.weightSource).toBe('scale');
    expect(result.weightKg).toBe(Math.round(truth * 1000) / 1000);
    expect(result.readingCount).toBe(4);
    expect(result.stableReadingCount).toBe(3);
    expect(result.imagesInferred).toBe(3);
    expect(result.visionWeightKg).toBeGreaterThan(0);

    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(farmiqStatus)).toBe('finalized');
    // What an operator reads in the UI: the summary the bridge set, the details the workflow keeps.
    expect(await described.staticSummary()).toBe(`WeighVision session ${sessionId} — station wv-1, ${place.farmId}/${place.barnId}`);
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain(`WeighVision session ${sessionId} at ${place.farmId}/${place.barnId}/wv-1: finalized, 4 reading(s), 3 image(s), 3 inferred, 3 announced`);
    const state = await handle.query(sessionStateQuery);
    expect(state.images.map((i) => i.status)).toEqual(['inferred', 'inferred', 'inferred']);
    await recordHistory(handle, 'weighvision-session.e2e-three-images');

    const session = await pool.query(
      `SELECT status, weight_kg::float8 AS weight_kg, weight_source, reading_count, image_count, images_inferred, started_at IS NOT NULL AS started, finalized_at IS NOT NULL AS finalized
         FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = $2`,
      [tenantA, sessionId],
    );
    expect(session.rows).toEqual([{ status: 'finalized', weight_kg: result.weightKg, weight_source: 'scale', reading_count: 4, image_count: 3, images_inferred: 3, started: true, finalized: true }]);
    const inferred = await pool.query('SELECT media_id, model_id FROM inference_results WHERE tenant_id = $1 AND session_id = $2', [tenantA, sessionId]);
    expect(inferred.rows.map((r) => r.media_id).sort()).toEqual([...mediaIds].sort());
    const media = await pool.query(`SELECT status FROM media_objects WHERE tenant_id = $1 AND session_id = $2`, [tenantA, sessionId]);
    expect(media.rows.map((r) => r.status)).toEqual(['stored', 'stored', 'stored']);

    const outbox = await pool.query(`SELECT event_type, envelope FROM sync_outbox WHERE tenant_id = $1 AND envelope->>'session_id' = $2`, [tenantA, sessionId]);
    const counts: Record<string, number> = {};
    for (const row of outbox.rows) {
      const event = farmEventSchema.parse(row.envelope);
      expect([event.farm_id, event.barn_id, event.session_id]).toEqual([place.farmId, place.barnId, sessionId]);
      counts[row.event_type] = (counts[row.event_type] ?? 0) + 1;
    }
    expect(counts).toEqual({
      'weighvision.session.created': 1,
      'weighvision.weight.recorded': 4,
      'weighvision.session.finalized': 1,
      'media.stored': 3,
      'inference.completed': 3,
    });
  });

  it('quarantines a late event of a finished session instead of opening a new one', async () => {
    const sessionId = `S-${randomUUID().slice(0, 8)}`;
    await station.weigh(sessionId, [{ kg: 80, stable: true }], []);
    await sessionResult(sessionId);
    const late = await station.publish(sessionId, 'weight.recorded', { weight_kg: 81, stable: true });
    const deadline = Date.now() + 15_000;
    let rejects;
    do {
      await new Promise((r) => setTimeout(r, 50));
      rejects = await pool.query(`SELECT reason FROM ingress_rejects WHERE tenant_id = $1 AND detail LIKE $2`, [tenantA, `%${late}%`]);
    } while (rejects.rowCount === 0 && Date.now() < deadline);
    expect(rejects.rows).toEqual([{ reason: 'session_closed' }]);
  });
});

describe('the media store refuses', () => {
  let sessionId: string;
  const image = () => fixtureImages()[0];

  beforeAll(async () => {
    sessionId = `S-${randomUUID().slice(0, 8)}`;
    await station.publish(sessionId, 'created', {});
  });

  afterAll(async () => {
    await client.workflow.getHandle(weighVisionSessionWorkflowId(tenantA, sessionId)).terminate('test over').catch((e) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
  });

  it('a tampered presigned URL', async () => {
    const p = await station.presign(sessionId, image());
    expect(p.status).toBe(200);
    const url = new URL(p.body.upload_url);
    const sig = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    expect(await station.put(url.toString(), p.body.headers, image().bytes)).toBe(403);
    const other = new URL(p.body.upload_url);
    other.pathname = other.pathname.replace(p.body.media_id, randomUUID());
    expect(await station.put(other.toString(), p.body.headers, image().bytes)).toBe(403);
    expect(await store.head(p.body.object_key)).toBeUndefined();
  });

  it('an expired presigned URL', async () => {
    const img = image();
    const short = await store.presignPut(`${tenantA}/${place.farmId}/${place.barnId}/wv-1/${sessionId}/${randomUUID()}.jpg`, img.contentType, img.bytes.byteLength, 1);
    await new Promise((r) => setTimeout(r, 2100));
    const status = await station.put(short.url, short.headers, img.bytes);
    expect([400, 403]).toContain(status);
  });

  it('complete for an object that was never uploaded', async () => {
    const p = await station.presign(sessionId, image());
    const c = await station.post('complete', { media_id: p.body.media_id });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('object_missing');
    const outbox = await pool.query(`SELECT 1 FROM sync_outbox WHERE envelope->'payload'->>'media_id' = $1`, [p.body.media_id]);
    expect(outbox.rowCount).toBe(0);
  });

  it("a station of tenant B presigning for tenant A's session", async () => {
    const named = await stationB.presign(sessionId, image(), { tenant_id: tenantA });
    expect(named.status).toBe(403);
    expect(named.body.error?.code).toBe('device_scope_violation');
    const unnamed = await stationB.presign(sessionId, image(), {}, 0);
    expect(unnamed.status).toBe(404); // looked up under tenant B: A's session is not even visible
    const recorded = await pool.query(`SELECT reason FROM ingress_rejects WHERE tenant_id = $1 AND source = 'http' ORDER BY id`, [tenantB]);
    expect(recorded.rows.map((r) => r.reason)).toEqual(['device_scope_violation', 'session_not_found']);
  });
});
