/**
 * GET /farms/:farmId/overview and GET /edges/:edgeId/health on the real database, on the real clock
 * (an edge's status is the directory's, from the database's now()), every answer checked against
 * the OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { provisionEdge, recordEdgeStatus } from '../../cloud/edges';
import { createFarmDataRouter } from '../../gateways/http/farm-data/farm-data-router';
import { logger } from '../../platform/logger';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from '../http/api-support';
import { Seed, uniq } from './support';

let owner: Pool;
let app: Pool;
let server: ApiServer;
let a: TestTenant;
let b: TestTenant;
let seed: Seed;
let farmId: string;
let flockId: string;
const edgeA = `edge-a-${uniq()}`;
const edgeShared = `edge-s-${uniq()}`;
const edgeB = `edge-b-${uniq()}`;

const minute = 60_000;
// Fixed once, so that seeding and asserting never straddle a minute (or a day).
const t0 = Date.now();
const ago = (ms: number) => new Date(Math.floor((t0 - ms) / minute) * minute).toISOString();
const today = () => new Date(t0).toISOString().slice(0, 10);

async function notify(tenantId: string, userId: string | null, data: Record<string, unknown>, readAt: Date | null = null): Promise<string> {
  const r = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, data, status, read_at) VALUES ($1, $2, 'in_app', 't', 'b', $3, 'sent', $4) RETURNING id`,
    [tenantId, userId, JSON.stringify(data), readAt],
  );
  return r.rows[0].id;
}

/** `n` events the edge brought the tenant, all in one batch `minutesAgo` minutes ago. */
async function batch(tenantId: string, edgeId: string, n: number, minutesAgo: number): Promise<string[]> {
  const r = await owner.query<{ event_id: string }>(
    `INSERT INTO ingestion_dedupe (tenant_id, event_id, edge_id, event_type, received_at)
     SELECT $1, gen_random_uuid(), $2, 'telemetry.reading', now() - make_interval(mins => $4) FROM generate_series(1, $3)
     RETURNING event_id::text`,
    [tenantId, edgeId, n, minutesAgo],
  );
  return r.rows.map((x) => x.event_id);
}

async function deadLetter(tenantId: string, eventId: string, reason: string, minutesAgo: number): Promise<void> {
  await owner.query(
    `INSERT INTO dead_letters (queue, tenant_id, event_id, reason, delivery_count, envelope, received_at)
     VALUES ('cloud.telemetry', $1, $2, $3, 5, '{}', now() - make_interval(mins => $4))`,
    [tenantId, eventId, reason, minutesAgo],
  );
}

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  server = await serveApi({ routers: [createFarmDataRouter({ tenantPool: app, pool: owner, log: logger('test') })] });
  a = await seedTenant(owner, 'Overview A');
  b = await seedTenant(owner, 'Overview B');
  seed = new Seed(owner, a.id);
  farmId = `farm-${uniq()}`;
  await seed.farm(farmId, { comfort: [20, 24] });
  await seed.barn(farmId, 'barn-1');
  await seed.barn(farmId, 'barn-2');
  // Ten days old today: the broiler band of days 8–14 is 25–29 °C.
  const placed = new Date(`${today()}T00:00:00Z`).getTime() - 10 * 86_400_000;
  flockId = await seed.flock(farmId, 'barn-1', { placedAt: new Date(placed).toISOString(), head: 500 });
  await seed.rollup(farmId, 'barn-1', { device: 't-1', width: '1m', at: ago(3 * minute), count: 6, mean: 30 });
  // The newest minute: (1 × 31 + 3 × 33) / 4 = 32.5 °C, above the band.
  await seed.rollup(farmId, 'barn-1', { device: 't-1', width: '1m', at: ago(2 * minute), count: 1, mean: 31 });
  await seed.rollup(farmId, 'barn-1', { device: 't-2', width: '1m', at: ago(2 * minute), count: 3, mean: 33 });
  await seed.rollup(farmId, 'barn-1', { device: 'h-1', metric: 'humidity', unit: '%', width: '1m', at: ago(20 * minute), count: 2, mean: 55 });
  await seed.rollup(farmId, 'barn-1', { device: 'c-1', metric: 'co2', unit: 'ppm', width: '1m', at: ago(minute), count: 2, mean: 2500 });
  // No flock in barn 2: the farm's own band.
  await seed.rollup(farmId, 'barn-2', { device: 't-3', width: '1m', at: ago(minute), count: 2, mean: 22 });
  await seed.losses(farmId, 'barn-1', flockId, today(), 3, 1);
  await seed.session(farmId, 'barn-1', { finalizedAt: ago(3 * 3_600_000), kg: 1.5, source: 'vision', concludedAt: ago(3 * 3_600_000) });
  const latest = await seed.session(farmId, 'barn-1', { finalizedAt: ago(3_600_000), kg: 1.234 });
  await seed.session(farmId, 'barn-2', { finalizedAt: ago(3_600_000), kg: 5, status: 'failed' });
  expect(latest).toBeTruthy();

  // barn-1's unread for the viewer: one tenant-wide, one addressed to them. Not counted: one they
  // read, one tenant-wide they read, one to another user, one farm-wide, one of another farm.
  await notify(a.id, null, { farm_id: farmId, barn_id: 'barn-1' });
  await notify(a.id, a.viewer.id, { farm_id: farmId, barn_id: 'barn-1' });
  await notify(a.id, a.viewer.id, { farm_id: farmId, barn_id: 'barn-1' }, new Date());
  const shared = await notify(a.id, null, { farm_id: farmId, barn_id: 'barn-1' });
  await owner.query('INSERT INTO notification_reads (tenant_id, notification_id, user_id) VALUES ($1, $2, $3)', [a.id, shared, a.viewer.id]);
  await notify(a.id, a.operator.id, { farm_id: farmId, barn_id: 'barn-1' });
  await notify(a.id, null, { farm_id: farmId, barn_id: null });
  await notify(a.id, null, { farm_id: 'elsewhere', barn_id: 'barn-1' });

  await provisionEdge(owner, { edgeId: edgeA, tenants: [a.id] });
  await provisionEdge(owner, { edgeId: edgeShared, tenants: [a.id, b.id] });
  await provisionEdge(owner, { edgeId: edgeB, tenants: [b.id] });
});

