/**
 * GET …/climate and …/climate/metrics on the real database through the tenant pool, every answer
 * checked against the OpenAPI document: sensors combined by reading count, the resolution switching
 * at 48 h, the open hour in an hour series, the band at the flock's age, CSV, refusals, isolation.
 */
import type { Pool } from 'pg';
import { createFarmDataRouter } from '../../gateways/http/farm-data/farm-data-router';
import { logger } from '../../platform/logger';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from '../http/api-support';
import { Seed, uniq } from './support';

const now = new Date('2026-06-15T12:34:00Z');

let owner: Pool;
let app: Pool;
let server: ApiServer;
let a: TestTenant;
let b: TestTenant;
let seedA: Seed;
let seedB: Seed;
let farmId: string;
const barnId = 'house-1';

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  server = await serveApi({ routers: [createFarmDataRouter({ tenantPool: app, pool: owner, log: logger('test'), now: () => now })] });
  a = await seedTenant(owner, 'Climate A');
  b = await seedTenant(owner, 'Climate B');
  seedA = new Seed(owner, a.id);
  seedB = new Seed(owner, b.id);
  // The same farm and barn ids in both tenants: only row-level security and the tenant tell them apart.
  farmId = `farm-${uniq()}`;
  for (const s of [seedA, seedB]) {
    await s.farm(farmId);
    await s.barn(farmId, barnId);
  }
  // A broiler flock placed at day-old on 2026-06-05: 10 days old on 2026-06-15 (band 25–29 °C).
  await seedA.flock(farmId, barnId, { placedAt: '2026-06-05T06:00:00Z', head: 1000 });
  // Minute rollups of two sensors at 12:00: (2 × 20 + 6 × 24) / 8 = 23.
  await seedA.rollup(farmId, barnId, { device: 't-1', width: '1m', at: '2026-06-15T12:00:00Z', count: 2, mean: 20, min: 19, max: 21 });
  await seedA.rollup(farmId, barnId, { device: 't-2', width: '1m', at: '2026-06-15T12:00:00Z', count: 6, mean: 24, min: 23, max: 26 });
  await seedA.rollup(farmId, barnId, { device: 't-1', width: '1m', at: '2026-06-15T12:01:00Z', count: 4, mean: 22, min: 21, max: 23 });
  // Closed hours the edge published, and a minute of 11:30 the hour rollup of 11:00 already holds.
  await seedA.rollup(farmId, barnId, { device: 't-1', width: '1h', at: '2026-06-15T10:00:00Z', count: 60, mean: 27, min: 26, max: 28 });
  await seedA.rollup(farmId, barnId, { device: 't-2', width: '1h', at: '2026-06-15T10:00:00Z', count: 180, mean: 31, min: 29, max: 33 });
  await seedA.rollup(farmId, barnId, { device: 't-1', width: '1h', at: '2026-06-15T11:00:00Z', count: 60, mean: 26, min: 25, max: 27 });
  await seedA.rollup(farmId, barnId, { device: 't-1', width: '1m', at: '2026-06-15T11:30:00Z', count: 1, mean: 50 });
  await seedA.rollup(farmId, barnId, { device: 'h-1', metric: 'humidity', unit: '%', width: '1m', at: '2026-06-15T12:00:00Z', count: 3, mean: 61 });
  await seedA.rollup(farmId, barnId, { device: 'n-1', metric: 'ammonia', unit: 'ppm', width: '1m', at: '2026-06-15T12:02:00Z', count: 1, mean: 12 });
  // Tenant B's barn of the same ids: values A must never see.
  await seedB.rollup(farmId, barnId, { device: 't-1', width: '1m', at: '2026-06-15T12:00:00Z', count: 5, mean: 99.5 });
  await seedB.rollup(farmId, barnId, { device: 't-1', width: '1h', at: '2026-06-15T10:00:00Z', count: 5, mean: 99.5 });
});

afterAll(async () => {
  await server.close();
  await Promise.all([owner.end(), app.end()]);
});

