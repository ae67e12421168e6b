/**
 * Growth, feed, mortality, the flock KPIs and the weighings of a barn, on a farm in Bangkok
 * (UTC+7), through the tenant pool, every answer checked against the OpenAPI document. The numbers
 * are worked by hand in the comments.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { weightBins } from '../../cloud/farm-data/weight-histogram';
import { growthForecast } from '../../insights/kpis/growth-forecast';
import { createFarmDataRouter } from '../../gateways/http/farm-data/farm-data-router';
import { logger } from '../../platform/logger';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from '../http/api-support';
import { Seed, uniq } from './support';

// 12:00 on 2026-06-15 in Bangkok.
const now = new Date('2026-06-15T05:00:00Z');

let owner: Pool;
let app: Pool;
let server: ApiServer;
let a: TestTenant;
let b: TestTenant;
let seed: Seed;
let farmId: string;
let flockId: string;
let otherTenantFlock: string;
const barnId = 'house-1';
const weighBarn = 'house-2';

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  server = await serveApi({ routers: [createFarmDataRouter({ tenantPool: app, pool: owner, log: logger('test'), now: () => now })] });
  a = await seedTenant(owner, 'Flock A');
  b = await seedTenant(owner, 'Flock B');
  seed = new Seed(owner, a.id);
  farmId = `farm-${uniq()}`;
  await seed.farm(farmId, { timezone: 'Asia/Bangkok' });
  await seed.barn(farmId, barnId);
  await seed.barn(farmId, weighBarn);
  // 1000 day-old Ross 308 chicks at local midnight of 2026-06-01: age 7 on 06-08, 13 on 06-14, 14 today.
  flockId = await seed.flock(farmId, barnId, { placedAt: '2026-05-31T17:00:00Z', head: 1000, breed: 'Ross 308' });

  // Weighings of 06-08 local: 0.20 kg at 10:00, 0.22 kg at 00:30 (17:30 UTC the day before). Mean 0.21.
  await seed.session(farmId, barnId, { finalizedAt: '2026-06-08T03:00:00Z', kg: 0.2 });
  await seed.session(farmId, barnId, { finalizedAt: '2026-06-07T17:30:00Z', kg: 0.22, batchId: flockId });
  // 06-14 local: 15 × 0.50 and 15 × 0.60 kg: mean 0.55.
  for (let i = 0; i < 30; i++) await seed.session(farmId, barnId, { finalizedAt: `2026-06-14T02:${String(i).padStart(2, '0')}:00Z`, kg: i < 15 ? 0.5 : 0.6 });
  // Not the flock's: a session naming another flock, and one that timed out.
  await seed.session(farmId, barnId, { finalizedAt: '2026-06-14T03:00:00Z', kg: 9, batchId: randomUUID() });
  await seed.session(farmId, barnId, { finalizedAt: '2026-06-14T03:10:00Z', kg: 8, status: 'timed_out' });

  // Feed across local midnight: 50 kg at 23:30 on 06-10, 70 kg at 00:30 on 06-11.
  await seed.feed(farmId, barnId, 50, '2026-06-10T16:30:00Z');
  await seed.feed(farmId, barnId, 70, '2026-06-10T17:30:00Z');
  // Losses: 10 dead on 06-10; on 06-12 the device counted 3 + 2, the operator corrected it to 4 + 1.
  await seed.losses(farmId, barnId, flockId, '2026-06-10', 10, 0);
  await seed.losses(farmId, barnId, flockId, '2026-06-12', 3, 2, 'device');
  await seed.losses(farmId, barnId, flockId, '2026-06-12', 4, 1, 'operator');

  const seedB = new Seed(owner, b.id);
  await seedB.farm(farmId);
  await seedB.barn(farmId, barnId);
  otherTenantFlock = await seedB.flock(farmId, barnId, { placedAt: '2026-06-01T00:00:00Z', head: 777 });
  await seedB.feed(farmId, barnId, 4321, '2026-06-10T16:30:00Z');
});

afterAll(async () => {
  await server.close();
  await Promise.all([owner.end(), app.end()]);
});

const get = (path: string, token = a.viewer.token) => server.call('GET', `/api/v1/farms/${farmId}/barns/${path}`, { token });

describe('growth', () => {
  test('daily means in farm-local days against the breed standard, and the last day’s uniformity', async () => {
    const r = await get(`${barnId}/growth`);
    expect(r.status).toBe(200);
    expect(r.body.flock).toMatchObject({ flock_id: flockId, age_days: 14, head_count: 985, head_count_placed: 1000 });
    expect(r.body.standard_key).toBe('ross_308');
    expect(r.body.days).toEqual([
      // Ross 308 at 7 days: the curve's own point, 0.21 kg.
      { day: '2026-06-08', age_days: 7, mean_kg: 0.21, session_count: 2, standard_kg: 0.21 },
      // At 13 days, log-linear between 0.21 (7 d) and 0.57 (14 d): 0.21 · (0.57/0.21)^(6/7) = 0.494.
      { day: '2026-06-14', age_days: 13, mean_kg: 0.55, session_count: 30, standard_kg: 0.494 },
    ]);
    // Two weighing days are too few for a forecast.
    expect([r.body.forecast, r.body.forecast_status, r.body.forecast_reason]).toEqual([[], 'insufficient_evidence', 'too_few_weighing_days']);
    // s = √(30 · 0.05² / 29) = 0.050855; CV = s / 0.55 = 9.25 %; every weight within 10 % (0.055) of the mean.
    // Bins: range 100 g / 10 → 10 g wide, from 500 g to 610 g.
    const bins = Array.from({ length: 11 }, (_, i) => ({ from_kg: (500 + 10 * i) / 1000, to_kg: (510 + 10 * i) / 1000, count: i === 0 || i === 10 ? 15 : 0 }));
    expect(r.body.uniformity).toEqual({ day: '2026-06-14', status: 'ok', n: 30, cv_pct: 9.25, within_10pct_pct: 100, bins });
  });

  test('with five weighing days over eight days of age, a forecast of the next seven days with its band', async () => {
    const barn = `grow-${uniq()}`;
    await seed.barn(farmId, barn);
    // Placed at local midnight of 2026-06-01 at 0 days; weighed at ages 6, 8, 10, 12 and 14 (today).
    await seed.flock(farmId, barn, { placedAt: '2026-05-31T17:00:00Z', head: 100 });
    const weighed: [string, number, number][] = [
      ['2026-06-07', 6, 0.17],
      ['2026-06-09', 8, 0.25],
      ['2026-06-11', 10, 0.34],
      ['2026-06-13', 12, 0.45],
      ['2026-06-15', 14, 0.58],
    ];
    for (const [d, , kg] of weighed) await seed.session(farmId, barn, { finalizedAt: `${d}T01:00:00Z`, kg });
    const r = await get(`${barn}/growth`);
    expect(r.body.forecast_status).toBe('ok');
    // The forecast is growth-forecast.ts on the daily means (broiler reference: A = 6.5 kg, target 2.5 kg).
    const points = weighed.map(([, t, kg]) => ({ t, weightKg: kg }));
    const expected = Array.from({ length: 7 }, (_, i) => {
      const f = growthForecast({ points, asymptoteKg: 6.5, targetWeightKg: 2.5, tLast: 14, tForecast: 15 + i });
      if (f.status !== 'ok') throw new Error('the fixture should forecast');
      return {
        day: `2026-06-${16 + i}`,
        age_days: 15 + i,
        kg: f.weightAtForecastKg,
        low_kg: f.weightAtForecastCi95Kg[0],
        high_kg: f.weightAtForecastCi95Kg[1],
      };
    });
    expect(r.body.forecast).toEqual(expected);
    // Growing: each day heavier than the one before, inside its band.
    for (let i = 1; i < 7; i++) expect(r.body.forecast[i].kg).toBeGreaterThan(r.body.forecast[i - 1].kg);
    for (const f of r.body.forecast) expect(f.low_kg <= f.kg && f.kg <= f.high_kg).toBe(true);
    // One session on the last day: too few for CV and uniformity; the histogram is still drawn.
    expect(r.body.uniformity).toEqual({
      day: '2026-06-15',
      status: 'insufficient_sample',
      n: 1,
      cv_pct: null,
      within_10pct_pct: null,
      bins: [{ from_kg: 0.58, to_kg: 0.581, count: 1 }],
    });
  });

  test('the histogram of a small day, and its CSV of days', async () => {
    expect(weightBins([1.8, 1.85, 1.9, 1.95, 2.0, 2.0, 2.05, 2.1, 2.2]).map((x) => x.count)).toEqual([1, 1, 1, 1, 2, 1, 1, 0, 1]);
    expect(weightBins([2, 2])).toEqual([{ fromKg: 2, toKg: 2.001, count: 2 }]);
    const csv = await get(`${barnId}/growth?format=csv`);
    expect(csv.text).toBe('day,age_days,mean_kg,session_count,standard_kg\n2026-06-08,7,0.21,2,0.21\n2026-06-14,13,0.55,30,0.494\n');
  });
});

describe('feed', () => {
  test('per farm-local day across midnight, per head over the day’s animal-days, and the FCR', async () => {
    const r = await get(`${barnId}/feed?from=2026-06-09T17:00:00Z&to=2026-06-11T17:00:00Z`);
    expect(r.status).toBe(200);
    expect(r.body.days).toEqual([
      // 10 died on 06-10: (1000 + 990) / 2 = 995 animal-days; 50 / 995 = 0.0503.
      { day: '2026-06-10', kg: 50, kg_per_head: 0.0503 },
      // 70 / 990 = 0.0707.
      { day: '2026-06-11', kg: 70, kg_per_head: 0.0707 },
    ]);
    // As of 06-14: feed before it 120 kg; 985 alive at 0.55 kg, 1000 placed at the standard's 0.044 kg:
    // gain 541.75 − 44 = 497.75 kg; FCR 120 / 497.75 = 0.241.
    expect(r.body.fcr).toBe(0.241);
    expect(r.body.fcr_basis).toMatchObject({
      flock_id: flockId,
      kind: 'cumulative',
      as_of_day: '2026-06-14',
      feed_kg: 120,
      placement_weight_source: 'breed_standard',
      missing_reason: null,
    });
    const csv = await get(`${barnId}/feed?from=2026-06-09T17:00:00Z&to=2026-06-11T17:00:00Z&format=csv`);
    expect(csv.text).toBe('day,kg,kg_per_head\n2026-06-10,50,0.0503\n2026-06-11,70,0.0707\n');
  });

  test('a day without feed is listed as 0; a day without animals has no per-head figure', async () => {
    const r = await get(`${barnId}/feed?from=2026-05-30T17:00:00Z&to=2026-06-01T17:00:00Z`);
    expect(r.body.days).toEqual([
      { day: '2026-05-31', kg: 0, kg_per_head: null },
      { day: '2026-06-01', kg: 0, kg_per_head: 0 },
    ]);
  });
});

describe('mortality and KPIs', () => {
  test('losses per day with the cumulative depletion, the operator’s count over the device’s', async () => {
    const r = await get(`${barnId}/mortality`);
    expect(r.status).toBe(200);
    expect(r.body.days).toHaveLength(15);
    const byDay = Object.fromEntries(r.body.days.map((d: { day: string }) => [d.day, d]));
    expect(byDay['2026-06-09']).toEqual({ day: '2026-06-09', dead: 0, culled: 0, cumulative_pct: 0 });
    expect(byDay['2026-06-10']).toEqual({ day: '2026-06-10', dead: 10, culled: 0, cumulative_pct: 1 });
    expect(byDay['2026-06-12']).toEqual({ day: '2026-06-12', dead: 4, culled: 1, cumulative_pct: 1.5 });
    expect(byDay['2026-06-15']).toEqual({ day: '2026-06-15', dead: 0, culled: 0, cumulative_pct: 1.5 });
    expect([r.body.flock_id, r.body.head_count, r.body.livability_pct]).toEqual([flockId, 985, 98.5]);
    const csv = await get(`${barnId}/mortality?format=csv`);
    expect(csv.text.split('\n').slice(0, 2)).toEqual(['day,dead,culled,cumulative_pct', '2026-06-01,0,0,0']);
    expect(csv.text).toContain('\n2026-06-12,4,1,1.5\n');
  });

  test('the flock KPIs with their basis', async () => {
    const r = await get(`${barnId}/kpis?flock_id=${flockId}`);
    expect(r.status).toBe(200);
    expect(r.body.as_of_day).toBe('2026-06-15');
    const k = r.body.kpis;
    expect(k).toMatchObject({ flock_id: flockId, head_placed: 1000, head_count: 985, age_days_at_end: 14, fcr_missing_reason: null });
    expect(k.mortality).toEqual({
      head_placed: 1000,
      deaths: 14,
      culls: 1,
      head_alive: 985,
      mortality_pct: 1.4,
      culls_pct: 0.1,
      depletion_pct: 1.5,
      livability_pct: 98.5,
    });
    expect(k.fcr).toMatchObject({ cumulative: 0.241, as_of_day: '2026-06-14', feed_kg: 120, flock_gain_kg: 497.75 });
    // 0.55 against 0.494: +11.3 %, beyond the curve's ±8 %.
    expect(k.versus_standard).toMatchObject({ standard_key: 'ross_308', age_days: 13, standard_kg: 0.494, deviation_pct: 11.3, verdict: 'above' });
    expect(k.uniformity).toMatchObject({ status: 'ok', day: '2026-06-14', n: 30, cv_pct: 9.25, within_band_pct: 100 });
    expect(k.adg).toMatchObject({ weighing_days: 2, g_per_day: round1(((0.55 - 0.21) / 6) * 1000) });
    expect(k.forecast).toMatchObject({ status: 'insufficient_evidence', reason: 'too_few_weighing_days' });
  });

  test('a barn that never had a flock answers without one', async () => {
    expect((await get(`${weighBarn}/kpis`)).body).toEqual({ flock: null, as_of_day: null, kpis: null });
    expect((await get(`${weighBarn}/mortality`)).body).toEqual({ flock_id: null, days: [], head_count: null, livability_pct: null });
  });

  test('another tenant’s flock, farm or barn is not found; a malformed flock id is refused', async () => {
    for (const path of [
      `${barnId}/kpis?flock_id=${otherTenantFlock}`,
      `${barnId}/growth?flock_id=${otherTenantFlock}`,
      `${barnId}/mortality?flock_id=${randomUUID()}`,
    ]) {
      const r = await get(path);
      expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    }
    const other = `farm-${uniq()}`;
    await new Seed(owner, b.id).farm(other);
    for (const route of ['growth', 'feed', 'mortality', 'kpis', 'weighings']) {
      const r = await server.call('GET', `/api/v1/farms/${other}/barns/${barnId}/${route}`, { token: a.viewer.token });
      expect([route, r.status, r.body.error.code]).toEqual([route, 404, 'not_found']);
    }
    const bad = await get(`${barnId}/kpis?flock_id=not-a-uuid`);
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'invalid_query', 'flock_id']);
    // B's feed (4321 kg) in the barn of the same ids never shows.
    expect((await get(`${barnId}/feed?from=2026-06-09T17:00:00Z&to=2026-06-11T17:00:00Z`)).text).not.toContain('4321');
    // B's farm keeps UTC days: its window starts on 06-09.
    const theirs = await get(`${barnId}/feed?from=2026-06-09T17:00:00Z&to=2026-06-11T17:00:00Z`, b.viewer.token);
    expect(theirs.body.days.map((d: { day: string; kg: number }) => [d.day, d.kg])).toEqual([
      ['2026-06-09', 0],
      ['2026-06-10', 4321],
      ['2026-06-11', 0],
    ]);
  });
});

const round1 = (x: number) => Math.round(x * 10) / 10;

describe('weighings', () => {
  let s1: string;
  let s2: string;
  let s3: string;
  beforeAll(async () => {
    s1 = await seed.session(farmId, weighBarn, { finalizedAt: '2026-06-14T10:00:00Z', kg: 2.1, source: 'scale', concludedAt: '2026-06-14T10:00:05Z' });
    s2 = await seed.session(farmId, weighBarn, { finalizedAt: '2026-06-14T09:00:00Z', kg: 2.0 });
    // Timed out: no finalization, placed in time by its conclusion.
    s3 = await seed.session(farmId, weighBarn, {
      status: 'timed_out',
      finalizedAt: null,
      startedAt: '2026-06-14T09:20:00Z',
      concludedAt: '2026-06-14T09:30:00Z',
      flags: ['no_stable_reading', 'few_images'],
    });
    // Older than the default 30 days.
    await seed.session(farmId, weighBarn, { finalizedAt: '2026-05-01T10:00:00Z', kg: 1.0 });
  });

  test('newest first with result, source and flags, paged by cursor', async () => {
    const first = await get(`${weighBarn}/weighings?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((w: { session_id: string }) => w.session_id)).toEqual([s1, s3]);
    expect(first.body.items[0]).toEqual({
      session_id: s1,
      station_id: 'station-1',
      status: 'finalized',
      at: '2026-06-14T10:00:00.000Z',
      started_at: null,
      finalized_at: '2026-06-14T10:00:00.000Z',
      concluded_at: '2026-06-14T10:00:05.000Z',
      weight_kg: 2.1,
      weight_source: 'scale',
      scale_median_kg: 2.1,
      vision_weight_kg: null,
      vision_confidence: null,
      quality_flags: [],
      reading_count: 3,
      stable_reading_count: null,
      image_count: null,
    });
    expect(first.body.items[1]).toMatchObject({
      status: 'timed_out',
      at: '2026-06-14T09:30:00.000Z',
      weight_kg: null,
      quality_flags: ['no_stable_reading', 'few_images'],
    });
    const second = await get(`${weighBarn}/weighings?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((w: { session_id: string; weight_source: string | null }) => [w.session_id, w.weight_source])).toEqual([[s2, null]]);
    expect(second.body.next_cursor).toBeNull();
    const bad = await get(`${weighBarn}/weighings?cursor=bm9wZQ`);
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'invalid_query', 'cursor']);
  });

  test('CSV of a page, exactly', async () => {
    const r = await get(`${weighBarn}/weighings?from=2026-06-14T09:25:00Z&to=2026-06-14T09:35:00Z&format=csv`);
    expect(r.text).toBe(
      'session_id,station_id,status,at,started_at,finalized_at,concluded_at,weight_kg,weight_source,scale_median_kg,vision_weight_kg,' +
        'vision_confidence,quality_flags,reading_count,stable_reading_count,image_count\n' +
        `${s3},station-1,timed_out,2026-06-14T09:30:00.000Z,2026-06-14T09:20:00.000Z,,2026-06-14T09:30:00.000Z,,,,,,no_stable_reading;few_images,3,,\n`,
    );
  });
});
