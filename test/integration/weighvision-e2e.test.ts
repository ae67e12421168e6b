/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * WeighVision end to end on the local stack (spec §3): a simulated station publishes its session
 * with a real MQTT client to a real Mosquitto (the project's config, auth and ACL), uploads three
 * real generated images through presigned URLs to the real S3 store, and the session finalizes
 * through the real bridge, Temporal dev server (namespace farmiq-edge), edge worker activities,
 * ONNX model and Postgres — with the rows and outbox events the spec names.
 *
 * The stations reach the store under another name than the server does (S3_PUBLIC_ENDPOINT:
 * `localhost` for them, the S3_ENDPOINT address for the server), as barn stations reach a farm
 * server at its LAN address.
 *
 * The store's own refusals are checked on the same path: a tampered or expired URL, a complete for
 * an object never uploaded, and a station of tenant A presigning for tenant B. And a session
 * belongs to its station: other stations of the tenant (same barn, or another barn) publishing on
 * their own topics with its session id are quarantined as session_not_owned and change nothing,
 * their presign is 403 session_not_owned, and the owner's session concludes from its own data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Pool } from 'pg';
import { createWeighVisionActivities } from '../../activities/weighvision/session';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { farmEventSchema } from '../../domain/contracts';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { temporalSessionSignaller } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { createEdgeApp } from '../../gateways/http/edge-app';
import { objectStoreImageSource } from '../../weighvision/media/image-source';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore } from '../../weighvision/media/object-store';
import { temporalSessionDirectory, type SessionDirectory } from '../../weighvision/media/session-directory';
import { farmiqStatus } from '../../domain/temporal/search-attributes';
import { weighVisionSessionWorkflowId } from '../../domain/temporal/workflow-ids';
import { VisionModel, visionModelConfig } from '../../weighvision/vision/vision-model';
import { sessionStateQuery, type SessionConfig, type SessionResult } from '../../weighvision/session-contract';
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
/** The store as the edge HTTP API presigns for stations: URLs name the public endpoint. */
let stationStore: ObjectStore;
let model: VisionModel;
let server: http.Server;
let sessions: SessionDirectory;
let station: SimulatedStation;
let stationB: SimulatedStation;
/** Two more stations of tenant A: one in the same barn, one in another barn. */
let neighbour: SimulatedStation;
let otherBarn: SimulatedStation;

const serverEndpoint = new URL(objectStoreConfigFromSettings(settings()).endpoint);
const publicEndpoint = (() => {
  const u = new URL(serverEndpoint.href);
  if (!['127.0.0.1', 'localhost'].includes(u.hostname))
    throw new Error(`this test reaches the store under a second name; S3_ENDPOINT ${u.href} is not on 127.0.0.1 or localhost`);
  u.hostname = u.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return u.origin;
})();

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  model = await VisionModel.load(visionModelConfig(settings()));
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-weighvision-e2e' });
  broker = await startTestBroker({ pool });
  const credsA = await provisionDevice(pool, { tenantId: tenantA, ...place, deviceId: 'wv-1', kind: 'weighvision-station' });
  const credsB = await provisionDevice(pool, { tenantId: tenantB, ...place, deviceId: 'wv-1', kind: 'weighvision-station' });
  const credsNeighbour = await provisionDevice(pool, { tenantId: tenantA, ...place, deviceId: 'wv-2', kind: 'weighvision-station' });
  const credsOtherBarn = await provisionDevice(pool, {
    tenantId: tenantA,
    farmId: place.farmId,
    barnId: 'barn-2',
    deviceId: 'wv-1',
    kind: 'weighvision-station',
  });
  await broker.reload();

  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection, namespace });
  nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
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
  stationStore = s3ObjectStore({ ...objectStoreConfigFromSettings(settings()), publicEndpoint });
  const app = createEdgeApp({ pool, log: pino({ level: 'silent' }), sessions, objectStore: stationStore });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  station = new SimulatedStation({ mqttUrl: broker.url, httpBase, address: { tenantId: tenantA, ...place, deviceId: 'wv-1' }, credentials: credsA });
  stationB = new SimulatedStation({ mqttUrl: broker.url, httpBase, address: { tenantId: tenantB, ...place, deviceId: 'wv-1' }, credentials: credsB });
  neighbour = new SimulatedStation({ mqttUrl: broker.url, httpBase, address: { tenantId: tenantA, ...place, deviceId: 'wv-2' }, credentials: credsNeighbour });
  otherBarn = new SimulatedStation({
    mqttUrl: broker.url,
    httpBase,
    address: { tenantId: tenantA, farmId: place.farmId, barnId: 'barn-2', deviceId: 'wv-1' },
    credentials: credsOtherBarn,
  });
  for (const s of [station, stationB, neighbour, otherBarn]) await s.connect();
}, 120_000);

