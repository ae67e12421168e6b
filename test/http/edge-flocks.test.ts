/**
 * The flock routes of the edge operator API (gateways/http/flocks/flocks-router.ts) against the
 * real edge test database: the operator token, validation errors with their field, each action's
 * rows and its outbox event in one commit, idempotent repeats, and the refusals with stable codes.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../../db/pool';
import { createEdgeOperatorApp } from '../../gateways/http/edge-app';
import { bearer, newOperator, request, serve, unreachableSyncControl, type Served } from './support';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { basic } from './support';
import { testEdgeDatabaseUrl } from '../support/stack';

let pool: Pool;
let served: Served;
let token: string;
const tenantId = randomUUID();

const json = (body: unknown, auth = true) => ({
  headers: { 'content-type': 'application/json', ...(auth ? bearer(token) : {}) },
  body: JSON.stringify(body),
});
const post = (path: string, body: unknown, auth = true) => request(served.url, 'POST', path, json(body, auth));
const get = (path: string) => request(served.url, 'GET', path, { headers: bearer(token) });

const placement = (barnId: string, extra: Record<string, unknown> = {}) => ({
  tenant_id: tenantId,
  farm_id: 'farm-1',
  barn_id: barnId,
  placed_at: '2026-03-01T00:00:00Z',
  species: 'broiler',
  breed: 'ross-308',
  sex: 'mixed',
  head_count: 20000,
  ...extra,
});

async function outboxTypes(): Promise<string[]> {
  const r = await pool.query<{ event_type: string }>('SELECT event_type FROM sync_outbox WHERE tenant_id = $1 ORDER BY id', [tenantId]);
  return r.rows.map((x) => x.event_type);
}

beforeAll(async () => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-edge-flocks' });
  token = (await newOperator(pool, 'edge-flocks')).token;
  served = await serve(createEdgeOperatorApp({ pool, log: pino({ level: 'silent' }), syncControl: unreachableSyncControl() }));
});

afterAll(async () => {
  await served?.close();
  await pool.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [tenantId]);
  await pool.query('DELETE FROM flocks WHERE tenant_id = $1', [tenantId]);
  await pool?.end();
});

test('every flock route needs an operator token; a device login is refused', async () => {
  const device = await provisionDevice(pool, {
    tenantId,
    farmId: 'farm-1',
    barnId: 'barn-1',
    deviceId: `counter-${randomUUID().slice(0, 6)}`,
    kind: 'mortality-counter',
  });
  const id = randomUUID();
  for (const [method, path] of [
    ['POST', '/api/v1/flocks'],
    ['GET', `/api/v1/flocks/${id}`],
    ['POST', `/api/v1/flocks/${id}/mortality`],
    ['POST', `/api/v1/flocks/${id}/depopulate`],
  ]) {
    const none = await request(served.url, method, path, { headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    expect([path, none.status, none.body.error.code]).toEqual([path, 401, 'operator_unauthenticated']);
    const asDevice = await request(served.url, method, path, {
      headers: { 'content-type': 'application/json', ...basic(device.username, device.password) },
      body: method === 'POST' ? '{}' : undefined,
    });
    expect([path, asDevice.status, asDevice.body.error.code]).toEqual([path, 401, 'operator_unauthenticated']);
  }
  expect(await outboxTypes()).toEqual([]);
});

test('place, record two days, read the head count, depopulate: rows and outbox events, each once', async () => {
  const placed = await post('/api/v1/flocks', placement('barn-1'));
  expect(placed.status).toBe(201);
  const flockId: string = placed.body.flock.flock_id;
  expect(placed.body.flock).toMatchObject({ barn_id: 'barn-1', status: 'placed', head_count_placed: 20000, age_at_placement_days: 0, depopulated_at: null });
  // The same placement again (a retried request) changes nothing.
  const again = await post('/api/v1/flocks', placement('barn-1', { flock_id: flockId }));
  expect([again.status, again.body.created]).toEqual([200, false]);

  expect((await post(`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-01', dead: 30, culled: 0 })).status).toBe(201);
  expect((await post(`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-02', dead: 20, culled: 5, reason: 'leg problems' })).status).toBe(201);
  // A correction of day 2: the operator's newer count replaces the first.
  expect((await post(`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-02', dead: 25, culled: 5 })).status).toBe(201);

  // 20000 − 30 = 19970 after day 1; − 25 − 5 = 19940 after day 2.
  const day1 = await get(`/api/v1/flocks/${flockId}?day=2026-03-01`);
  expect([day1.status, day1.body.head_count]).toEqual([200, 19970]);
  const day2 = await get(`/api/v1/flocks/${flockId}?day=2026-03-02`);
  expect(day2.body.head_count).toBe(19940);
  expect(day2.body.daily_counts.map((d: { day: string; dead: number; culled: number }) => [d.day, d.dead, d.culled])).toEqual([
    ['2026-03-01', 30, 0],
    ['2026-03-02', 25, 5],
  ]);

  const gone = await post(`/api/v1/flocks/${flockId}/depopulate`, { depopulated_at: '2026-04-05T06:00:00Z' });
  expect([gone.status, gone.body.changed, gone.body.flock.status]).toEqual([200, true, 'depopulated']);
  const goneAgain = await post(`/api/v1/flocks/${flockId}/depopulate`, { depopulated_at: '2026-04-05T06:00:00Z' });
  expect([goneAgain.status, goneAgain.body.changed]).toEqual([200, false]);

  expect(await outboxTypes()).toEqual([
    'flock.placed',
    'flock.mortality.recorded',
    'flock.mortality.recorded',
    'flock.mortality.recorded',
    'flock.depopulated',
  ]);
  const events = await pool.query(
    `SELECT envelope FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'flock.mortality.recorded' ORDER BY id DESC LIMIT 1`,
    [tenantId],
  );
  expect(events.rows[0].envelope).toMatchObject({
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    payload: { flock_id: flockId, day: '2026-03-02', dead: 25, culled: 5, source: 'operator' },
  });

  // After depopulation: no more counts; the barn is free for the next flock.
  const late = await post(`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-03', dead: 1, culled: 0 });
  expect([late.status, late.body.error.code]).toEqual([409, 'flock_depopulated']);
  expect((await post('/api/v1/flocks', placement('barn-1', { placed_at: '2026-04-20T08:00:00Z' }))).status).toBe(201);
});

test('refusals carry stable codes and name the field', async () => {
  const first = await post('/api/v1/flocks', placement('barn-2'));
  const flockId: string = first.body.flock.flock_id;
  const occupied = await post('/api/v1/flocks', placement('barn-2'));
  expect([occupied.status, occupied.body.error.code]).toEqual([409, 'barn_occupied']);
  const conflict = await post('/api/v1/flocks', placement('barn-2', { flock_id: flockId, head_count: 19000 }));
  expect([conflict.status, conflict.body.error.code]).toEqual([409, 'flock_id_conflict']);

  const cases: [string, unknown, string][] = [
    ['/api/v1/flocks', placement('barn-3', { species: 'turkey' }), 'species'],
    ['/api/v1/flocks', placement('barn-3', { head_count: 0 }), 'head_count'],
    ['/api/v1/flocks', placement('barn-3', { tenant_id: 'tenant-a' }), 'tenant_id'],
    ['/api/v1/flocks', placement('barn-3', { colour: 'white' }), 'colour'],
    // 42 typed for 42 g: no broiler weighs 42 kg at placement (0.02–6 kg); no pig is placed at 40 g (0.5–400 kg).
    ['/api/v1/flocks', placement('barn-3', { placement_weight_kg: 42 }), 'placement_weight_kg'],
    ['/api/v1/flocks', placement('barn-3', { species: 'swine', breed: 'large-white', placement_weight_kg: 0.04 }), 'placement_weight_kg'],
    ['/api/v1/flocks', placement('barn-3', { placement_weight_kg: 0 }), 'placement_weight_kg'],
    ['/api/v1/flocks', placement('barn-3', { placement_weight_kg: '0.042' }), 'placement_weight_kg'],
    [`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-02', dead: -1, culled: 0 }, 'dead'],
    [`/api/v1/flocks/${flockId}/mortality`, { day: '2 March', dead: 1, culled: 0 }, 'day'],
    [`/api/v1/flocks/${flockId}/mortality`, { day: '2026-03-02', dead: 1, culled: 0, source: 'device' }, 'source'],
    [`/api/v1/flocks/${flockId}/depopulate`, { depopulated_at: 'soon' }, 'depopulated_at'],
  ];
  for (const [path, body, field] of cases) {
    const r = await post(path, body);
    expect([path, field, r.status, r.body.error.code, r.body.error.field]).toEqual([path, field, 400, 'invalid_body', field]);
  }
  const notJson = await request(served.url, 'POST', '/api/v1/flocks', {
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: '{"tenant_id":',
  });
  expect([notJson.status, notJson.body.error.code]).toEqual([400, 'invalid_body']);

  const badId = await get('/api/v1/flocks/not-a-uuid');
  expect([badId.status, badId.body.error.code, badId.body.error.field]).toEqual([400, 'invalid_query', 'flockId']);
  const missing = await post(`/api/v1/flocks/${randomUUID()}/mortality`, { day: '2026-03-02', dead: 1, culled: 0 });
  expect([missing.status, missing.body.error.code]).toEqual([404, 'flock_not_found']);
  const beforePlacement = await post(`/api/v1/flocks/${flockId}/mortality`, { day: '2026-02-28', dead: 1, culled: 0 });
  expect([beforePlacement.status, beforePlacement.body.error.code]).toEqual([422, 'flock_day_out_of_range']);
  const tooEarly = await post(`/api/v1/flocks/${flockId}/depopulate`, { depopulated_at: '2026-02-01T00:00:00Z' });
  expect([tooEarly.status, tooEarly.body.error.code]).toEqual([422, 'depopulated_before_placement']);

  // Only the one placement of barn-2 reached the outbox.
  const r = await pool.query(`SELECT count(*)::int AS n FROM sync_outbox WHERE tenant_id = $1 AND envelope->'payload'->>'barn_id' IN ('barn-2', 'barn-3')`, [
    tenantId,
  ]);
  expect(r.rows[0].n).toBe(1);
});

test('the mean weight at placement is kept on the flock and sent in flock.placed; without it the event has no such field', async () => {
  // 20,000 Ross 308 chicks, a sample of boxes weighed at 42 g a chick.
  const weighed = await post('/api/v1/flocks', placement('barn-4', { placement_weight_kg: 0.042 }));
  expect([weighed.status, weighed.body.flock.placement_weight_kg]).toEqual([201, 0.042]);
  const flockId: string = weighed.body.flock.flock_id;
  expect((await get(`/api/v1/flocks/${flockId}?day=2026-03-01`)).body.flock.placement_weight_kg).toBe(0.042);
  // A retry with the same figures is the same placement; one without the weight is other figures.
  const again = await post('/api/v1/flocks', placement('barn-4', { flock_id: flockId, placement_weight_kg: 0.042 }));
  expect([again.status, again.body.created]).toEqual([200, false]);
  const other = await post('/api/v1/flocks', placement('barn-4', { flock_id: flockId }));
  expect([other.status, other.body.error.code]).toEqual([409, 'flock_id_conflict']);

  const unweighed = await post('/api/v1/flocks', placement('barn-5'));
  expect([unweighed.status, unweighed.body.flock.placement_weight_kg]).toEqual([201, null]);

  const sent = await pool.query<{ payload: Record<string, unknown> }>(
    `SELECT envelope->'payload' AS payload FROM sync_outbox
      WHERE tenant_id = $1 AND event_type = 'flock.placed' AND envelope->'payload'->>'barn_id' IN ('barn-4', 'barn-5')
      ORDER BY id`,
    [tenantId],
  );
  expect(sent.rows.map((r) => [r.payload.barn_id, r.payload.placement_weight_kg])).toEqual([
    ['barn-4', 0.042],
    ['barn-5', undefined],
  ]);
  expect(sent.rows[1].payload).not.toHaveProperty('placement_weight_kg');
});
