/**
 * The directory API (gateways/http/directory/, docs/directory.md) on the real database through the
 * tenant pool (row-level security): farms, barns, flocks, devices and the tenant's farm servers.
 * Every answer is checked against the OpenAPI document (serveApi). Each test makes its own rows in
 * two fresh tenants, A (the caller) and B (the other tenant whose ids A must not reach).
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { provisionEdge, revokeEdge } from '../../cloud/edges';
import { EdgeAuthenticator } from '../../cloud/ingestion/edge-auth';
import { storeFreshEvents } from '../../cloud/ingestion/ingestion-outbox';
import { loadPrivateKey, loadPublicKey, signRequest } from '../../domain/sync';
import { createDevicesRouter } from '../../gateways/http/directory/devices-router';
import { createEdgesRouter } from '../../gateways/http/directory/edges-router';
import { createFarmsRouter } from '../../gateways/http/directory/farms-router';
import { logger } from '../../platform/logger';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from './api-support';

// The farms' clock: 12:00 UTC is 19:00 in Bangkok, the same farm day there.
const now = new Date('2026-06-15T12:00:00Z');

let owner: Pool;
let app: Pool;
let server: ApiServer;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  server = await serveApi({
    routers: [createFarmsRouter({ pool: app, now: () => now }), createDevicesRouter({ pool: app }), createEdgesRouter({ pool: app })],
  });
  a = await seedTenant(owner, 'Directory A');
  b = await seedTenant(owner, 'Directory B');
});

afterAll(async () => {
  await server.close();
  await Promise.all([owner.end(), app.end()]);
});

const uniq = () => randomUUID().slice(0, 8);

async function farmOf(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const farmId = `farm-${uniq()}`;
  const r = await server.call('POST', '/api/v1/farms', { token: t.admin.token, body: { farm_id: farmId, name: 'Home farm', species: 'broiler', ...body } });
  expect(r.status).toBe(201);
  return farmId;
}

async function barnOf(t: TestTenant, farmId: string): Promise<string> {
  const barnId = `barn-${uniq()}`;
  const r = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: t.admin.token, body: { barn_id: barnId, name: 'House 1' } });
  expect(r.status).toBe(201);
  return barnId;
}

const farmRow = async (tenantId: string, farmId: string) =>
  (
    await owner.query(
      'SELECT name, species, timezone, comfort_temp_min_c::float8 AS min, comfort_temp_max_c::float8 AS max FROM farms WHERE tenant_id = $1 AND farm_id = $2',
      [tenantId, farmId],
    )
  ).rows[0];

describe('farms', () => {
  test('an admin adds a farm; viewers list and read it', async () => {
    const farmId = `farm-${uniq()}`;
    const body = { farm_id: farmId, name: 'Lam Luk Ka', species: 'broiler', timezone: 'Asia/Bangkok', comfort_temp_min_c: 26, comfort_temp_max_c: 32.5 };
    const made = await server.call('POST', '/api/v1/farms', { token: a.admin.token, body });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({ ...body, barn_count: 0, created_at: expect.any(String) });

    const list = await server.call('GET', '/api/v1/farms', { token: a.viewer.token });
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(made.body);
    const one = await server.call('GET', `/api/v1/farms/${farmId}`, { token: a.viewer.token });
    expect([one.status, one.body]).toEqual([200, { farm: made.body, barns: [] }]);

    // The time zone defaults to UTC and the comfort band to none.
    const plain = await server.call('POST', '/api/v1/farms', { token: a.admin.token, body: { farm_id: `farm-${uniq()}`, name: 'Plain', species: 'swine' } });
    expect([plain.body.timezone, plain.body.comfort_temp_min_c, plain.body.comfort_temp_max_c]).toEqual(['UTC', null, null]);
  });

  test('another tenant’s farms are neither listed nor readable', async () => {
    const farmId = await farmOf(b);
    const list = await server.call('GET', '/api/v1/farms', { token: a.viewer.token });
    expect(list.body.items.map((f: { farm_id: string }) => f.farm_id)).not.toContain(farmId);
    const one = await server.call('GET', `/api/v1/farms/${farmId}`, { token: a.viewer.token });
    expect([one.status, one.body.error.code]).toEqual([404, 'farm_not_found']);
  });

  test('a farm id already used by the tenant is 409 farm_exists; another tenant may use it', async () => {
    const farmId = await farmOf(a);
    const again = await server.call('POST', '/api/v1/farms', { token: a.admin.token, body: { farm_id: farmId, name: 'Again', species: 'broiler' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'farm_exists']);
    expect((await farmRow(a.id, farmId)).name).toBe('Home farm');
    const other = await server.call('POST', '/api/v1/farms', { token: b.admin.token, body: { farm_id: farmId, name: 'Theirs', species: 'swine' } });
    expect(other.status).toBe(201);
  });

  test('only an admin adds or changes a farm', async () => {
    const farmId = await farmOf(a);
    for (const role of ['viewer', 'operator'] as const) {
      const add = await server.call('POST', '/api/v1/farms', { token: a[role].token, body: { farm_id: `farm-${uniq()}`, name: 'X', species: 'broiler' } });
      expect([add.status, add.body.error.code]).toEqual([403, 'forbidden']);
      const change = await server.call('PATCH', `/api/v1/farms/${farmId}`, { token: a[role].token, body: { name: 'Renamed' } });
      expect([change.status, change.body.error.code]).toEqual([403, 'forbidden']);
    }
    expect((await farmRow(a.id, farmId)).name).toBe('Home farm');
  });

  test.each([
    [{ farm_id: 'a/b', name: 'X', species: 'broiler' }, 'farm_id'],
    [{ farm_id: '..', name: 'X', species: 'broiler' }, 'farm_id'],
    [{ farm_id: 'f1', name: '  ', species: 'broiler' }, 'name'],
    [{ farm_id: 'f1', name: 'X', species: 'goat' }, 'species'],
    [{ farm_id: 'f1', name: 'X', species: 'broiler', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ farm_id: 'f1', name: 'X', species: 'broiler', comfort_temp_min_c: 20 }, 'comfort_temp_max_c'],
    [{ farm_id: 'f1', name: 'X', species: 'broiler', comfort_temp_min_c: 30, comfort_temp_max_c: 20 }, 'comfort_temp_min_c'],
    [{ farm_id: 'f1', name: 'X', species: 'broiler', owner: 'me' }, ''],
  ])('a new farm %j is refused: invalid_body naming %s', async (body, field) => {
    const r = await server.call('POST', '/api/v1/farms', { token: a.admin.token, body });
    expect([r.status, r.body.error.code]).toEqual([400, 'invalid_body']);
    if (field) expect(r.body.error.field).toBe(field);
  });

  test('an admin changes a farm’s fields and its comfort band, which stays whole', async () => {
    const farmId = await farmOf(a, { comfort_temp_min_c: 20, comfort_temp_max_c: 30 });
    const renamed = await server.call('PATCH', `/api/v1/farms/${farmId}`, {
      token: a.admin.token,
      body: { name: 'North', timezone: 'Asia/Bangkok', comfort_temp_max_c: 31 },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      farm_id: farmId,
      name: 'North',
      timezone: 'Asia/Bangkok',
      species: 'broiler',
      comfort_temp_min_c: 20,
      comfort_temp_max_c: 31,
    });

    const half = await server.call('PATCH', `/api/v1/farms/${farmId}`, { token: a.admin.token, body: { comfort_temp_min_c: null } });
    expect([half.status, half.body.error.code, half.body.error.field]).toEqual([400, 'invalid_body', 'comfort_temp_min_c']);
    const upside = await server.call('PATCH', `/api/v1/farms/${farmId}`, { token: a.admin.token, body: { comfort_temp_min_c: 35 } });
    expect([upside.status, upside.body.error.code]).toEqual([400, 'invalid_body']);
    expect(await farmRow(a.id, farmId)).toEqual({ name: 'North', species: 'broiler', timezone: 'Asia/Bangkok', min: 20, max: 31 });

    const cleared = await server.call('PATCH', `/api/v1/farms/${farmId}`, {
      token: a.admin.token,
      body: { comfort_temp_min_c: null, comfort_temp_max_c: null, species: 'swine' },
    });
    expect([cleared.body.comfort_temp_min_c, cleared.body.comfort_temp_max_c, cleared.body.species]).toEqual([null, null, 'swine']);
    const badZone = await server.call('PATCH', `/api/v1/farms/${farmId}`, { token: a.admin.token, body: { timezone: 'Nowhere' } });
    expect([badZone.status, badZone.body.error.field]).toEqual([400, 'timezone']);
  });

  test('another tenant’s farm cannot be changed: 404, and its row stays', async () => {
    const farmId = await farmOf(b);
    const r = await server.call('PATCH', `/api/v1/farms/${farmId}`, { token: a.admin.token, body: { name: 'Mine now' } });
    expect([r.status, r.body.error.code]).toEqual([404, 'farm_not_found']);
    expect((await farmRow(b.id, farmId)).name).toBe('Home farm');
  });
});

describe('barns', () => {
  test('an admin adds and renames barns; the farm counts them', async () => {
    const farmId = await farmOf(a, { species: 'swine' });
    const made = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a.admin.token, body: { barn_id: 'house-1', name: 'House 1' } });
    expect([made.status, made.body]).toEqual([
      201,
      { farm_id: farmId, barn_id: 'house-1', name: 'House 1', species: 'swine', current_flock: null, device_count: 0 },
    ]);
    await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a.admin.token, body: { barn_id: 'house-2', name: 'House 2' } });

    const renamed = await server.call('PATCH', `/api/v1/farms/${farmId}/barns/house-2`, { token: a.admin.token, body: { name: 'Sow barn' } });
    expect([renamed.status, renamed.body.name]).toEqual([200, 'Sow barn']);
    const list = await server.call('GET', `/api/v1/farms/${farmId}/barns`, { token: a.viewer.token });
    expect(list.body.items.map((x: { barn_id: string; name: string }) => [x.barn_id, x.name])).toEqual([
      ['house-1', 'House 1'],
      ['house-2', 'Sow barn'],
    ]);
    const farm = await server.call('GET', `/api/v1/farms/${farmId}`, { token: a.viewer.token });
    expect(farm.body.farm.barn_count).toBe(2);
    expect(farm.body.barns).toEqual(list.body.items);
  });

  test('a barn id the farm has is 409 barn_exists; a barn for an unknown farm is 404', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    const again = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a.admin.token, body: { barn_id: barnId, name: 'Again' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'barn_exists']);
    const noFarm = await server.call('POST', `/api/v1/farms/no-such-farm/barns`, { token: a.admin.token, body: { barn_id: 'b1', name: 'B' } });
    expect([noFarm.status, noFarm.body.error.code]).toEqual([404, 'farm_not_found']);
    const noBarn = await server.call('PATCH', `/api/v1/farms/${farmId}/barns/no-such-barn`, { token: a.admin.token, body: { name: 'B' } });
    expect([noBarn.status, noBarn.body.error.code]).toEqual([404, 'barn_not_found']);
    const bad = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a.admin.token, body: { barn_id: 'has space', name: 'B' } });
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'invalid_body', 'barn_id']);
    const badPath = await server.call('GET', `/api/v1/farms/${encodeURIComponent('a b')}/barns`, { token: a.viewer.token });
    expect([badPath.status, badPath.body.error.code, badPath.body.error.field]).toEqual([400, 'invalid_query', 'farmId']);
  });

  test('roles: viewers and operators may not add or rename barns', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    for (const role of ['viewer', 'operator'] as const) {
      const add = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a[role].token, body: { barn_id: 'x', name: 'X' } });
      expect(add.status).toBe(403);
      const rename = await server.call('PATCH', `/api/v1/farms/${farmId}/barns/${barnId}`, { token: a[role].token, body: { name: 'X' } });
      expect(rename.status).toBe(403);
    }
  });

  test('another tenant’s farm and barns: 404 on every route, their rows unchanged', async () => {
    const farmId = await farmOf(b);
    const barnId = await barnOf(b, farmId);
    const list = await server.call('GET', `/api/v1/farms/${farmId}/barns`, { token: a.viewer.token });
    expect([list.status, list.body.error.code]).toEqual([404, 'farm_not_found']);
    const add = await server.call('POST', `/api/v1/farms/${farmId}/barns`, { token: a.admin.token, body: { barn_id: 'sneaky', name: 'X' } });
    expect([add.status, add.body.error.code]).toEqual([404, 'farm_not_found']);
    const rename = await server.call('PATCH', `/api/v1/farms/${farmId}/barns/${barnId}`, { token: a.admin.token, body: { name: 'X' } });
    expect(rename.status).toBe(404);
    const flocks = await server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/flocks`, { token: a.viewer.token });
    expect(flocks.status).toBe(404);
    const rows = await owner.query('SELECT barn_id, name FROM barns WHERE tenant_id = $1 AND farm_id = $2', [b.id, farmId]);
    expect(rows.rows).toEqual([{ barn_id: barnId, name: 'House 1' }]);
  });
});

describe('flocks', () => {
  async function placeFlock(
    t: TestTenant,
    farmId: string,
    barnId: string,
    f: { placedAt: string | null; depopulatedAt?: string; head?: number; age?: number; breed?: string },
  ): Promise<string> {
    const flockId = randomUUID();
    const placed = f.placedAt !== null;
    await owner.query(
      `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days, placed_at, placed_event_id,
                           depopulated_at, depopulated_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        t.id,
        flockId,
        farmId,
        barnId,
        placed ? 'broiler' : null,
        placed ? (f.breed ?? 'Ross 308') : null,
        placed ? 'mixed' : null,
        placed ? (f.head ?? 1000) : null,
        placed ? (f.age ?? 0) : null,
        f.placedAt,
        placed ? randomUUID() : null,
        f.depopulatedAt ?? null,
        f.depopulatedAt ? randomUUID() : null,
      ],
    );
    return flockId;
  }

  async function losses(
    t: TestTenant,
    farmId: string,
    barnId: string,
    flockId: string,
    day: string,
    source: 'device' | 'operator',
    dead: number,
    culled: number,
  ) {
    await owner.query(
      `INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, farm_id, barn_id, dead, culled, event_id, device_id, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'counter-1', now())`,
      [t.id, flockId, day, source, farmId, barnId, dead, culled, randomUUID()],
    );
  }

  test('the barn’s flocks, newest first, with age and head count on the farm’s day', async () => {
    const farmId = await farmOf(a, { timezone: 'Asia/Bangkok', species: 'swine' });
    const barnId = await barnOf(a, farmId);
    // 20:00 UTC on 5 June is 03:00 on 6 June in Bangkok: placed on the 6th, 9 farm days before
    // the 15th (in UTC it would be 10), one day old at placement.
    const current = await placeFlock(a, farmId, barnId, { placedAt: '2026-06-05T20:00:00Z', head: 1000, age: 1, breed: 'Cobb 500' });
    await losses(a, farmId, barnId, current, '2026-06-07', 'device', 5, 1);
    await losses(a, farmId, barnId, current, '2026-06-07', 'operator', 4, 0); // the operator's count of a day stands
    await losses(a, farmId, barnId, current, '2026-06-10', 'device', 2, 0);
    await losses(a, farmId, barnId, current, '2026-06-16', 'device', 50, 0); // a day still to come
    const earlier = await placeFlock(a, farmId, barnId, { placedAt: '2026-04-01T00:00:00Z', depopulatedAt: '2026-05-10T03:00:00Z', head: 500 });
    await placeFlock(a, farmId, barnId, { placedAt: null, depopulatedAt: '2026-06-01T00:00:00Z' }); // its placement has not arrived

    const r = await server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/flocks`, { token: a.viewer.token });
    expect(r.status).toBe(200);
    const currentJson = {
      flock_id: current,
      farm_id: farmId,
      barn_id: barnId,
      species: 'broiler',
      breed: 'Cobb 500',
      sex: 'mixed',
      head_count_placed: 1000,
      placed_at: '2026-06-05T20:00:00.000Z',
      depopulated_at: null,
      age_days: 10,
      head_count: 994,
    };
    expect(r.body.items).toEqual([
      currentJson,
      // 1 April 07:00 to 10 May in Bangkok: 39 days; none left after depopulation.
      expect.objectContaining({ flock_id: earlier, depopulated_at: '2026-05-10T03:00:00.000Z', age_days: 39, head_count: 0 }),
    ]);

    const barns = await server.call('GET', `/api/v1/farms/${farmId}/barns`, { token: a.viewer.token });
    expect(barns.body.items).toEqual([expect.objectContaining({ barn_id: barnId, species: 'broiler', current_flock: currentJson })]);
    const farm = await server.call('GET', `/api/v1/farms/${farmId}`, { token: a.viewer.token });
    expect(farm.body.barns[0].current_flock).toEqual(currentJson);
  });

  test('an empty barn has no flocks and no current flock; an unknown barn is 404', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    const r = await server.call('GET', `/api/v1/farms/${farmId}/barns/${barnId}/flocks`, { token: a.viewer.token });
    expect([r.status, r.body]).toEqual([200, { items: [] }]);
    const none = await server.call('GET', `/api/v1/farms/${farmId}/barns/nope/flocks`, { token: a.viewer.token });
    expect([none.status, none.body.error.code]).toEqual([404, 'barn_not_found']);
  });
});

describe('devices', () => {
  test('an admin adds a device and is told the farm server command; viewers list by farm and barn', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    const other = await barnOf(a, farmId);
    const r = await server.call('POST', '/api/v1/devices', {
      token: a.admin.token,
      body: { farm_id: farmId, barn_id: barnId, device_id: 'temp-01', kind: 'sensor' },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      device: { farm_id: farmId, barn_id: barnId, device_id: 'temp-01', kind: 'sensor', created_at: expect.any(String) },
      provisioning: {
        status: 'pending_on_farm_server',
        command: `farmiq devices add --tenant ${a.id} --farm ${farmId} --barn ${barnId} --device temp-01 --kind sensor`,
      },
    });
    await server.call('POST', '/api/v1/devices', {
      token: a.admin.token,
      body: { farm_id: farmId, barn_id: other, device_id: 'counter-1', kind: 'mortality-counter' },
    });
    await server.call('POST', '/api/v1/devices', {
      token: a.admin.token,
      body: { farm_id: farmId, barn_id: barnId, device_id: 'scale-1', kind: 'weighvision-station' },
    });

    const ids = (body: { items: { barn_id: string; device_id: string }[] }) => body.items.map((d) => `${d.barn_id}/${d.device_id}`);
    const byFarm = await server.call('GET', `/api/v1/devices?farm_id=${farmId}`, { token: a.viewer.token });
    expect(ids(byFarm.body).sort()).toEqual([`${barnId}/scale-1`, `${barnId}/temp-01`, `${other}/counter-1`].sort());
    const byBarn = await server.call('GET', `/api/v1/devices?farm_id=${farmId}&barn_id=${barnId}`, { token: a.viewer.token });
    expect(ids(byBarn.body)).toEqual([`${barnId}/scale-1`, `${barnId}/temp-01`]);
    const all = await server.call('GET', '/api/v1/devices', { token: a.viewer.token });
    expect(ids(all.body)).toEqual(expect.arrayContaining(ids(byFarm.body)));
    const barns = await server.call('GET', `/api/v1/farms/${farmId}/barns`, { token: a.viewer.token });
    expect(Object.fromEntries(barns.body.items.map((x: { barn_id: string; device_count: number }) => [x.barn_id, x.device_count]))).toEqual({
      [barnId]: 2,
      [other]: 1,
    });
  });

  test('an admin removes a device: 204, then 404 device_not_found', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    await server.call('POST', '/api/v1/devices', {
      token: a.admin.token,
      body: { farm_id: farmId, barn_id: barnId, device_id: 'feeder-1', kind: 'feed-dispenser' },
    });
    const path = `/api/v1/farms/${farmId}/barns/${barnId}/devices/feeder-1`;
    const gone = await server.call('DELETE', path, { token: a.admin.token });
    expect([gone.status, gone.text]).toEqual([204, '']);
    const again = await server.call('DELETE', path, { token: a.admin.token });
    expect([again.status, again.body.error.code]).toEqual([404, 'device_not_found']);
    const list = await server.call('GET', `/api/v1/devices?farm_id=${farmId}`, { token: a.viewer.token });
    expect(list.body.items).toEqual([]);
  });

  test('conflicts, unknown farms and barns, and invalid input', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    const body = { farm_id: farmId, barn_id: barnId, device_id: 'temp-01', kind: 'sensor' };
    expect((await server.call('POST', '/api/v1/devices', { token: a.admin.token, body })).status).toBe(201);
    const again = await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { ...body, kind: 'feed-dispenser' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'device_exists']);
    const noBarn = await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { ...body, barn_id: 'nope' } });
    expect([noBarn.status, noBarn.body.error.code]).toEqual([404, 'barn_not_found']);
    const noFarm = await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { ...body, farm_id: 'nope' } });
    expect([noFarm.status, noFarm.body.error.code]).toEqual([404, 'farm_not_found']);
    const kind = await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { ...body, kind: 'toaster' } });
    expect([kind.status, kind.body.error.code, kind.body.error.field]).toEqual([400, 'invalid_body', 'kind']);
    const id = await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { ...body, device_id: 'a+b' } });
    expect([id.status, id.body.error.field]).toEqual([400, 'device_id']);
    const barnOnly = await server.call('GET', `/api/v1/devices?barn_id=${barnId}`, { token: a.viewer.token });
    expect([barnOnly.status, barnOnly.body.error.code, barnOnly.body.error.field]).toEqual([400, 'invalid_query', 'farm_id']);
    const unknownFilter = await server.call('GET', `/api/v1/devices?farm_id=${farmId}&barn_id=nope`, { token: a.viewer.token });
    expect([unknownFilter.status, unknownFilter.body.error.code]).toEqual([404, 'barn_not_found']);
    const stray = await server.call('GET', `/api/v1/devices?kind=sensor`, { token: a.viewer.token });
    expect([stray.status, stray.body.error.code]).toEqual([400, 'invalid_query']);
  });

  test('roles: only an admin adds or removes devices', async () => {
    const farmId = await farmOf(a);
    const barnId = await barnOf(a, farmId);
    await server.call('POST', '/api/v1/devices', { token: a.admin.token, body: { farm_id: farmId, barn_id: barnId, device_id: 'd1', kind: 'sensor' } });
    for (const role of ['viewer', 'operator'] as const) {
      const add = await server.call('POST', '/api/v1/devices', {
        token: a[role].token,
        body: { farm_id: farmId, barn_id: barnId, device_id: 'd2', kind: 'sensor' },
      });
      expect([add.status, add.body.error.code]).toEqual([403, 'forbidden']);
      const del = await server.call('DELETE', `/api/v1/farms/${farmId}/barns/${barnId}/devices/d1`, { token: a[role].token });
      expect(del.status).toBe(403);
    }
    const rows = await owner.query('SELECT device_id FROM devices WHERE tenant_id = $1 AND farm_id = $2', [a.id, farmId]);
    expect(rows.rows).toEqual([{ device_id: 'd1' }]);
  });

  test('another tenant’s barns and devices: 404, their rows unchanged', async () => {
    const farmId = await farmOf(b);
    const barnId = await barnOf(b, farmId);
    await server.call('POST', '/api/v1/devices', { token: b.admin.token, body: { farm_id: farmId, barn_id: barnId, device_id: 'd1', kind: 'sensor' } });
    const add = await server.call('POST', '/api/v1/devices', {
      token: a.admin.token,
      body: { farm_id: farmId, barn_id: barnId, device_id: 'd2', kind: 'sensor' },
    });
    expect([add.status, add.body.error.code]).toEqual([404, 'farm_not_found']);
    const del = await server.call('DELETE', `/api/v1/farms/${farmId}/barns/${barnId}/devices/d1`, { token: a.admin.token });
    expect(del.status).toBe(404);
    const list = await server.call('GET', `/api/v1/devices?farm_id=${farmId}`, { token: a.viewer.token });
    expect(list.status).toBe(404);
    const all = await server.call('GET', '/api/v1/devices', { token: a.viewer.token });
    expect(all.body.items.filter((d: { farm_id: string }) => d.farm_id === farmId)).toEqual([]);
    const rows = await owner.query('SELECT device_id FROM devices WHERE tenant_id = $1 AND farm_id = $2', [b.id, farmId]);
    expect(rows.rows).toEqual([{ device_id: 'd1' }]);
  });
});

describe('edges', () => {
  const log = logger('directory-test');

  /** Whether the cloud's edge authentication accepts a request this key signed for this edge. */
  async function accepted(edgeId: string, keyId: string, privateKeyPem: string): Promise<string> {
    const body = Buffer.from('{"events":[]}');
    const headers = signRequest({ edgeId, keyId, privateKey: loadPrivateKey(privateKeyPem) }, 'POST', '/api/v1/edge/batch', body);
    try {
      await new EdgeAuthenticator({ pool: owner, log }).authenticate({ method: 'POST', path: '/api/v1/edge/batch', body, header: (n) => headers[n] });
      return 'accepted';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  }

  const storedKey = async (edgeId: string) =>
    (await owner.query<{ key_id: string; public_key: string }>('SELECT key_id, public_key FROM edges WHERE edge_id = $1', [edgeId])).rows[0];

  test('an admin registers a farm server; the key it gets signs requests the cloud accepts', async () => {
    const edgeId = `edge-${uniq()}`;
    const r = await server.call('POST', '/api/v1/edges', { token: a.admin.token, body: { edge_id: edgeId, name: 'Lam Luk Ka server' } });
    expect(r.status).toBe(201);
    expect(r.body.edge).toEqual({
      edge_id: edgeId,
      name: 'Lam Luk Ka server',
      key_id: expect.any(String),
      created_at: expect.any(String),
      revoked_at: null,
      last_batch_at: null,
      status: 'never',
    });
    const stored = await storedKey(edgeId);
    expect(stored.key_id).toBe(r.body.edge.key_id);
    // The private key in the answer is the pair of the public key the cloud keeps.
    const derived = createPublicKey(loadPrivateKey(r.body.private_key_pem)).export({ type: 'spki', format: 'pem' }).toString();
    expect(derived).toBe(loadPublicKey(stored.public_key).export({ type: 'spki', format: 'pem' }).toString());
    expect(await accepted(edgeId, r.body.edge.key_id, r.body.private_key_pem)).toBe('accepted');
    // It syncs for the caller's tenant only.
    expect((await owner.query('SELECT tenant_id::text FROM edge_tenants WHERE edge_id = $1', [edgeId])).rows).toEqual([{ tenant_id: a.id }]);
    const list = await server.call('GET', '/api/v1/edges', { token: a.operator.token });
    expect(list.body.items).toContainEqual(r.body.edge);
  });

  test('rotating the key: the new key is accepted, the old one refused at once', async () => {
    const edgeId = `edge-${uniq()}`;
    const made = await server.call('POST', '/api/v1/edges', { token: a.admin.token, body: { edge_id: edgeId } });
    const rotated = await server.call('POST', `/api/v1/edges/${edgeId}/rotate-key`, { token: a.admin.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key_id).not.toBe(made.body.edge.key_id);
    expect((await storedKey(edgeId)).key_id).toBe(rotated.body.key_id);
    expect(await accepted(edgeId, rotated.body.key_id, rotated.body.private_key_pem)).toBe('accepted');
    expect(await accepted(edgeId, made.body.edge.key_id, made.body.private_key_pem)).toBe('unknown_edge');
    const list = await server.call('GET', '/api/v1/edges', { token: a.operator.token });
    expect(list.body.items.find((e: { edge_id: string }) => e.edge_id === edgeId)).toMatchObject({ key_id: rotated.body.key_id, name: null });
  });

  test('an edge id already registered, by anyone, is 409 edge_exists', async () => {
    const edgeId = `edge-${uniq()}`;
    await provisionEdge(owner, { edgeId, tenants: [b.id] });
    const before = await storedKey(edgeId);
    const r = await server.call('POST', '/api/v1/edges', { token: a.admin.token, body: { edge_id: edgeId } });
    expect([r.status, r.body.error.code]).toEqual([409, 'edge_exists']);
    expect(await storedKey(edgeId)).toEqual(before);
    expect((await owner.query('SELECT tenant_id::text FROM edge_tenants WHERE edge_id = $1', [edgeId])).rows).toEqual([{ tenant_id: b.id }]);
  });

  test('another tenant’s edge is not listed, and its key cannot be rotated: 404, key unchanged', async () => {
    const edgeId = `edge-${uniq()}`;
    await provisionEdge(owner, { edgeId, tenants: [b.id] });
    const before = await storedKey(edgeId);
    const list = await server.call('GET', '/api/v1/edges', { token: a.operator.token });
    expect(list.body.items.map((e: { edge_id: string }) => e.edge_id)).not.toContain(edgeId);
    const r = await server.call('POST', `/api/v1/edges/${edgeId}/rotate-key`, { token: a.admin.token });
    expect([r.status, r.body.error.code]).toEqual([404, 'edge_not_found']);
    expect(await storedKey(edgeId)).toEqual(before);
  });

  test('an edge that also syncs for another tenant, or is revoked, is not re-keyed here: 409', async () => {
    const shared = `edge-${uniq()}`;
    await provisionEdge(owner, { edgeId: shared, tenants: [a.id, b.id] });
    const sharedKey = await storedKey(shared);
    const r = await server.call('POST', `/api/v1/edges/${shared}/rotate-key`, { token: a.admin.token });
    expect([r.status, r.body.error.code]).toEqual([409, 'edge_shared']);
    expect(await storedKey(shared)).toEqual(sharedKey);
    // Both tenants see it; neither sees whom else it serves.
    for (const t of [a, b]) {
      const list = await server.call('GET', '/api/v1/edges', { token: t.operator.token });
      expect(Object.keys(list.body.items.find((e: { edge_id: string }) => e.edge_id === shared)).sort()).toEqual(
        ['created_at', 'edge_id', 'key_id', 'last_batch_at', 'name', 'revoked_at', 'status'].sort(),
      );
    }

    const revoked = `edge-${uniq()}`;
    await provisionEdge(owner, { edgeId: revoked, tenants: [a.id] });
    await revokeEdge(owner, revoked);
    const refused = await server.call('POST', `/api/v1/edges/${revoked}/rotate-key`, { token: a.admin.token });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'edge_revoked']);
    const list = await server.call('GET', '/api/v1/edges', { token: a.operator.token });
    expect(list.body.items.find((e: { edge_id: string }) => e.edge_id === revoked)).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
  });

  test('status from the last batch the edge brought the tenant', async () => {
    const edges = { ok: `edge-${uniq()}`, late: `edge-${uniq()}`, silent: `edge-${uniq()}`, never: `edge-${uniq()}` };
    for (const edgeId of Object.values(edges)) await provisionEdge(owner, { edgeId, tenants: [a.id, b.id] });
    // As batch ingestion stores an accepted event (received now) …
    const eventId = randomUUID();
    await storeFreshEvents(
      owner,
      [{ tenantId: a.id, eventId, eventType: 'telemetry.reading', routingKey: 'telemetry.reading', envelope: '{}', traceId: 't' }],
      edges.ok,
      'req-1',
    );
    // … and as the relay marks it once the broker has it: no relay of another test publishes it.
    await owner.query('UPDATE ingestion_outbox SET published_at = now() WHERE tenant_id = $1 AND event_id = $2', [a.id, eventId]);
    // … and events that arrived earlier.
    const arrived = async (tenantId: string, edgeId: string, minutesAgo: number) =>
      owner.query(
        `INSERT INTO ingestion_dedupe (tenant_id, event_id, edge_id, event_type, received_at) VALUES ($1, $2, $3, 'telemetry.reading', now() - make_interval(mins => $4))`,
        [tenantId, randomUUID(), edgeId, minutesAgo],
      );
    await arrived(a.id, edges.ok, 90);
    await arrived(a.id, edges.late, 30);
    await arrived(a.id, edges.late, 120);
    await arrived(a.id, edges.silent, 180);
    // Another tenant's events through the same edge say nothing about this tenant's sync.
    await arrived(b.id, edges.silent, 1);
    await arrived(b.id, edges.never, 1);

    const list = await server.call('GET', '/api/v1/edges', { token: a.operator.token });
    const byId = new Map(list.body.items.map((e: { edge_id: string }) => [e.edge_id, e]));
    const statusOf = (id: string) => (byId.get(id) as { status: string }).status;
    expect(Object.fromEntries(Object.entries(edges).map(([k, id]) => [k, statusOf(id)]))).toEqual({ ok: 'ok', late: 'late', silent: 'silent', never: 'never' });
    const stored = await owner.query<{ edge_id: string; at: Date }>(
      `SELECT edge_id, max(received_at) AS at FROM ingestion_dedupe WHERE tenant_id = $1 AND edge_id = ANY($2) GROUP BY edge_id`,
      [a.id, Object.values(edges)],
    );
    for (const row of stored.rows) expect((byId.get(row.edge_id) as { last_batch_at: string }).last_batch_at).toBe(row.at.toISOString());
    expect((byId.get(edges.never) as { last_batch_at: string | null }).last_batch_at).toBeNull();

    const theirs = await server.call('GET', '/api/v1/edges', { token: b.operator.token });
    expect(theirs.body.items.find((e: { edge_id: string }) => e.edge_id === edges.never).status).toBe('ok');
  });

  test('roles: a viewer may not see edges; only an admin registers or re-keys', async () => {
    const edgeId = `edge-${uniq()}`;
    await server.call('POST', '/api/v1/edges', { token: a.admin.token, body: { edge_id: edgeId } });
    const seen = await server.call('GET', '/api/v1/edges', { token: a.viewer.token });
    expect([seen.status, seen.body.error.code]).toEqual([403, 'forbidden']);
    for (const role of ['viewer', 'operator'] as const) {
      const add = await server.call('POST', '/api/v1/edges', { token: a[role].token, body: { edge_id: `edge-${uniq()}` } });
      expect(add.status).toBe(403);
      const rotate = await server.call('POST', `/api/v1/edges/${edgeId}/rotate-key`, { token: a[role].token });
      expect(rotate.status).toBe(403);
    }
  });

  test.each([
    ['an id with a space', { edge_id: 'has space' }, 'edge_id'],
    ['an id of 129 characters', { edge_id: 'x'.repeat(129) }, 'edge_id'],
    ['an empty name', { edge_id: 'ok-id', name: '' }, 'name'],
    ['tenants of its choosing', { edge_id: 'ok-id', tenants: ['x'] }, ''],
  ])('a new edge with %s is refused: invalid_body', async (_label, body, field) => {
    const r = await server.call('POST', '/api/v1/edges', { token: a.admin.token, body });
    expect([r.status, r.body.error.code]).toEqual([400, 'invalid_body']);
    if (field) expect(r.body.error.field).toBe(field);
  });
});
