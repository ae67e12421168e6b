/**
 * The insight activities against the real cloud test database (migrated by jest's globalSetup),
 * through the tenant pool (farmiq_app, row-level security), on a small seeded farm whose KPIs are
 * worked out by hand below. Also: raw readings and 1-minute rollups are never read, another tenant's
 * rows never count, and the request sent to an LLM contains no raw reading.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createInsightActivities, type InsightActivities } from '../../activities/insights/generation';
import type { FeatureSummary, MlPredictions } from '../../insights/feature-summary';
import type { GeneratedInsight } from '../../insights/insight-schema';
import type { InsightRecord, StoreInsightInput } from '../../insights/insight-store';
import { LocalInsightAnalyzer } from '../../insights/llm/analyzer';
import { OpenAiCompatibleWriter } from '../../insights/llm/openai-compatible';
import { localPredictor } from '../../insights/ml/predictor';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { startOpenAiStub, type OpenAiStub } from './openai-stub';
import { seedBarn, seedFarm, seedFeed, seedRawReadings, seedRollups, seedSessions } from './seed';

let owner: Pool;
let app: Pool;
let a: TestTenant;
let b: TestTenant;
let stub: OpenAiStub;
let activities: InsightActivities;
// Expected warnings (the template fallback) would otherwise print.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

const farmId = 'farm-hand';
const barn1 = { farmId, barnId: 'barn-1' };
const window = { from: '2026-03-11T00:00:00.000Z', to: '2026-03-14T00:00:00.000Z' };
const rawMarker = 987.654; // a value only raw readings carry

async function seedHandFarm(t: TestTenant): Promise<void> {
  const scope = { tenantId: t.id, ...barn1 };
  await seedFarm(owner, { tenantId: t.id, farmId, name: 'Hand-computed farm', species: 'broiler' });
  // Placed 2026-03-01 at 20 days old: 30 days old on 03-11, 31 on 03-12, 32 on 03-13 → band 18–22 °C.
  await seedBarn(owner, { tenantId: t.id, farmId, barnId: 'barn-1', name: 'North', animalCount: 1000, placedAt: '2026-03-01', ageAtPlacementDays: 20 });
  await seedBarn(owner, { tenantId: t.id, farmId, barnId: 'barn-2', name: 'South', animalCount: 500, placedAt: null });

  await seedRollups(owner, scope, [
    // 03-11 00h: (20·360 + 23·180) / 540 = 11340 / 540 = 21.0 °C → inside 18–22
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-11T00:00:00Z', count: 360, mean: 20, min: 19, max: 21 },
    { deviceId: 'temp-sensor-2', metric: 'temperature', start: '2026-03-11T00:00:00Z', count: 180, mean: 23, min: 22, max: 24 },
    // 03-11 01h: (23·360 + 23·360) / 720 = 23.0 °C → above
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-11T01:00:00Z', count: 360, mean: 23, min: 22.5, max: 23.5 },
    { deviceId: 'temp-sensor-2', metric: 'temperature', start: '2026-03-11T01:00:00Z', count: 360, mean: 23, min: 22.5, max: 23.5 },
    // 03-12 12h: (17 + 16) / 2 = 16.5 °C → below
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-12T12:00:00Z', count: 360, mean: 17, min: 16, max: 18 },
    { deviceId: 'temp-sensor-2', metric: 'temperature', start: '2026-03-12T12:00:00Z', count: 360, mean: 16, min: 15.5, max: 17 },
    // 03-13 23h: (19 + 21) / 2 = 20.0 °C → inside
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-13T23:00:00Z', count: 360, mean: 19, min: 18.5, max: 19.5 },
    { deviceId: 'temp-sensor-2', metric: 'temperature', start: '2026-03-13T23:00:00Z', count: 360, mean: 21, min: 20.5, max: 21.5 },
    // Outside the window [03-11 00:00, 03-14 00:00): not counted.
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-10T23:00:00Z', count: 360, mean: 40, min: 40, max: 40 },
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-14T00:00:00Z', count: 360, mean: 40, min: 40, max: 40 },
    // 1-minute rollups and other metrics: not read.
    { deviceId: 'temp-sensor-1', metric: 'temperature', width: '1m', start: '2026-03-11T00:05:00Z', count: 6, mean: 99, min: 99, max: 99 },
    { deviceId: 'co2-sensor-1', metric: 'co2', start: '2026-03-11T00:00:00Z', count: 360, mean: 1800, min: 1500, max: 2100, unit: 'ppm' },
    // Humidity, one hour.
    { deviceId: 'hum-sensor-1', metric: 'humidity', start: '2026-03-11T00:00:00Z', count: 360, mean: 60, min: 55, max: 65 },
  ]);
  // Raw readings exist but an insight never scans them.
  await seedRawReadings(owner, scope, [
    { deviceId: 'temp-sensor-1', metric: 'temperature', value: rawMarker, at: '2026-03-11T00:00:10Z' },
    { deviceId: 'temp-sensor-2', metric: 'temperature', value: rawMarker, at: '2026-03-12T12:00:10Z' },
  ]);
  // 03-11: 250 + 250 = 500 kg; 03-12: 520 kg; 03-13: 540 kg. Just outside the window: 999 kg twice.
  await seedFeed(owner, scope, [
    { kg: 250, at: '2026-03-11T08:00:00Z' },
    { kg: 250, at: '2026-03-11T16:00:00Z' },
    { kg: 520, at: '2026-03-12T08:00:00Z' },
    { kg: 540, at: '2026-03-13T08:00:00Z' },
    { kg: 999, at: '2026-03-10T23:59:59Z' },
    { kg: 999, at: '2026-03-14T00:00:00Z' },
  ]);
  // Vision reads 20 % heavier than the scale on every session of st-1.
  await seedSessions(owner, scope, [
    { stationId: 'st-1', weightKg: 1.9, visionKg: 2.28, at: '2026-03-11T09:00:00Z' },
    { stationId: 'st-1', weightKg: 2.1, visionKg: 2.52, at: '2026-03-11T09:10:00Z' },
    { stationId: 'st-1', weightKg: 2.0, visionKg: 2.4, at: '2026-03-13T09:00:00Z' },
    { stationId: 'st-1', weightKg: 2.3, visionKg: 2.76, at: '2026-03-13T09:10:00Z' },
    { stationId: 'st-1', weightKg: 2.3, visionKg: 2.76, at: '2026-03-13T09:20:00Z' },
    { stationId: 'st-1', weightKg: 2.6, visionKg: 3.12, at: '2026-03-13T09:30:00Z' },
    // Not finalized, or before the window: not counted.
    { stationId: 'st-1', weightKg: 9.9, at: '2026-03-12T09:00:00Z', status: 'collecting' },
    { stationId: 'st-1', weightKg: 0.5, at: '2026-03-10T09:00:00Z' },
  ]);
}

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  a = await seedTenant(owner, 'Insights A');
  b = await seedTenant(owner, 'Insights B');
  await seedHandFarm(a);
  // Tenant B has a farm with the same ids and very different data: none of it may show up for A.
  await seedFarm(owner, { tenantId: b.id, farmId, species: 'broiler' });
  await seedBarn(owner, { tenantId: b.id, farmId, barnId: 'barn-1', animalCount: 7, placedAt: '2026-03-01' });
  await seedRollups(owner, { tenantId: b.id, ...barn1 }, [
    { deviceId: 'temp-sensor-1', metric: 'temperature', start: '2026-03-11T05:00:00Z', count: 360, mean: 45, min: 45, max: 45 },
  ]);
  await seedFeed(owner, { tenantId: b.id, ...barn1 }, [{ kg: 7777, at: '2026-03-12T08:00:00Z' }]);
  stub = await startOpenAiStub();
  activities = createInsightActivities({ pool: app, predictor: localPredictor, analyzer: new LocalInsightAnalyzer(null), llmModel: null });
});

afterAll(async () => {
  await stub?.close();
  await app?.end();
  await owner?.end();
});

function aggregate(tenantId: string, barnId: string | null = null): Promise<FeatureSummary> {
  return env.run(activities.aggregateFeatureSummary, { tenantId, farmId, barnId, window, requestId: `req-agg-${randomUUID()}` });
}

it('computes the hand-computed KPIs of the fixture farm', async () => {
  const s = await aggregate(a.id);
  expect(s.scope).toEqual({
    farm_id: farmId,
    farm_name: 'Hand-computed farm',
    species: 'broiler',
    timezone: 'UTC',
    barn_id: null,
    window: { ...window, days: 3, first_day: '2026-03-11', last_day: '2026-03-13' },
    forecast_date: '2026-03-20', // last day + 7
  });
  const [b1, b2] = s.barns;
  expect(b1.barn_id).toBe('barn-1');
  expect(b1.age_days).toEqual({ at_window_start: 30, at_window_end: 32 });
  // Temperature over the window, weighted by readings:
  //   (21.0·540 + 23.0·720 + 16.5·720 + 20.0·720) / (540 + 3·720) = 54180 / 2700 = 20.067
  //   min of the hour minima 15.5, max of the maxima 24; 4 hours; 540 + 3·720 = 2700 readings
  expect(b1.climate.temperature_c).toEqual({ mean: 20.07, min: 15.5, max: 24, hours: 4, readings: 2700 });
  expect(b1.climate.humidity_pct).toEqual({ mean: 60, min: 55, max: 65, hours: 1, readings: 360 });
  // Band 18–22 °C at ages 30–32: 23.0 above, 16.5 below, 21.0 and 20.0 inside → 2 of 4 = 50 %
  expect(b1.climate.comfort).toEqual({
    band_source: 'species_age_table',
    hours_evaluated: 4,
    hours_below: 1,
    hours_above: 1,
    hours_outside: 2,
    share_outside_pct: 50,
    band_at_start: { min_c: 18, max_c: 22 },
    band_at_end: { min_c: 18, max_c: 22 },
  });
  // Feed: 500 + 520 + 540 = 1560 kg over 3 days for 1000 animals → 1560 / 1000 / 3 = 0.52 kg/animal/day
  expect(b1.feed).toEqual({ total_kg: 1560, feed_days: 3, per_animal_per_day_kg: 0.52 });
  // Weights: 03-11 mean (1.9 + 2.1) / 2 = 2.0; 03-13 mean (2.0 + 2.3 + 2.3 + 2.6) / 4 = 2.3
  //   ADG = (2.3 − 2.0) / 2 days = 0.15 kg = 150 g/day
  //   FCR = feed on 03-11 and 03-12 (before the last weighing day): (500 + 520) / 1000 = 1.02 kg per
  //         animal, over 0.3 kg gained = 3.4
  //   Uniformity on 03-13: mean 2.3; deviations −0.3, 0, 0, +0.3; Σ² = 0.18; / 3 = 0.06; sd 0.244949;
  //         CV = 0.244949 / 2.3 = 10.65 %; within [2.07, 2.53]: 2.3, 2.3 → 2 of 4 = 50 %
  //   Curve through (30, 2.0), (32, 2.3) with A = 6.5: y = ln ln(6.5/W) = 0.164374, 0.038156;
  //         k = (0.164374 − 0.038156) / 2 = 0.063109; ln b = 0.164374 + 30·0.063109 = 2.057647, b = 7.8275
  //   Days to 2.5 kg: t = (2.057647 − ln ln 2.6) / 0.063109 = (2.057647 + 0.045510) / 0.063109 = 33.3257,
  //         minus age 32 = 1.33 → 1.3 days, reached on 03-13 + 2 = 03-15
  expect(b1.growth).toEqual({
    weighing_days: 2,
    first_day: '2026-03-11',
    last_day: '2026-03-13',
    first_mean_weight_kg: 2,
    mean_weight_kg: 2.3,
    adg_g_per_day: 150,
    fcr: 3.4,
    uniformity: { day: '2026-03-13', weighed: 4, mean_kg: 2.3, cv_pct: 10.65, within_band_pct: 50, band_pct: 10 },
    target_weight_kg: 2.5,
    days_to_target: 1.3,
    target_reached_on: '2026-03-15',
  });
  // Forecast on 03-20 (age 39): e^(−0.063109·39) = 0.085355; · 7.8275 = 0.668117; e^(−0.668117) = 0.512695;
  //   · 6.5 = 3.3331 kg. Feed needed = (3.3331 − 2.3) · 3.4 · 1000 = 3512.5 kg
  expect(b1.forecast).toMatchObject({
    method: 'gompertz_fixed_asymptote',
    time_axis: 'age',
    asymptote_kg: 6.5,
    b: 7.8275,
    k: 0.06311,
    fitted_points: 2,
    rmse_kg: 0,
    forecast_date: '2026-03-20',
    weight_at_forecast_kg: 3.333,
    feed_needed_kg: 3512.5,
  });

  // barn-2 has no data at all.
  expect(b2).toMatchObject({
    barn_id: 'barn-2',
    animal_count: 500,
    age_days: { at_window_start: null, at_window_end: null },
    climate: { temperature_c: null, humidity_pct: null, comfort: null },
    forecast: null,
  });
  expect(b2.feed).toEqual({ total_kg: 0, feed_days: 0, per_animal_per_day_kg: null });

  // Anomalies: no climate finding — 23 °C is not above the band's 22 + 1 °C margin, 16.5 °C is only
  // one hour below it, and there are no baseline days before the window to judge a shift or spike
  // against; two weighing days are too few to judge flattening. The station
  // reads +20 % on all 6 sessions (median 20 %, 100 % beyond ±10 %).
  expect(s.anomalies).toEqual([
    {
      kind: 'scale_vision_disagreement',
      barn_id: 'barn-1',
      station_id: 'st-1',
      sessions: 6,
      median_difference_pct: 20,
      share_over_threshold_pct: 100,
      threshold_pct: 10,
    },
  ]);
  // 72 hours × 2 barns = 144 barn-hours expected; 4 with temperature → 2.8 %
  expect(s.data_quality).toEqual({
    expected_barn_hours: 144,
    temperature_barn_hours: 4,
    humidity_barn_hours: 1,
    climate_coverage_pct: 2.8,
    weighing_sessions: 6,
    feed_events: 4,
  });
  expect(s.farm).toEqual({ barns: 2, animals: 1500, feed_total_kg: 1560, hours_outside_comfort: 2, anomalies: 1 });
});

it('scopes to one barn, and never shows another tenant its rows', async () => {
  const one = await aggregate(a.id, 'barn-1');
  expect(one.scope.barn_id).toBe('barn-1');
  expect(one.barns.map((x) => x.barn_id)).toEqual(['barn-1']);
  expect(one.data_quality.expected_barn_hours).toBe(72);

  const other = await aggregate(b.id);
  expect(other.barns).toHaveLength(1);
  expect(other.barns[0].climate.temperature_c).toMatchObject({ mean: 45, hours: 1 });
  expect(other.barns[0].feed.total_kg).toBe(7777);

  // A tenant without the farm gets FarmNotFound (not retried), never someone else's farm.
  const c = await seedTenant(owner, 'Insights C');
  await expect(aggregate(c.id)).rejects.toMatchObject({ type: 'FarmNotFound', nonRetryable: true });
  await expect(aggregate(a.id, 'barn-404')).rejects.toMatchObject({ type: 'FarmNotFound' });
});

it('reads NH3 stored under either name and CO2, and judges feed against the week before the window', async () => {
  // A farm of its own: placed 2026-03-01 at 20 days old (broiler), window 03-11 … 03-14 as above.
  const scope = { tenantId: a.id, farmId: 'farm-history', barnId: 'barn-h' };
  await seedFarm(owner, { tenantId: a.id, farmId: 'farm-history', name: 'History farm', species: 'broiler' });
  await seedBarn(owner, { tenantId: a.id, farmId: 'farm-history', barnId: 'barn-h', animalCount: 1000, placedAt: '2026-03-01', ageAtPlacementDays: 20 });
  await seedRollups(owner, scope, [
    // Ammonia as `ammonia` (a name units.ts accepts): 25 ppm for 03-12 06h–09h, above the 20 ppm of
    // 2007/43/EC Annex II 3(a): one above_limit finding, 3 hours, worst 25.
    ...[6, 7, 8].map((h) => ({ deviceId: 'nh3-1', metric: 'ammonia', start: `2026-03-12T0${h}:00:00Z`, count: 60, mean: 25, min: 24, max: 26, unit: 'ppm' })),
    // CO2 3,400 ppm for one hour (> 3,000 ppm, Annex II 3(a)).
    { deviceId: 'co2-1', metric: 'co2', start: '2026-03-12T02:00:00Z', count: 60, mean: 3400, min: 3300, max: 3500, unit: 'ppm' },
  ]);
  // 500 kg a day on 03-04 … 03-10 (the week before the window: history only), then 250 on 03-11,
  // 500 on 03-12 and 03-13. 03-11 is 250 < 75 % × median(500 ×7) = 375: a feed_drop that only the
  // history can show (03-11 is the window's first day). Window total 250 + 500 + 500 = 1250 kg.
  await seedFeed(owner, scope, [
    ...[4, 5, 6, 7, 8, 9, 10].map((d) => ({ kg: 500, at: `2026-03-${String(d).padStart(2, '0')}T08:00:00Z` })),
    { kg: 250, at: '2026-03-11T08:00:00Z' },
    { kg: 500, at: '2026-03-12T08:00:00Z' },
    { kg: 500, at: '2026-03-13T08:00:00Z' },
  ]);
  const s: FeatureSummary = await env.run(activities.aggregateFeatureSummary, {
    tenantId: a.id,
    farmId: 'farm-history',
    barnId: null,
    window,
    requestId: `req-agg-${randomUUID()}`,
  });
  expect(s.barns[0].feed).toMatchObject({ total_kg: 1250, feed_days: 3 });
  const findings = s.anomalies.filter((x) => x.kind === 'climate_finding');
  expect(findings.filter((f) => f.code === 'above_limit')).toEqual([
    expect.objectContaining({ metric: 'co2', value: 3400, threshold: 3000, duration: 1, status: 'law' }),
    expect.objectContaining({ metric: 'nh3', value: 25, threshold: 20, duration: 3, status: 'law' }),
  ]);
  expect(findings.filter((f) => f.metric === 'feed')).toEqual([expect.objectContaining({ code: 'feed_drop', value: 250, threshold: 375, baseline: 500 })]);
});

it('predicts with the reference model from the summary', async () => {
  const s = await aggregate(a.id);
  const p: MlPredictions | null = await env.run(activities.predict, { summary: s, requestId: 'req-predict' });
  // barn-1: age 32 on its last weighing day, 2.3 kg; W_ref(32) = 6.5·exp(−5.04·e^(−0.0436·32)) = 1.86446;
  // p = 2.3 / 1.86446 = 1.2336; +7 d: p · W_ref(39) = 3.194 kg. barn-2 has no weighing: no prediction.
  expect(p?.model).toBe('growth-reference/1');
  expect(p?.barns).toHaveLength(1);
  expect(p?.barns[0]).toMatchObject({ barn_id: 'barn-1', performance_index: 1.234, days_to_target: 1.6 });
  expect(p?.barns[0].horizons[0]).toEqual({ days: 7, date: '2026-03-20', weight_kg: 3.194 });
});

it('sends the LLM the summary and no raw reading, with the request id', async () => {
  const s = await aggregate(a.id);
  stub.answer({ content: '{"not": "an insight"}' });
  const llmActivities = createInsightActivities({
    pool: app,
    predictor: localPredictor,
    analyzer: new LocalInsightAnalyzer(new OpenAiCompatibleWriter({ baseUrl: stub.baseUrl, model: 'stub-model', timeoutMs: 2000 })),
    llmModel: 'stub-model',
  });
  const result = await env.run(llmActivities.analyzeWithLlm, { summary: s, requestId: 'req-no-raw' });
  expect(result).toMatchObject({ generator: 'template', fallback: { reason: 'llm_schema_violation', model: 'stub-model' } });

  expect(stub.requests).toHaveLength(1);
  const sent = stub.requests[0];
  expect(sent.headers['x-request-id']).toBe('req-no-raw');
  // Neither raw values, nor the 1-minute rollup, nor any device id of a reading reached the model.
  expect(sent.body).not.toContain(String(rawMarker));
  expect(sent.body).not.toMatch(/temp-sensor|hum-sensor|co2-sensor/);
  expect(sent.body).not.toMatch(/occurred_at|reading_count|value_mean|bucket_start/);
  expect(sent.body).not.toContain('"99"');
  expect(sent.body).toContain('Hand-computed farm');
});

it('stores the insight once per request id, with its generator and fallback reason', async () => {
  const s = await aggregate(a.id);
  const requestId = `req-store-${randomUUID()}`;
  const generated: GeneratedInsight = await env.run(activities.writeTemplateInsight, {
    summary: s,
    requestId,
    reason: 'llm_timeout' as const,
    detail: 'no answer within 15000 ms',
    model: 'gpt-test',
  });
  const input: StoreInsightInput = {
    tenantId: a.id,
    farmId,
    barnId: null,
    window,
    requestId,
    workflowId: `insight/${a.id}/${requestId}`,
    userId: a.operator.id,
    summary: s,
    predictions: null,
    generated,
  };
  const first: InsightRecord = await env.run(activities.storeInsight, input);
  expect(first).toMatchObject({
    tenant_id: a.id,
    farm_id: farmId,
    barn_id: null,
    window,
    request_id: requestId,
    generator: 'template',
    model: null,
    fallback: { reason: 'llm_timeout', detail: 'no answer within 15000 ms', model: 'gpt-test' },
    created_by: a.operator.id,
  });
  expect(first.summary).toEqual(s);
  expect(first.insight).toEqual(generated.insight);
  // The same request again (a retried activity, a second run) returns the stored row unchanged.
  const again = await env.run(activities.storeInsight, { ...input, generated: { ...generated, insight: { ...generated.insight, title: 'different' } } });
  expect(again).toEqual(first);
  const rows = await owner.query('SELECT count(*)::int AS n FROM insights WHERE tenant_id = $1 AND request_id = $2', [a.id, requestId]);
  expect(rows.rows[0].n).toBe(1);
});
