/**
 * Issue 10, "one truth for a weighing", end to end through the real processes:
 *
 *   session events signalled as the MQTT bridge signals them (signalWithStart) + images in the real
 *   S3 store signalled as the media store signals them → edge worker process (session workflow,
 *   ONNX model, recordSession) → edge outbox → forwarder → cloud HTTP → RabbitMQ → cloud consumers
 *   → cloud Postgres
 *
 * The held-out case: a scale that reads far heavier than the pigs in four photos (74.99 kg three
 * times, 92.31 kg once) and an empty frame. The edge concludes the scale median with `scale_vision_disagree`; the cloud row must
 * show that very weight, source, vision estimate, factor and flags — not a recompute from the raw
 * image results (which it keeps, for analysis).
 */
import { randomUUID } from 'node:crypto';
import { settings } from '../../config/settings';
import { validEvent } from '../support/events';
import { temporalSessionSignaller, type WeighVisionTopic } from '../../gateways/mqtt-bridge/weighvision/session-signaller';
import { weighVisionSessionWorkflowId } from '../../domain/temporal/workflow-ids';
import { imageStoredSignal, type SessionConfig, type SessionResult } from '../../weighvision/session-contract';
import { objectStoreConfigFromSettings, s3ObjectStore, type ObjectStore } from '../../weighvision/media/object-store';
import type { WeighVisionEvent } from '../../domain/contracts';
import { fixtureImages } from '../support/weighvision-station';
import { median } from '../../weighvision/session-result';
import { openDatabases, SyncStack, type Databases } from './support';
import { until } from '../support/until';

const tenant = randomUUID();
const place = { farmId: 'farm-wv', barnId: 'barn-1', deviceId: 'wv-9' };
const config: SessionConfig = { finalizeTimeoutSeconds: 120, imageWaitSeconds: 60, disagreementRatio: 0.15 };

let db: Databases;
let stack: SyncStack;
let store: ObjectStore;

beforeAll(async () => {
  db = await openDatabases('wvcloud');
  stack = await SyncStack.create({ label: 'wvcloud', db, tenants: [tenant] });
  store = s3ObjectStore(objectStoreConfigFromSettings(settings()));
  await store.ensureBucket();
  await stack.startAll();
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  store?.close();
  if (db) {
    await db.edge.query('DELETE FROM weighvision_sessions WHERE tenant_id = $1', [tenant]);
    await db.edge.query('DELETE FROM media_objects WHERE tenant_id = $1', [tenant]);
    await db.edge.query('DELETE FROM station_calibrations WHERE tenant_id = $1', [tenant]);
    await db.close();
  }
}, 180_000);

/** A station's session, signalled as the bridge and the media store signal it. */
async function weigh(sessionId: string, readings: { kg: number; stable: boolean }[], images: ReturnType<typeof fixtureImages>): Promise<SessionResult> {
  const signaller = temporalSessionSignaller(stack.temporal, { taskQueue: stack.taskQueue, config });
  const topic = (step: WeighVisionTopic['step']): WeighVisionTopic => ({ family: 'weighvision', tenantId: tenant, ...place, sessionId, step });
  const envelope = {
    tenant_id: tenant,
    device_id: place.deviceId,
    farm_id: place.farmId,
    barn_id: place.barnId,
    session_id: sessionId,
    trace_id: `trace-${sessionId}`,
  };
  const send = async (step: WeighVisionTopic['step'], event: WeighVisionEvent) => expect(await signaller.signal(topic(step), event)).toBe('signalled');

  await send('created', validEvent('weighvision.session.created', { ...envelope, ts: new Date().toISOString(), payload: { batch_id: randomUUID() } }));
  for (const r of readings) {
    await send(
      'weight.recorded',
      validEvent('weighvision.weight.recorded', { ...envelope, ts: new Date().toISOString(), payload: { weight_kg: r.kg, stable: r.stable } }),
    );
  }
  const handle = stack.temporal.workflow.getHandle(weighVisionSessionWorkflowId(tenant, sessionId));
  for (const img of images) {
    const mediaId = randomUUID();
    const ext = img.contentType === 'image/png' ? 'png' : 'jpg';
    const objectKey = `verified/${tenant}/${place.farmId}/${place.barnId}/${place.deviceId}/${sessionId}/${mediaId}.${ext}`;
    await store.put(objectKey, img.bytes, img.contentType);
    await db.edge.query(
      `INSERT INTO media_objects (tenant_id, media_id, session_id, farm_id, barn_id, station_id, object_key, content_type, size_bytes, status, expires_at, stored_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'stored', now(), now())`,
      [tenant, mediaId, sessionId, place.farmId, place.barnId, place.deviceId, objectKey, img.contentType, img.bytes.byteLength],
    );
    await handle.signal(imageStoredSignal, {
      mediaId,
      objectKey,
      contentType: img.contentType,
      sizeBytes: img.bytes.byteLength,
      storedAt: new Date().toISOString(),
    });
  }
  await send('finalized', validEvent('weighvision.session.finalized', { ...envelope, ts: new Date().toISOString(), payload: { image_count: images.length } }));
  return (await handle.result()) as SessionResult;
}

