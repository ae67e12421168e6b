/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * A station of a species the vision model does not serve concludes from the scale alone (issue 10):
 * the real session activities on the edge test database, the shipped model, and the edge worker's
 * `visionServes` (weighvision/vision/station-served.ts: the barn's current flock's species, from
 * table flocks, against the model's manifest). The images are the pig fixtures — what matters is
 * whose barn the station stands in, not what the camera saw.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Pool } from 'pg';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { createWeighVisionActivities, type RecordSessionInput } from '../../activities/weighvision/session';
import type { FlockSpecies } from '../../domain/contracts/flock-payloads';
import { placeFlock } from '../../flocks/flock-store';
import type { SessionDeviceEvent, StoredImage } from '../../weighvision/session-contract';
import { visionServesStation } from '../../weighvision/vision/station-served';
import { VisionModel, visionModelConfig } from '../../weighvision/vision/vision-model';
import { testEdgeDatabaseUrl } from '../support/stack';

const fixtureDir = path.resolve(__dirname, '..', 'fixtures', 'weighvision');
const stationPigImages = ['01-normal.jpg', '02-normal.jpg', '03-normal.jpg'].map((f) => fs.readFileSync(path.join(fixtureDir, f)));

let pool: Pool;
let model: VisionModel;
const tenantId = randomUUID();
const farmId = 'farm-species';
const images = new Map<string, Buffer>();
const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

beforeAll(async () => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-vision-species' });
  model = await VisionModel.load(visionModelConfig(settings()));
});

afterAll(async () => {
  for (const table of ['sync_outbox', 'inference_results', 'media_objects', 'weighvision_session_events', 'weighvision_weights', 'weighvision_sessions']) {
    await pool.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
  }
  for (const table of ['station_calibration_ratios', 'station_calibrations', 'flocks'])
    await pool.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
  await pool.end();
  await model?.close();
});

function activities() {
  return createWeighVisionActivities({
    pool,
    images: { fetch: async (key) => images.get(key) },
    estimator: async () => model,
    visionServes: visionServesStation(pool, async () => model),
  });
}

/** A barn of its own, holding a flock of `species` (or none). */
async function barn(species: FlockSpecies | undefined) {
  const barnId = `barn-${randomUUID().slice(0, 6)}`;
  if (species) {
    await placeFlock(
      pool,
      {
        tenant_id: tenantId,
        flock_id: randomUUID(),
        farm_id: farmId,
        barn_id: barnId,
        placed_at: new Date(Date.now() - 20 * 86_400_000).toISOString(),
        species,
        breed: species === 'broiler' ? 'ross-308' : 'large-white',
        head_count: species === 'broiler' ? 20_000 : 400,
        age_at_placement_days: species === 'broiler' ? 0 : 70,
      },
      { traceId: 'trace-species-test', actor: 'test' },
    );
  }
  return { tenantId, farmId, barnId, stationId: `station-${randomUUID().slice(0, 6)}` };
}

async function storedImage(station: Awaited<ReturnType<typeof barn>>, sessionId: string, bytes: Buffer): Promise<StoredImage> {
  const mediaId = randomUUID();
  const objectKey = `${tenantId}/${farmId}/${station.barnId}/${station.stationId}/${sessionId}/${mediaId}.jpg`;
  images.set(objectKey, bytes);
  await pool.query(
    `INSERT INTO media_objects (tenant_id, media_id, session_id, farm_id, barn_id, station_id, object_key, content_type, size_bytes, status, expires_at, stored_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'image/jpeg', $8, 'stored', now(), now())`,
    [tenantId, mediaId, sessionId, farmId, station.barnId, station.stationId, objectKey, bytes.length],
  );
  return { mediaId, objectKey, contentType: 'image/jpeg', sizeBytes: bytes.length, storedAt: new Date().toISOString() };
}

/** One session at the station: each scale reading stable, the three pig photos inferred for real. */
async function weigh(station: Awaited<ReturnType<typeof barn>>, scaleKg: number[]) {
  const sessionId = `S-${randomUUID().slice(0, 8)}`;
  const { inferImage, recordSession } = activities();
  const estimates = [];
  for (const bytes of stationPigImages) {
    const image = await storedImage(station, sessionId, bytes);
    estimates.push(await run(inferImage, { ...station, sessionId, image, traceId: `trace-${sessionId}` }));
  }
  const events: SessionDeviceEvent[] = scaleKg.map((kg) => ({
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: `trace-${sessionId}`,
    event_type: 'weighvision.weight.recorded',
    tenant_id: tenantId,
    device_id: station.stationId,
    ts: new Date().toISOString(),
    farm_id: farmId,
    barn_id: station.barnId,
    session_id: sessionId,
    payload: { weight_kg: kg, stable: true },
  }));
  const input: RecordSessionInput = {
    ...station,
    sessionId,
    ending: 'finalized',
    readings: scaleKg.map((kg) => ({ weightKg: kg, stable: true })),
    estimates,
    imagesStored: estimates.length,
    imageCount: estimates.length,
    disagreementRatio: 0.15,
    events,
    workflowId: `weighvision-session/${tenantId}/${sessionId}`,
  };
  return { sessionId, estimates, result: await run(recordSession, input) };
}

