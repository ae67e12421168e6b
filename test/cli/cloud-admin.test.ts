/**
 * The cloud side of `farmiq` against the real cloud database: tenants, users and tokens (auth/),
 * edges with their key files (cloud/edges.ts), dead letters, and the farm directory
 * (cloud/farm-directory.ts) with the refusals an operator meets: an unknown tenant, farm or user,
 * a duplicate farm, edge or email, a key file that would be overwritten.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { verifyPassword } from '../../auth/passwords';
import { tokenConfig, verifyToken } from '../../auth/tokens';
import { checkInsightRequest } from '../../insights/insight-directory';
import { withTenant } from '../../auth/tenant-db';
import { settings } from '../../config/settings';
import { cliDatabases, cliJwtSecret, cloudPool, farmiqError, farmiqJson } from './support';

let pool: Pool;
const unknownTenant = '00000000-0000-4000-8000-000000000000';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-cli-keys-'));

beforeAll(async () => {
  await cliDatabases();
  pool = cloudPool();
});
afterAll(() => pool.end());

test('tenants create/list, users create/list with a hashed password, tokens issue for that user', async () => {
  const name = `CLI Farms ${Date.now()}`;
  const tenant = await farmiqJson<{ tenant_id: string; name: string }>('tenants', 'create', '--name', name);
  expect(tenant.tenant_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(tenant.name).toBe(name);
  expect((await farmiqJson<{ tenant_id: string; name: string }[]>('tenants', 'list')).find((t) => t.tenant_id === tenant.tenant_id)?.name).toBe(name);

  const email = `admin-${Date.now()}@cli.example`;
  const user = await farmiqJson<{ user_id: string; tenant_id: string; email: string; role: string }>(
    'users',
    'create',
    '--tenant',
    tenant.tenant_id,
    '--email',
    email,
    '--role',
    'admin',
    '--password',
    'correct horse battery',
    '--name',
    'Ada',
  );
  expect(user).toMatchObject({ tenant_id: tenant.tenant_id, email, role: 'admin' });
  const stored = await pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.user_id]);
  expect(stored.rows[0].password_hash).not.toContain('correct horse');
  expect(await verifyPassword('correct horse battery', stored.rows[0].password_hash)).toBe(true);
  expect(await verifyPassword('wrong horse battery', stored.rows[0].password_hash)).toBe(false);

  const users = await farmiqJson<{ user_id: string; email: string; display_name: string; role: string }[]>('users', 'list', '--tenant', tenant.tenant_id);
  expect(users).toEqual([expect.objectContaining({ user_id: user.user_id, email, display_name: 'Ada', role: 'admin' })]);

  const issued = await farmiqJson<{ token: string; user_id: string; tenant_id: string; role: string }>(
    'tokens',
    'issue',
    '--user',
    user.user_id,
    '--expires-in',
    '15m',
  );
  expect(issued).toMatchObject({ user_id: user.user_id, tenant_id: tenant.tenant_id, role: 'admin' });
  expect(verifyToken(issued.token, { ...tokenConfig(settings()), secret: cliJwtSecret })).toEqual({
    userId: user.user_id,
    tenantId: tenant.tenant_id,
    role: 'admin',
  });
});

test('refusals: unknown tenant, unknown role, unknown user, the same email twice', async () => {
  const tenant = await farmiqJson<{ tenant_id: string }>('tenants', 'create', '--name', `CLI Refusals ${Date.now()}`);
  await farmiqJson('users', 'create', '--tenant', tenant.tenant_id, '--email', 'same@cli.example', '--role', 'viewer');
  const [noTenant, noTenantList, role, noUser, twice] = await Promise.all([
    farmiqError('users', 'create', '--tenant', unknownTenant, '--email', 'x@cli.example', '--role', 'viewer'),
    farmiqError('users', 'list', '--tenant', unknownTenant),
    farmiqError('users', 'create', '--tenant', tenant.tenant_id, '--email', 'x@cli.example', '--role', 'root'),
    farmiqError('tokens', 'issue', '--user', unknownTenant),
    farmiqError('users', 'create', '--tenant', tenant.tenant_id, '--email', 'SAME@cli.example', '--role', 'viewer'),
  ]);
  expect(noTenant).toMatchObject({ code: 1, error: { code: 'not_found', message: `no tenant ${unknownTenant}` } });
  expect(noTenantList).toMatchObject({ code: 1, error: { code: 'not_found', message: `no tenant ${unknownTenant}` } });
  // commander refuses a choice outside the list itself (usage error, exit 1).
  expect(role.code).toBe(1);
  expect(noUser).toMatchObject({ code: 1, error: { code: 'not_found', message: `no user ${unknownTenant}` } });
  expect(twice).toMatchObject({ code: 1, error: { code: 'conflict' } });
  expect(twice.error.message).toContain('already has a user SAME@cli.example');
});

describe('farmiq edges', () => {
  test('provision writes the private key (0600) and stores the public one; list, rotate-key, revoke, dead-letters', async () => {
    const tenant = randomUUID();
    const edgeId = `edge-cli-${Date.now().toString(36)}`;
    const keyFile = path.join(dir, `${edgeId}.pem`);
    const added = await farmiqJson<{ edge_id: string; key_id: string; tenants: string[]; key_file: string }>(
      'edges',
      'provision',
      '--edge-id',
      edgeId,
      '--tenant',
      tenant,
      '--name',
      'Farm CLI',
      '--key-out',
      keyFile,
    );
    expect(added).toMatchObject({ edge_id: edgeId, tenants: [tenant], key_file: keyFile });
    expect(fs.readFileSync(keyFile, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const row = await pool.query<{ key_id: string; public_key: string }>('SELECT key_id, public_key FROM edges WHERE edge_id = $1', [edgeId]);
    expect(row.rows[0].key_id).toBe(added.key_id);
    expect(row.rows[0].public_key).toContain('BEGIN PUBLIC KEY');
    // The tenant the edge was registered for now exists (edges provision creates missing tenants).
    expect((await pool.query('SELECT 1 FROM tenants WHERE id = $1', [tenant])).rowCount).toBe(1);

    const listed = await farmiqJson<{ edge_id: string; tenants: string[]; revoked_at: string | null }[]>('edges', 'list');
    expect(listed.find((e) => e.edge_id === edgeId)).toMatchObject({ tenants: [tenant], revoked_at: null });

    const [again, overwrite] = await Promise.all([
      farmiqError('edges', 'provision', '--edge-id', edgeId, '--tenant', tenant, '--key-out', path.join(dir, `${edgeId}-2.pem`)),
      farmiqError('edges', 'rotate-key', edgeId, '--key-out', keyFile),
    ]);
    expect(again).toMatchObject({ code: 1, error: { code: 'conflict' } });
    expect(again.error.message).toContain(`edge ${edgeId} already exists`);
    expect(overwrite).toMatchObject({ code: 1, error: { code: 'conflict', message: `${keyFile} exists; refusing to overwrite a key file` } });

    const rotated = await farmiqJson<{ key_id: string }>('edges', 'rotate-key', edgeId, '--key-out', path.join(dir, `${edgeId}-new.pem`));
    expect(rotated.key_id).not.toBe(added.key_id);
    expect((await pool.query<{ key_id: string }>('SELECT key_id FROM edges WHERE edge_id = $1', [edgeId])).rows[0].key_id).toBe(rotated.key_id);

    expect(await farmiqJson('edges', 'revoke', edgeId)).toEqual({ edge_id: edgeId, revoked: true });
    const [revokedAgain, rotateUnknown] = await Promise.all([
      farmiqError('edges', 'revoke', edgeId),
      farmiqError('edges', 'rotate-key', 'edge-nobody', '--key-out', path.join(dir, 'nobody.pem')),
    ]);
    expect(revokedAgain).toMatchObject({ code: 1, error: { code: 'not_found', message: `no active edge ${edgeId}` } });
    expect(rotateUnknown).toMatchObject({ code: 1, error: { code: 'not_found', message: 'no edge edge-nobody' } });
    expect(fs.existsSync(path.join(dir, 'nobody.pem'))).toBe(false);
  });

  test('dead-letters lists the newest first, of one queue with --queue', async () => {
    const queue = `cli-test-${Date.now().toString(36)}`;
    await pool.query(`INSERT INTO dead_letters (queue, reason, delivery_count, envelope) VALUES ($1, 'first', 3, '{}'), ($1, 'second', 5, '{}')`, [queue]);
    const rows = await farmiqJson<{ queue: string; reason: string; delivery_count: number }[]>('edges', 'dead-letters', '--queue', queue);
    expect(rows.map((r) => [r.reason, r.delivery_count])).toEqual([
      ['second', 5],
      ['first', 3],
    ]);
    const bad = await farmiqError('edges', 'dead-letters', '--limit', '0');
    expect(bad).toMatchObject({ code: 1, error: { code: 'invalid_input', message: '--limit must be 1-10000' } });
  });
});

describe('farmiq farms and barns', () => {
  test('create and list; an insight request then finds the barn', async () => {
    const tenant = await farmiqJson<{ tenant_id: string }>('tenants', 'create', '--name', `CLI Directory ${Date.now()}`);
    const t = tenant.tenant_id;
    const farm = await farmiqJson(
      'farms',
      'create',
      '--tenant',
      t,
      '--farm',
      'farm-a',
      '--name',
      'Farm A',
      '--species',
      'broiler',
      '--timezone',
      'Europe/Amsterdam',
      '--comfort-min',
      '18',
      '--comfort-max',
      '24.5',
    );
    expect(farm).toMatchObject({
      tenant_id: t,
      farm_id: 'farm-a',
      name: 'Farm A',
      species: 'broiler',
      timezone: 'Europe/Amsterdam',
      comfort_temp_min_c: 18,
      comfort_temp_max_c: 24.5,
    });
    await farmiqJson('farms', 'create', '--tenant', t, '--farm', 'farm-b', '--name', 'Farm B', '--species', 'swine');
    const barn = await farmiqJson('barns', 'create', '--tenant', t, '--farm', 'farm-a', '--barn', 'house-1', '--name', 'House 1');
    expect(barn).toMatchObject({ tenant_id: t, farm_id: 'farm-a', barn_id: 'house-1', name: 'House 1' });
    await farmiqJson('barns', 'create', '--tenant', t, '--farm', 'farm-b', '--barn', 'finisher-1', '--name', 'Finisher 1');

    const [farms, barnsA, allBarns] = await Promise.all([
      farmiqJson<{ farm_id: string; species: string; timezone: string }[]>('farms', 'list', '--tenant', t),
      farmiqJson<{ barn_id: string }[]>('barns', 'list', '--tenant', t, '--farm', 'farm-a'),
      farmiqJson<{ farm_id: string; barn_id: string }[]>('barns', 'list', '--tenant', t),
    ]);
    expect(farms.map((f) => [f.farm_id, f.species, f.timezone])).toEqual([
      ['farm-a', 'broiler', 'Europe/Amsterdam'],
      ['farm-b', 'swine', 'UTC'],
    ]);
    expect(barnsA.map((b) => b.barn_id)).toEqual(['house-1']);
    expect(allBarns.map((b) => `${b.farm_id}/${b.barn_id}`)).toEqual(['farm-a/house-1', 'farm-b/finisher-1']);

    // What the insight API checks before it starts a run (it answered "does not exist" before the directory had a writer).
    const check = await withTenant(pool, t, (c) =>
      checkInsightRequest(c, { tenantId: t, requestId: randomUUID(), farmId: 'farm-a', barnId: 'house-1', callerId: randomUUID() }),
    );
    expect(check).toEqual({ ready: true });
  });

  test('refusals: unknown tenant, duplicate farm, unknown farm, duplicate barn, bad time zone, half a comfort band', async () => {
    const tenant = await farmiqJson<{ tenant_id: string }>('tenants', 'create', '--name', `CLI Directory refusals ${Date.now()}`);
    const t = tenant.tenant_id;
    await farmiqJson('farms', 'create', '--tenant', t, '--farm', 'farm-a', '--name', 'Farm A', '--species', 'broiler');
    await farmiqJson('barns', 'create', '--tenant', t, '--farm', 'farm-a', '--barn', 'house-1', '--name', 'House 1');
    const [noTenant, twice, noFarm, barnTwice, zone, half] = await Promise.all([
      farmiqError('farms', 'create', '--tenant', unknownTenant, '--farm', 'farm-a', '--name', 'X', '--species', 'broiler'),
      farmiqError('farms', 'create', '--tenant', t, '--farm', 'farm-a', '--name', 'Again', '--species', 'broiler'),
      farmiqError('barns', 'create', '--tenant', t, '--farm', 'farm-z', '--barn', 'b1', '--name', 'B1'),
      farmiqError('barns', 'create', '--tenant', t, '--farm', 'farm-a', '--barn', 'house-1', '--name', 'Again'),
      farmiqError('farms', 'create', '--tenant', t, '--farm', 'farm-c', '--name', 'C', '--species', 'broiler', '--timezone', 'Mars/Olympus'),
      farmiqError('farms', 'create', '--tenant', t, '--farm', 'farm-d', '--name', 'D', '--species', 'broiler', '--comfort-min', '18'),
    ]);
    expect(noTenant).toMatchObject({ code: 1, error: { code: 'not_found', message: `no tenant ${unknownTenant}` } });
    expect(twice).toMatchObject({ code: 1, error: { code: 'conflict', message: `tenant ${t} already has a farm farm-a` } });
    expect(noFarm).toMatchObject({ code: 1, error: { code: 'not_found', message: `no farm farm-z in tenant ${t}` } });
    expect(barnTwice).toMatchObject({ code: 1, error: { code: 'conflict', message: 'farm farm-a already has a barn house-1' } });
    expect(zone).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
    expect(zone.error.message).toContain('timezone: must be an IANA time zone');
    expect(half).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
    expect(half.error.message).toContain('give both ends of the comfort band');
    const farms = await farmiqJson<{ farm_id: string }[]>('farms', 'list', '--tenant', t);
    expect(farms.map((f) => f.farm_id)).toEqual(['farm-a']);
  });
});
