/**
 * Row-level security with the real farmiq_app role (migration 0006/0007): with tenant A set, a
 * transaction sees only A's rows in every dashboard table, cannot insert, update or delete B's,
 * and without the setting sees nothing at all. The table owner (ingestion, migrations) is not
 * affected. Also: every table farmiq_app can touch has RLS and a policy, so a new table granted to
 * it without them fails here.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../../auth/tenant-db';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from './support';

let owner: Pool;
let app: Pool;
let a: TestTenant;
let b: TestTenant;

/** Postgres error code of a statement that must fail (inside a savepoint, so the transaction goes on). */
async function errorCode(c: PoolClient, sql: string, params: unknown[] = []): Promise<string | undefined> {
  await c.query('SAVEPOINT must_fail');
  try {
    await c.query(sql, params);
  } catch (err) {
    await c.query('ROLLBACK TO SAVEPOINT must_fail');
    return (err as { code?: string }).code;
  }
  await c.query('RELEASE SAVEPOINT must_fail');
  return undefined;
}

/** One row per tenant in every tenant table the dashboard reads, written by the owner. */
async function seedRows(t: TestTenant): Promise<void> {
  const farm = `farm-${t.id.slice(0, 8)}`;
  await owner.query(`INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, $2, 'Farm', 'broiler')`, [t.id, farm]);
  await owner.query(`INSERT INTO barns (tenant_id, farm_id, barn_id, name) VALUES ($1, $2, 'barn-1', 'Barn 1')`, [t.id, farm]);
  await owner.query(`INSERT INTO devices (tenant_id, farm_id, barn_id, device_id, kind) VALUES ($1, $2, 'barn-1', 'sensor-1', 'sensor')`, [t.id, farm]);
  await owner.query(
    `INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at)
     VALUES ($1, $2, $3, 'barn-1', 'sensor-1', 'temperature', 24.5, 'C', now())`,
    [t.id, randomUUID(), farm],
  );
  await owner.query(
    `INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
                                    value_mean, value_min, value_max, revision, event_id)
     VALUES ($1, $2, 'barn-1', 'sensor-1', 'temperature', '1h', date_trunc('hour', now()), 'C', 10, 24, 23, 25, 1, $3)`,
    [t.id, farm, randomUUID()],
  );
  await owner.query(
    `INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type, dispensed_at)
     VALUES ($1, $2, $3, $4, 'barn-1', 'feeder-1', 12.5, 'starter', now())`,
    [t.id, randomUUID(), randomUUID(), farm],
  );
  await owner.query(`INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id) VALUES ($1, 's-1', $2, 'barn-1', 'station-1')`, [
    t.id,
    farm,
  ]);
  await owner.query(`INSERT INTO weighvision_weights (tenant_id, event_id, session_id, weight_kg, occurred_at) VALUES ($1, $2, 's-1', 2.1, now())`, [
    t.id,
    randomUUID(),
  ]);
  const media = randomUUID();
  await owner.query(
    `INSERT INTO media_objects (tenant_id, media_id, event_id, session_id, farm_id, barn_id, station_id, object_key, content_type, size_bytes, stored_at)
     VALUES ($1, $2, $3, 's-1', $4, 'barn-1', 'station-1', 'k', 'image/jpeg', 100, now())`,
    [t.id, media, randomUUID(), farm],
  );
  await owner.query(
    `INSERT INTO inference_results (tenant_id, media_id, event_id, session_id, model_id, estimated_weight_kg, confidence, inference_ms, completed_at)
     VALUES ($1, $2, $3, 's-1', 'm', 2.0, 0.9, 5, now())`,
    [t.id, media, randomUUID()],
  );
  await owner.query(
    `INSERT INTO insights (tenant_id, farm_id, window_start, window_end, request_id, summary, insight, generator)
     VALUES ($1, $2, now() - interval '1 day', now(), $3, '{}', '{}', 'template')`,
    [t.id, farm, randomUUID()],
  );
  const n = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, NULL, 'in_app', 'hello', 'world', 'sent') RETURNING id`,
    [t.id],
  );
  const q = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status, attempt_count) VALUES ($1, $2, 'email', 'hello', 'world', 'failed', 1) RETURNING id`,
    [t.id, t.operator.id],
  );
  // Never due, and its notification is not queued: no delivery worker of another test picks it up.
  await owner.query(`INSERT INTO notification_deliveries (tenant_id, notification_id, next_attempt_at) VALUES ($1, $2, 'infinity')`, [t.id, q.rows[0].id]);
  await owner.query(
    `INSERT INTO notification_attempts (tenant_id, notification_id, attempt, channel, started_at, finished_at, outcome, error)
     VALUES ($1, $2, 1, 'email', now(), now(), 'failed', 'x')`,
    [t.id, q.rows[0].id],
  );
  await owner.query(`INSERT INTO notification_reads (tenant_id, notification_id, user_id) VALUES ($1, $2, $3)`, [t.id, n.rows[0].id, t.viewer.id]);
}