async function calibration(stationId: string) {
  const factor = await pool.query('SELECT factor, sessions FROM station_calibrations WHERE tenant_id = $1 AND station_id = $2', [tenantId, stationId]);
  const ratios = await pool.query('SELECT ratio, verdict FROM station_calibration_ratios WHERE tenant_id = $1 AND station_id = $2', [tenantId, stationId]);
  return { factor: factor.rows, ratios: ratios.rows };
}

describe('a station whose barn holds a species the model does not serve', () => {
  it('concludes from the scale alone and leaves the calibration untouched', async () => {
    const station = await barn('broiler');
    // A 2 kg broiler: stable readings 2.08, 2.10, 2.12 → median 2.10 kg.
    const { sessionId, estimates, result } = await weigh(station, [2.08, 2.1, 2.12]);
    // The images were inferred and stored (a pig model reads pig photos as pigs of tens of kg) …
    expect(estimates).toHaveLength(3);
    for (const e of estimates) expect(e.estimatedWeightKg).toBeGreaterThan(20);
    const stored = await pool.query('SELECT count(*)::int AS n FROM inference_results WHERE tenant_id = $1 AND session_id = $2', [tenantId, sessionId]);
    expect(stored.rows[0].n).toBe(3);
    // … but none makes a vision weight, a disagreement or a calibration.
    expect(result).toMatchObject({ status: 'finalized', weightKg: 2.1, weightSource: 'scale', scaleMedianKg: 2.1 });
    expect(result.visionRawKg).toBeUndefined();
    expect(result.visionWeightKg).toBeUndefined();
    expect(result.qualityFlags).not.toContain('scale_vision_disagree');
    expect(await calibration(station.stationId)).toEqual({ factor: [], ratios: [] });
  });

  it('a camera-only session there records no weight (not 12.5 kg for a 2 kg bird)', async () => {
    const station = await barn('broiler');
    const { result } = await weigh(station, []);
    expect(result).toMatchObject({ status: 'failed', weightKg: undefined, visionWeightKg: undefined });
    expect(await calibration(station.stationId)).toEqual({ factor: [], ratios: [] });
  });
});

describe('visionServesStation', () => {
  it('answers from the flock without loading the model when the barn has none, and false when the model cannot load', async () => {
    let loads = 0;
    const broken = visionServesStation(pool, async () => {
      loads++;
      throw new Error('model file missing');
    });
    const empty = await barn(undefined);
    expect(await broken({ ...empty, sessionId: 'S-1' })).toBe(true);
    expect(loads).toBe(0);
    const pigs = await barn('swine');
    expect(await broken({ ...pigs, sessionId: 'S-2' })).toBe(false);
    expect(loads).toBe(1);
  });
});

describe('a station the model serves', () => {
  it('a swine barn uses the vision estimate and teaches the calibration', async () => {
    const station = await barn('swine');
    const { estimates, result } = await weigh(station, [90]);
    // Vision raw = median of the three photos' estimates, × factor 1 of a new station.
    const kg = estimates.map((e) => e.estimatedWeightKg).sort((a, b) => a - b);
    expect(result.visionRawKg).toBeCloseTo(kg[1], 3);
    expect(result.visionWeightKg).toBeCloseTo(kg[1], 3);
    expect(result).toMatchObject({ weightKg: 90, weightSource: 'scale' });
    // One ratio recorded (scale ÷ vision raw); with one session the factor stays 1 (calibrationPolicy.minSessions 3).
    const { ratios } = await calibration(station.stationId);
    expect(ratios).toHaveLength(1);
    expect(ratios[0].ratio).toBeCloseTo(90 / kg[1], 3);
  });

  it('a barn with no flock keeps the behaviour from before flocks: vision is used', async () => {
    const station = await barn(undefined);
    const { result } = await weigh(station, []);
    expect(result.visionRawKg).toBeGreaterThan(0);
    expect(result).toMatchObject({ status: 'finalized', weightSource: 'vision' });
  });
});