afterAll(async () => {
  for (const s of [station, stationB, neighbour, otherBarn]) await s?.close();
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
  stationStore?.close();
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
    const images = fixtureImages()
      .filter((f) => f.trueFlags.length === 0 && f.contentType === 'image/jpeg')
      .slice(0, 3);
    expect(images).toHaveLength(3);
    const truth = images[0].trueWeightKg;
    const readings = [
      { kg: truth + 0.4, stable: true },
      { kg: truth - 0.2, stable: true },
      { kg: truth + 30, stable: false },
      { kg: truth, stable: true },
    ];
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
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(
      `WeighVision session ${sessionId} at ${place.farmId}/${place.barnId}/wv-1: finalized, 4 reading(s), 3 image(s), 3 inferred, 3 announced`,
    );
    const state = await handle.query(sessionStateQuery);
    expect(state.images.map((i) => i.status)).toEqual(['inferred', 'inferred', 'inferred']);
    await recordHistory(handle, 'weighvision-session.e2e-three-images');

    const session = await pool.query(
      `SELECT status, weight_kg::float8 AS weight_kg, weight_source, reading_count, image_count, images_inferred, started_at IS NOT NULL AS started, finalized_at IS NOT NULL AS finalized
         FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = $2`,
      [tenantA, sessionId],
    );
    expect(session.rows).toEqual([
      {
        status: 'finalized',
        weight_kg: result.weightKg,
        weight_source: 'scale',
        reading_count: 4,
        image_count: 3,
        images_inferred: 3,
        started: true,
        finalized: true,
      },
    ]);
    const inferred = await pool.query('SELECT media_id, model_id FROM inference_results WHERE tenant_id = $1 AND session_id = $2', [tenantA, sessionId]);
    expect(inferred.rows.map((r) => r.media_id).sort()).toEqual([...mediaIds].sort());
    const media = await pool.query(`SELECT status, object_key FROM media_objects WHERE tenant_id = $1 AND session_id = $2`, [tenantA, sessionId]);
    expect(media.rows.map((r) => r.status)).toEqual(['stored', 'stored', 'stored']);
    // Inference read the verified copies (which no presigned URL can write); the uploads are gone.
    for (const { object_key } of media.rows) {
      expect(object_key).toMatch(new RegExp(`^verified/${tenantA}/${place.farmId}/${place.barnId}/wv-1/${sessionId}/`));
      expect(await store.head(object_key.slice('verified/'.length))).toBeUndefined();
    }

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
      // The edge's conclusion (issue 10): what the cloud stores as the session's result.
      'weighvision.session.concluded': 1,
      'media.stored': 3,
      'inference.completed': 3,
    });
  });

  it('uploads through the public endpoint: presigned URLs name it, the server reads at its own', async () => {
    const sessionId = `S-${randomUUID().slice(0, 8)}`;
    await station.publish(sessionId, 'created', {});
    const img = fixtureImages()[0];
    const p = await station.presign(sessionId, img);
    expect(p.status).toBe(200);
    expect(new URL(p.body.upload_url).origin).toBe(publicEndpoint);
    expect(await station.putImage(p.body.upload_url, p.body.headers, img.bytes)).toBe(200);
    const c = await station.post('complete', { media_id: p.body.media_id });
    expect(c.status).toBe(200);
    expect((await store.get(c.body.object_key)).equals(img.bytes)).toBe(true);
    await client.workflow.getHandle(weighVisionSessionWorkflowId(tenantA, sessionId)).terminate('test over');
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
    await client.workflow
      .getHandle(weighVisionSessionWorkflowId(tenantA, sessionId))
      .terminate('test over')
      .catch((e) => {
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
    const short = await store.presignPut(
      `${tenantA}/${place.farmId}/${place.barnId}/wv-1/${sessionId}/${randomUUID()}.jpg`,
      img.contentType,
      img.bytes.byteLength,
      1,
    );
    await new Promise((r) => setTimeout(r, 2100));
    const status = await station.put(short.url, short.headers, img.bytes);
    expect([400, 403]).toContain(status);
  });

  it('complete for an object that was never uploaded', async () => {
    const p = await station.presign(sessionId, image());
    const c = await station.post('complete', { media_id: p.body.media_id });
    expect(c.status).toBe(409);
    expect(c.body.error?.code).toBe('object_missing');
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

describe('a session belongs to the station that opened it', () => {
  /** The ingress_rejects rows of these events, once all are there. */
  async function rejectsOf(eventIds: string[]) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await pool.query(
        `SELECT source, reason, topic, device_id, payload FROM ingress_rejects WHERE tenant_id = $1 AND source = 'mqtt' AND convert_from(payload, 'UTF8')::jsonb->>'event_id' = ANY($2) ORDER BY id`,
        [tenantA, eventIds],
      );
      if (r.rowCount === eventIds.length || Date.now() > deadline) return r.rows;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  it("quarantines other stations' readings and finalized, refuses their uploads, and the owner finishes its session", async () => {
    const sessionId = `S-${randomUUID().slice(0, 8)}`;
    const img = fixtureImages().filter((f) => f.trueFlags.length === 0)[0];
    await station.publish(sessionId, 'created', { batch_id: randomUUID() });
    await station.publish(sessionId, 'weight.recorded', { weight_kg: img.trueWeightKg, stable: true });
    // The owner's session is running before the others try.
    expect((await station.presign(sessionId, img)).status).toBe(200);

    // Other devices of the tenant, each on its own (ACL-allowed) topic, with this session's id.
    const foreign = [
      await neighbour.publish(sessionId, 'weight.recorded', { weight_kg: 4999, stable: true }),
      await neighbour.publish(sessionId, 'finalized', { image_count: 0 }),
      await otherBarn.publish(sessionId, 'weight.recorded', { weight_kg: 4998, stable: true }),
      await otherBarn.publish(sessionId, 'created', {}),
    ];
    // Two stations on two connections: their rejects may be stored in either order, so each is
    // found by the event it quarantines.
    const rows = await rejectsOf(foreign);
    const byEvent = new Map(rows.map((r) => [(JSON.parse((r.payload as Buffer).toString('utf8')) as { event_id: string }).event_id, r]));
    expect(foreign.map((id) => [byEvent.get(id)?.reason, byEvent.get(id)?.device_id])).toEqual([
      ['session_not_owned', 'wv-2'],
      ['session_not_owned', 'wv-2'],
      ['session_not_owned', 'wv-1'],
      ['session_not_owned', 'wv-1'],
    ]);
    expect(byEvent.get(foreign[2])?.topic).toContain(`/${place.farmId}/barn-2/wv-1/session/${sessionId}/`);

    // Their uploads into it are refused and recorded; the owner's are not.
    const theirs = await neighbour.presign(sessionId, img, {}, 0);
    expect([theirs.status, theirs.body.error?.code]).toEqual([403, 'session_not_owned']);
    const elsewhere = await otherBarn.presign(sessionId, img, {}, 0);
    expect([elsewhere.status, elsewhere.body.error?.code]).toEqual([403, 'session_not_owned']);
    const http = await pool.query(
      `SELECT reason, device_id FROM ingress_rejects WHERE tenant_id = $1 AND source = 'http' AND reason = 'session_not_owned' AND convert_from(payload, 'UTF8')::jsonb->>'session_id' = $2 ORDER BY id`,
      [tenantA, sessionId],
    );
    expect(http.rows).toEqual([
      { reason: 'session_not_owned', device_id: 'wv-2' },
      { reason: 'session_not_owned', device_id: 'wv-1' },
    ]);

    // The neighbour's finalized did not close it: the owner uploads and finalizes as usual.
    await station.upload(sessionId, img);
    await station.publish(sessionId, 'finalized', { image_count: 1 });
    const result = await sessionResult(sessionId);
    expect(result.status).toBe('finalized');
    expect(result.readingCount).toBe(1);
    expect(result.weightKg).toBe(Math.round(img.trueWeightKg * 1000) / 1000);
    expect(result.imagesInferred).toBe(1);
    const state = await client.workflow.getHandle(weighVisionSessionWorkflowId(tenantA, sessionId)).query(sessionStateQuery);
    expect(state.stationId).toBe('wv-1');
    expect(state.barnId).toBe(place.barnId);

    const outbox = await pool.query(
      `SELECT event_id, envelope->>'device_id' AS device_id, envelope->>'barn_id' AS barn_id FROM sync_outbox WHERE tenant_id = $1 AND envelope->>'session_id' = $2`,
      [tenantA, sessionId],
    );
    expect(outbox.rows.filter((r) => foreign.includes(r.event_id))).toEqual([]);
    expect(new Set(outbox.rows.map((r) => `${r.barn_id}/${r.device_id}`))).toEqual(new Set([`${place.barnId}/wv-1`]));
    const weights = await pool.query('SELECT weight_kg::float8 AS kg FROM weighvision_weights WHERE tenant_id = $1 AND session_id = $2', [tenantA, sessionId]);
    expect(weights.rows).toEqual([{ kg: Math.round(img.trueWeightKg * 1000) / 1000 }]);
  });
});