/** Dashboard tables and the column that says which tenant a row belongs to. */
const rlsTables: Record<string, string> = {
  tenants: 'id',
  farms: 'tenant_id',
  barns: 'tenant_id',
  devices: 'tenant_id',
  users: 'tenant_id',
  telemetry_raw: 'tenant_id',
  telemetry_rollups: 'tenant_id',
  feed_intake: 'tenant_id',
  weighvision_sessions: 'tenant_id',
  weighvision_weights: 'tenant_id',
  media_objects: 'tenant_id',
  inference_results: 'tenant_id',
  insights: 'tenant_id',
  notifications: 'tenant_id',
  notification_deliveries: 'tenant_id',
  notification_attempts: 'tenant_id',
  notification_reads: 'tenant_id',
};

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  a = await seedTenant(owner, 'RLS A');
  b = await seedTenant(owner, 'RLS B');
  await seedRows(a);
  await seedRows(b);
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
});

test('farmiq_app is a login role that is neither superuser nor able to bypass RLS, and owns nothing', async () => {
  const r = await app.query(`SELECT current_user AS me, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`);
  expect(r.rows[0]).toEqual({ me: 'farmiq_app', rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false });
  const owned = await app.query(`SELECT count(*)::int AS n FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = 'farmiq_app')`);
  expect(owned.rows[0].n).toBe(0);
});

test('every table farmiq_app may use has row-level security (not forced) and a policy; the dashboard tables all do', async () => {
  const r = await owner.query<{ table_name: string; rls: boolean; forced: boolean; policies: number }>(
    `SELECT c.relname AS table_name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        AND (has_table_privilege('farmiq_app', c.oid, 'SELECT') OR has_table_privilege('farmiq_app', c.oid, 'INSERT')
             OR has_table_privilege('farmiq_app', c.oid, 'UPDATE') OR has_table_privilege('farmiq_app', c.oid, 'DELETE'))
      ORDER BY 1`,
  );
  const unprotected = r.rows.filter((t) => !t.rls || t.policies === 0).map((t) => t.table_name);
  expect(unprotected).toEqual([]);
  expect(r.rows.filter((t) => t.forced).map((t) => t.table_name)).toEqual([]);
  expect(r.rows.map((t) => t.table_name)).toEqual(expect.arrayContaining(Object.keys(rlsTables)));
  // Ingestion bookkeeping and the sign-in tables are the owner's alone. (The tenant's own farm
  // servers, edges and edge_tenants, and the times their events arrived, ingestion_dedupe, are
  // readable under RLS since migration 0013: test/cloud/directory-edges-rls.test.ts.)
  for (const table of ['ingestion_outbox', 'consumer_dedupe', 'dead_letters', 'pgmigrations', 'auth_sessions', 'auth_refresh_tokens', 'sign_in_failures']) {
    expect(r.rows.map((t) => t.table_name)).not.toContain(table);
  }
});

test.each(Object.entries(rlsTables))('%s: tenant A sees its own rows and none of B', async (table, column) => {
  const seen = await withTenant(app, a.id, (c) =>
    c.query<{ t: string }>(`SELECT DISTINCT ${column}::text AS t FROM ${table} WHERE ${column} IN ($1, $2)`, [a.id, b.id]),
  );
  expect(seen.rows.map((r) => r.t)).toEqual([a.id]);
  // The owner is not subject to RLS: both are there.
  const all = await owner.query<{ t: string }>(`SELECT DISTINCT ${column}::text AS t FROM ${table} WHERE ${column} IN ($1, $2) ORDER BY 1`, [a.id, b.id]);
  expect(all.rows.map((r) => r.t).sort()).toEqual([a.id, b.id].sort());
});