const climate = (query: string, token = a.viewer.token) => server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/climate?${query}`, { token });

test('the last 24 h by default: minute points, the sensors of a minute combined by reading count', async () => {
  const r = await climate('metric=temperature');
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ metric: 'temperature', unit: 'C', resolution: '1m', from: '2026-06-14T12:34:00.000Z', to: now.toISOString() });
  expect(r.body.points).toEqual([
    { t: '2026-06-15T11:30:00.000Z', mean: 50, min: 50, max: 50, count: 1 },
    { t: '2026-06-15T12:00:00.000Z', mean: 23, min: 19, max: 26, count: 8 },
    { t: '2026-06-15T12:01:00.000Z', mean: 22, min: 21, max: 23, count: 4 },
  ]);
  // 10 days old: the broiler band of days 8–14.
  expect(r.body.band).toEqual({ min: 25, max: 29 });
});

test('over 48 h: hour points, the open hour made from its minutes, no hour counted twice', async () => {
  const r = await climate('metric=temperature&from=2026-06-08T12:34:00Z');
  expect([r.status, r.body.resolution]).toEqual([200, '1h']);
  expect(r.body.points).toEqual([
    // (60 × 27 + 180 × 31) / 240 = 30
    { t: '2026-06-15T10:00:00.000Z', mean: 30, min: 26, max: 33, count: 240 },
    // the 11:00 hour rollup; the 11:30 minute (50 °C) is inside it, not added again
    { t: '2026-06-15T11:00:00.000Z', mean: 26, min: 25, max: 27, count: 60 },
    // the open hour from its minutes: (8 × 23 + 4 × 22) / 12 = 22.666…
    { t: '2026-06-15T12:00:00.000Z', mean: (8 * 23 + 4 * 22) / 12, min: 19, max: 26, count: 12 },
  ]);
});

test('a closed hour whose rollup has not arrived yet is made from its minutes too', async () => {
  const late = `late-${uniq()}`;
  await seedA.barn(farmId, late);
  await seedA.rollup(farmId, late, { device: 't-1', width: '1h', at: '2026-06-15T09:00:00Z', count: 60, mean: 25 });
  // No hour rollup of 10:00 or 11:00 yet (the edge publishes a window after it has closed).
  await seedA.rollup(farmId, late, { device: 't-1', width: '1m', at: '2026-06-15T10:59:00Z', count: 2, mean: 26 });
  await seedA.rollup(farmId, late, { device: 't-1', width: '1m', at: '2026-06-15T12:10:00Z', count: 1, mean: 28 });
  const r = await server.call('GET', `/api/v1/farms/${farmId}/barns/${late}/climate?metric=temperature&from=2026-06-10T00:00:00Z`, { token: a.viewer.token });
  expect(r.body.points.map((p: { t: string; mean: number; count: number }) => [p.t, p.mean, p.count])).toEqual([
    ['2026-06-15T09:00:00.000Z', 25, 60],
    ['2026-06-15T10:00:00.000Z', 26, 2],
    ['2026-06-15T12:00:00.000Z', 28, 1],
  ]);
});

test('the resolution switches above 48 h', async () => {
  const exactly = await climate('metric=temperature&from=2026-06-13T12:34:00Z');
  const longer = await climate('metric=temperature&from=2026-06-13T12:33:59Z');
  expect([exactly.body.resolution, longer.body.resolution]).toEqual(['1m', '1h']);
});

test('nh3 includes rollups stored as ammonia; its band is the EU limit', async () => {
  const r = await climate('metric=nh3');
  expect(r.body).toMatchObject({ metric: 'nh3', unit: 'ppm', band: { min: null, max: 20 } });
  expect(r.body.points).toEqual([{ t: '2026-06-15T12:02:00.000Z', mean: 12, min: 12, max: 12, count: 1 }]);
});

test('CSV of the series, exactly', async () => {
  const r = await climate('metric=temperature&from=2026-06-15T12:00:00Z&to=2026-06-15T12:02:00Z&format=csv');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(r.text).toBe('t,mean,min,max,count\n2026-06-15T12:00:00.000Z,23,19,26,8\n2026-06-15T12:01:00.000Z,22,21,23,4\n');
});

test('the barn’s metrics, ammonia shown as nh3', async () => {
  const r = await server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/climate/metrics`, { token: a.viewer.token });
  expect(r.status).toBe(200);
  expect(r.body.items).toEqual([
    { metric: 'humidity', unit: '%', last_at: '2026-06-15T12:00:00.000Z' },
    { metric: 'nh3', unit: 'ppm', last_at: '2026-06-15T12:02:00.000Z' },
    { metric: 'temperature', unit: 'C', last_at: '2026-06-15T12:01:00.000Z' },
  ]);
});

test.each([
  ['from after to', 'metric=temperature&from=2026-06-15T10:00:00Z&to=2026-06-15T09:00:00Z', 'invalid_window', 'from'],
  ['an empty window', 'metric=temperature&from=2026-06-15T10:00:00Z&to=2026-06-15T10:00:00Z', 'invalid_window', 'from'],
  ['over 200 days', 'metric=temperature&from=2025-11-01T00:00:00Z&to=2026-06-15T00:00:00Z', 'window_too_long', 'to'],
  ['no metric', 'from=2026-06-15T10:00:00Z', 'invalid_query', 'metric'],
  ['a metric that is no name', 'metric=DROP%20TABLE', 'invalid_query', 'metric'],
  ['a time that is no time', 'metric=temperature&from=yesterday', 'invalid_query', 'from'],
  ['an unknown parameter', 'metric=temperature&bucket=1m', 'invalid_query', undefined],
])('%s is refused with a stable code', async (_what, query, code, field) => {
  const r = await climate(query);
  expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, code, field]);
});

test('another tenant’s farm or barn is not found, and none of its values reach this one', async () => {
  const otherFarm = `farm-${uniq()}`;
  await seedB.farm(otherFarm);
  await seedB.barn(otherFarm, barnId);
  for (const path of [`/api/v1/farms/${otherFarm}/barns/${barnId}/climate?metric=temperature`, `/api/v1/farms/${otherFarm}/barns/${barnId}/climate/metrics`]) {
    const r = await server.call('GET', path, { token: a.viewer.token });
    expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
  }
  const unknownBarn = await server.call('GET', `/api/v1/farms/${farmId}/barns/house-9/climate?metric=temperature`, { token: a.viewer.token });
  expect([unknownBarn.status, unknownBarn.body.error.code]).toEqual([404, 'not_found']);
  for (const q of ['metric=temperature', 'metric=temperature&from=2026-06-08T12:34:00Z']) expect((await climate(q)).text).not.toContain('99.5');
  // B sees its own.
  expect((await climate('metric=temperature', b.viewer.token)).body.points).toEqual([
    { t: '2026-06-15T12:00:00.000Z', mean: 99.5, min: 99.5, max: 99.5, count: 5 },
  ]);
});

test('without a token nothing is answered', async () => {
  const r = await server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/climate?metric=temperature`);
  expect([r.status, r.body.error.code]).toEqual([401, 'unauthenticated']);
});