afterAll(async () => {
  await server.close();
  await Promise.all([owner.end(), app.end()]);
});

describe('overview', () => {
  test('every barn with its flock, climate now, today’s losses, latest weight and unread alerts; the tenant’s edges', async () => {
    await batch(a.id, edgeA, 1, 1);
    const r = await server.call('GET', `/api/v1/farms/${farmId}/overview`, { token: a.viewer.token });
    expect(r.status).toBe(200);
    expect(r.body.farm).toEqual({ farm_id: farmId, name: `Farm ${farmId}`, timezone: 'UTC' });
    const [one, two] = r.body.barns;
    expect(one).toMatchObject({ barn_id: 'barn-1', name: 'House barn-1', flock: { flock_id: flockId, age_days: 10, head_count: 496 } });
    expect(one.climate).toEqual([
      { metric: 'co2', value: 2500, unit: 'ppm', at: ago(minute), band: { min: null, max: 3000 }, status: 'ok' },
      { metric: 'humidity', value: 55, unit: '%', at: ago(20 * minute), band: { min: 40, max: 70 }, status: 'stale' },
      { metric: 'temperature', value: 32.5, unit: 'C', at: ago(2 * minute), band: { min: 25, max: 29 }, status: 'high' },
    ]);
    expect(one.mortality_today).toEqual({ dead: 3, culled: 1 });
    expect(one.latest_weight).toMatchObject({ kg: 1.234, at: ago(3_600_000), source: 'provisional' });
    expect(one.open_alerts).toBe(2);
    expect(two).toEqual({
      barn_id: 'barn-2',
      name: 'House barn-2',
      flock: null,
      climate: [{ metric: 'temperature', value: 22, unit: 'C', at: ago(minute), band: { min: 20, max: 24 }, status: 'ok' }],
      mortality_today: null,
      latest_weight: null,
      open_alerts: 0,
    });
    const edges = r.body.edges.filter((e: { edge_id: string }) => [edgeA, edgeShared, edgeB].includes(e.edge_id));
    expect(edges).toEqual([
      { edge_id: edgeA, last_batch_at: expect.any(String), status: 'ok' },
      { edge_id: edgeShared, last_batch_at: null, status: 'never' },
    ]);
  });

  test('another tenant’s farm is not found', async () => {
    const other = `farm-${uniq()}`;
    await new Seed(owner, b.id).farm(other);
    const r = await server.call('GET', `/api/v1/farms/${other}/overview`, { token: a.viewer.token });
    expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    const theirs = await server.call('GET', `/api/v1/farms/${farmId}/overview`, { token: b.viewer.token });
    expect([theirs.status, theirs.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('edge health', () => {
  test('last batch, events per minute over 15 minutes, batches of the last hour, the newest dead letter', async () => {
    const e = `edge-h-${uniq()}`;
    await provisionEdge(owner, { edgeId: e, tenants: [a.id, b.id] });
    const recent = await batch(a.id, e, 3, 5);
    await batch(a.id, e, 2, 10);
    const older = await batch(a.id, e, 4, 40);
    await batch(a.id, e, 1, 120);
    // B's events through the same edge are B's.
    const theirs = await batch(b.id, e, 50, 2);
    await deadLetter(a.id, older[0], 'storage_refused:23514 check violation', 30);
    await deadLetter(a.id, recent[0], 'delivery_limit', 4);
    await deadLetter(b.id, theirs[0], 'invalid_json', 1);
    const r = await server.call('GET', `/api/v1/edges/${e}/health`, { token: a.operator.token });
    expect(r.status).toBe(200);
    // 3 + 2 events in 15 minutes: 5 / 15 = 0.33 a minute; 3 batches within the hour. The last
    // batch 5 minutes ago is past the directory's 'ok' (within 5 minutes): late.
    expect(r.body).toEqual({
      edge_id: e,
      status: 'late',
      last_batch_at: expect.any(String),
      events_per_minute: 0.33,
      batches_last_hour: 3,
      last_error: { at: expect.any(String), code: 'delivery_limit', message: 'delivery_limit' },
      backlog: null,
    });
    const lastBatch = Date.parse(r.body.last_batch_at);
    expect(Date.now() - lastBatch).toBeGreaterThan(4 * minute);
    expect(Date.now() - lastBatch).toBeLessThan(6 * minute);
  });

  test('an edge without batches; viewers may not ask; another tenant’s edge is not found', async () => {
    const quiet = await server.call('GET', `/api/v1/edges/${edgeShared}/health`, { token: a.admin.token });
    expect(quiet.body).toEqual({
      edge_id: edgeShared,
      status: 'never',
      last_batch_at: null,
      events_per_minute: 0,
      batches_last_hour: 0,
      last_error: null,
      backlog: null,
    });
    const viewer = await server.call('GET', `/api/v1/edges/${edgeA}/health`, { token: a.viewer.token });
    expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);
    for (const id of [edgeB, `edge-none-${randomUUID().slice(0, 8)}`]) {
      const r = await server.call('GET', `/api/v1/edges/${id}/health`, { token: a.operator.token });
      expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
    }
    const bad = await server.call('GET', `/api/v1/edges/${encodeURIComponent('a b')}/health`, { token: a.operator.token });
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'invalid_query', 'edgeId']);
  });

  test('the backlog the edge reported with its newest batch, for every tenant it syncs for', async () => {
    const e = `edge-r-${uniq()}`;
    await provisionEdge(owner, { edgeId: e, tenants: [a.id, b.id] });
    const newer = new Date('2026-12-02T10:00:05.000Z');
    expect(await recordEdgeStatus(owner, e, { pendingEvents: 250, oldestPendingAt: new Date('2026-12-02T09:40:00.000Z'), reportedAt: newer })).toBe(true);
    // An older batch arriving later changes nothing.
    expect(await recordEdgeStatus(owner, e, { pendingEvents: 9000, oldestPendingAt: null, reportedAt: new Date('2026-12-02T10:00:00.000Z') })).toBe(false);
    const backlog = { pending_events: 250, oldest_pending_at: '2026-12-02T09:40:00.000Z', reported_at: newer.toISOString() };
    for (const t of [a, b]) {
      const r = await server.call('GET', `/api/v1/edges/${e}/health`, { token: t.operator.token });
      expect([r.status, r.body.backlog]).toEqual([200, backlog]);
    }
    // Caught up: nothing waits.
    await recordEdgeStatus(owner, e, { pendingEvents: 0, oldestPendingAt: null, reportedAt: new Date('2026-12-02T10:01:00.000Z') });
    const r = await server.call('GET', `/api/v1/edges/${e}/health`, { token: a.operator.token });
    expect(r.body.backlog).toEqual({ pending_events: 0, oldest_pending_at: null, reported_at: '2026-12-02T10:01:00.000Z' });
  });

  test('the tenant role cannot write the reported backlog', async () => {
    const c = await app.connect();
    try {
      await c.query('BEGIN');
      await c.query("SELECT set_config('farmiq.tenant_id', $1, true)", [a.id]);
      await expect(c.query('UPDATE edges SET reported_backlog = 0 WHERE edge_id = $1', [edgeA])).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});