test.each(Object.entries(rlsTables))('%s: without a tenant set nothing is visible', async (table) => {
  const r = await app.query(`SELECT count(*)::int AS n FROM ${table}`);
  expect(r.rows[0].n).toBe(0);
  const c = await app.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT set_config('farmiq.tenant_id', '', true)`);
    expect((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
    await c.query('ROLLBACK');
  } finally {
    c.release();
  }
});

test("with tenant A set, B's rows cannot be inserted, updated or deleted", async () => {
  await withTenant(app, a.id, async (c) => {
    // Writes that name B are refused by the policy's WITH CHECK.
    expect(await errorCode(c, `INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, 'sneaky', 'x', 'broiler')`, [b.id])).toBe('42501');
    expect(
      await errorCode(c, `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, NULL, 'in_app', 'x', 'y', 'sent')`, [b.id]),
    ).toBe('42501');
    expect(await errorCode(c, `INSERT INTO users (tenant_id, email, role) VALUES ($1, 'x@y.z', 'admin')`, [b.id])).toBe('42501');
    // Moving one's own row into B is refused too.
    expect(await errorCode(c, `UPDATE farms SET tenant_id = $2 WHERE tenant_id = $1`, [a.id, b.id])).toBe('42501');
    // B's rows are invisible to UPDATE and DELETE: nothing changes.
    expect((await c.query(`UPDATE notifications SET title = 'pwned' WHERE tenant_id = $1`, [b.id])).rowCount).toBe(0);
    expect((await c.query(`UPDATE users SET role = 'admin' WHERE tenant_id = $1`, [b.id])).rowCount).toBe(0);
    expect((await c.query(`DELETE FROM devices WHERE tenant_id = $1`, [b.id])).rowCount).toBe(0);
    expect((await c.query(`DELETE FROM barns WHERE tenant_id = $1`, [b.id])).rowCount).toBe(0);
    // Its own rows it may write.
    expect((await c.query(`UPDATE notifications SET title = 'renamed' WHERE tenant_id = $1 AND channel = 'in_app'`, [a.id])).rowCount).toBe(1);
    expect(await errorCode(c, `INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, 'farm-new', 'x', 'broiler')`, [a.id])).toBeUndefined();
  });
  const check = await owner.query(`SELECT count(*)::int AS n FROM notifications WHERE tenant_id = $1 AND title = 'pwned'`, [b.id]);
  expect(check.rows[0].n).toBe(0);
  expect((await owner.query(`SELECT count(*)::int AS n FROM devices WHERE tenant_id = $1`, [b.id])).rows[0].n).toBe(1);
  expect((await owner.query(`SELECT count(*)::int AS n FROM farms WHERE tenant_id = $1 AND farm_id = 'farm-new'`, [a.id])).rows[0].n).toBe(1);
});

test('without a tenant set nothing can be written', async () => {
  const c = await app.connect();
  try {
    await c.query('BEGIN');
    expect(await errorCode(c, `INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, 'nobody', 'x', 'broiler')`, [a.id])).toBe('42501');
    await c.query('ROLLBACK');
  } finally {
    c.release();
  }
});

test('farmiq_app cannot touch the ingestion tables at all', async () => {
  await withTenant(app, a.id, async (c) => {
    expect(await errorCode(c, 'SELECT 1 FROM ingestion_outbox LIMIT 1')).toBe('42501');
    expect(await errorCode(c, 'SELECT 1 FROM dead_letters LIMIT 1')).toBe('42501');
    expect(await errorCode(c, 'UPDATE edges SET revoked_at = now()')).toBe('42501');
    expect(await errorCode(c, 'DELETE FROM ingestion_dedupe')).toBe('42501');
  });
});

test('the tenant setting ends with the transaction: a pooled connection never carries it to the next one', async () => {
  const single = tenantPool();
  try {
    await withTenant(single, a.id, async (c) => {
      expect((await c.query(`SELECT current_setting('farmiq.tenant_id', true) AS t`)).rows[0].t).toBe(a.id);
    });
    const after = await single.query(`SELECT coalesce(current_setting('farmiq.tenant_id', true), '') AS t, (SELECT count(*)::int FROM notifications) AS n`);
    expect(after.rows[0]).toEqual({ t: '', n: 0 });
  } finally {
    await single.end();
  }
});

test('withTenant rolls back on a throw and refuses a tenant that is not a uuid', async () => {
  await expect(
    withTenant(app, a.id, async (c) => {
      await c.query(`INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, 'rolled-back', 'x', 'broiler')`, [a.id]);
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect((await owner.query(`SELECT count(*)::int AS n FROM farms WHERE tenant_id = $1 AND farm_id = 'rolled-back'`, [a.id])).rows[0].n).toBe(0);
  await expect(withTenant(app, `${a.id}' OR true --`, async () => 1)).rejects.toThrow(/tenant uuid/);
});