const conclusionColumns = `status, weight_kg::float8 AS weight_kg, weight_source, scale_median_kg::float8 AS scale_median_kg, reading_count,
  stable_reading_count, vision_raw_kg::float8 AS vision_raw_kg, vision_weight_kg::float8 AS vision_weight_kg, vision_confidence,
  calibration_factor, images_inferred, missing_images, quality_flags, failure_reason, batch_id`;

describe('a session concluded on the edge', () => {
  it('shows the same weight, source, vision estimate, factor and flags in the cloud (the held-out case)', async () => {
    const sessionId = `S-${randomUUID().slice(0, 8)}`;
    const all = fixtureImages();
    const pig = all.filter((f) => f.trueFlags.length === 0).slice(0, 4);
    const empty = all.filter((f) => f.trueFlags.includes('empty_frame'));
    expect(pig).toHaveLength(4);
    expect(empty).toHaveLength(1);
    // The photographed pigs weigh 74.99 kg (three photos) and 92.31 kg; the scale reads stable
    // 130.1, 129.9, 130.0 (180 unstable) → median 130.0. |130 − v| / 130 > 0.15 for any vision
    // estimate v below 110.5 kg, well above the heaviest pig photographed, so the edge raises
    // scale_vision_disagree whatever the model's error on these fixtures.
    const readings = [
      { kg: 130.1, stable: true },
      { kg: 129.9, stable: true },
      { kg: 180, stable: false },
      { kg: 130.0, stable: true },
    ];
    let result: SessionResult;
    try {
      result = await weigh(sessionId, readings, [...pig, ...empty]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${stack.logs()}`, { cause: err });
    }
    expect(result).toMatchObject({
      status: 'finalized',
      weightKg: 130,
      weightSource: 'scale',
      scaleMedianKg: 130,
      readingCount: 4,
      stableReadingCount: 3,
      imagesInferred: 5,
    });
    expect(result.qualityFlags).toContain('scale_vision_disagree');

    const edgeRow = (await db.edge.query(`SELECT ${conclusionColumns} FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = $2`, [tenant, sessionId]))
      .rows[0];
    const cloudRow = await until(
      "the edge's conclusion in the cloud",
      120_000,
      async () =>
        (
          await db.cloud.query(`SELECT ${conclusionColumns} FROM weighvision_sessions WHERE tenant_id = $1 AND session_id = $2 AND concluded_at IS NOT NULL`, [
            tenant,
            sessionId,
          ])
        ).rows[0],
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stack.logs()}`, { cause: err });
    });
    // One truth: every column the edge concluded, as the edge concluded it.
    expect(cloudRow).toEqual(edgeRow);
    expect(cloudRow).toMatchObject({ weight_kg: 130, weight_source: 'scale', scale_median_kg: 130, images_inferred: 5 });
    expect(cloudRow.quality_flags).toContain('scale_vision_disagree');

    // The raw image results are in the cloud too, and the stored vision estimate is the edge's
    // rule over them (median of the images without not_fully_in_frame / multiple_animals /
    // empty_frame / out_of_distribution), not their mean.
    const raw = await until(
      'the five image results in the cloud',
      60_000,
      async () => {
        const r = await db.cloud.query<{ kg: number; quality_flags: string[] }>(
          'SELECT estimated_weight_kg::float8 AS kg, quality_flags FROM inference_results WHERE tenant_id = $1 AND session_id = $2',
          [tenant, sessionId],
        );
        return r.rowCount === 5 ? r.rows : undefined;
      },
      250,
    );
    const usable = raw.filter(
      (r) => !r.quality_flags.some((f) => ['not_fully_in_frame', 'multiple_animals', 'empty_frame', 'out_of_distribution'].includes(f)),
    );
    expect(cloudRow.vision_raw_kg).toBeCloseTo(median(usable.map((r) => r.kg))!, 3);
    expect(cloudRow.calibration_factor).toBe(1); // a new station
  });
});
