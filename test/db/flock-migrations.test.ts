/**
 * The flock migrations (edge 0006, cloud 0009) on databases that already hold data: each database
 * is migrated up to the migration before them, given rows as a running install has them, then
 * migrated to the newest. The old rows stay readable and writable as before, the new columns are
 * empty on them, and the new tables take flocks (with row-level security on the cloud).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { repoRoot, testEdgeDatabaseUrl } from '../support/stack';

const dirOf = (db: 'edge' | 'cloud') => path.join(repoRoot, 'db', 'migrations', db);
const urlOf = (name: string) => Object.assign(new URL(testEdgeDatabaseUrl), { pathname: `/${name}` }).toString();

/** node-pg-migrate's runner (an ES module, so in a child process) up by `count` migrations. */
async function up(db: 'edge' | 'cloud', url: string, count: number): Promise<void> {
  const script = `import('node-pg-migrate').then(({ runner }) => runner({ databaseUrl: process.argv[2], dir: process.argv[1],
    migrationsTable: 'pgmigrations', direction: 'up', count: Number(process.argv[3]), checkOrder: true, singleTransaction: true,
    verbose: false, log: () => {} }))`;
  await promisify(execFile)(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['-e', script, dirOf(db), url, String(count)], { cwd: repoRoot });
}

/** How many migration files come before `first` (the one under test). */
const before = (db: 'edge' | 'cloud', first: string) =>
  fs
    .readdirSync(dirOf(db))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .indexOf(first);

describe.each([
  ['edge', '0006_flocks.sql'],
  ['cloud', '0009_flocks.sql'],
] as const)('%s %s on a database with data', (db, first) => {
  const name = `farmiq_flockmig_${db}_${crypto.randomBytes(4).toString('hex')}`;
  let admin: Client;
  let c: Client;
  const tenant = crypto.randomUUID();
  const eventId = crypto.randomUUID();

  beforeAll(async () => {
    admin = new Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    c = new Client({ connectionString: urlOf(name) });
    await c.connect();
    expect(before(db, first)).toBeGreaterThan(0);
    await up(db, urlOf(name), before(db, first));
    await c.query(
      `INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id)
       VALUES ($1, $2, 'farm-1', 'barn-1', 'sensor-1', 'temperature', 26.4, 'C', '2026-03-01T10:00:00Z', 't-1')`,
      [tenant, eventId],
    );
    if (db === 'edge') {
      await c.query(
        `INSERT INTO edge_devices (username, tenant_id, farm_id, barn_id, device_id, kind, password_hash)
         VALUES ('old-feeder', $1, 'farm-1', 'barn-1', 'feeder-1', 'feed-dispenser', 'x')`,
        [tenant],
      );
    }
    await up(db, urlOf(name), Infinity);
  });

  afterAll(async () => {
    await c?.end();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
      [name],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.end();
  });

  test('existing readings are kept, with no source unit, and new ones take one', async () => {
    const old = await c.query('SELECT value, unit, source_value, source_unit FROM telemetry_raw WHERE tenant_id = $1', [tenant]);
    expect(old.rows).toEqual([{ value: 26.4, unit: 'C', source_value: null, source_unit: null }]);
    await c.query(
      `INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id, source_value, source_unit)
       VALUES ($1, $2, 'farm-1', 'barn-1', 'sensor-2', 'temperature', 28, 'C', now(), 't-2', 82.4, 'F')`,
      [tenant, crypto.randomUUID()],
    );
  });

  test('a flock and its days fit; a second count of the same flock, day and source does not', async () => {
    const flock = crypto.randomUUID();
    const placement =
      db === 'edge'
        ? `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, head_count_placed, placed_at, placed_event_id)
           VALUES ($1, $2, 'farm-1', 'barn-1', 'broiler', 'ross-308', 20000, '2026-03-01T06:00:00Z', gen_random_uuid())`
        : `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, head_count_placed, age_at_placement_days, placed_at, placed_event_id)
           VALUES ($1, $2, 'farm-1', 'barn-1', 'broiler', 'ross-308', 20000, 0, '2026-03-01T06:00:00Z', gen_random_uuid())`;
    await c.query(placement, [tenant, flock]);
    const day =
      db === 'edge'
        ? `INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, dead, culled, event_id, device_id, recorded_at)
           VALUES ($1, $2, '2026-03-02', 'device', 25, 5, gen_random_uuid(), 'counter-1', now())`
        : `INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, farm_id, barn_id, dead, culled, event_id, device_id, recorded_at)
           VALUES ($1, $2, '2026-03-02', 'device', 'farm-1', 'barn-1', 25, 5, gen_random_uuid(), 'counter-1', now())`;
    await c.query(day, [tenant, flock]);
    await expect(c.query(day, [tenant, flock])).rejects.toMatchObject({ code: '23505' });
    if (db === 'edge') {
      // All in, all out: a second placed flock in the same barn is refused.
      await expect(c.query(placement, [tenant, crypto.randomUUID()])).rejects.toMatchObject({ code: '23505' });
    }
  });

  if (db === 'edge') {
    test('old device kinds stay and mortality counters can be registered', async () => {
      const kinds = await c.query('SELECT kind FROM edge_devices WHERE tenant_id = $1', [tenant]);
      expect(kinds.rows).toEqual([{ kind: 'feed-dispenser' }]);
      await c.query(
        `INSERT INTO edge_devices (username, tenant_id, farm_id, barn_id, device_id, kind, password_hash)
         VALUES ('counter', $1, 'farm-1', 'barn-1', 'counter-1', 'mortality-counter', 'x')`,
        [tenant],
      );
      await expect(
        c.query(
          `INSERT INTO edge_devices (username, tenant_id, farm_id, barn_id, device_id, kind, password_hash) VALUES ('x', $1, 'f', 'b', 'd', 'camera', 'x')`,
          [tenant],
        ),
      ).rejects.toMatchObject({ code: '23514' });
    });
  } else {
    test('the flock tables are under the tenant policy and readable by the dashboard role', async () => {
      const r = await c.query(
        `SELECT c.relname, c.relrowsecurity, has_table_privilege('farmiq_app', c.oid, 'SELECT') AS readable,
                has_table_privilege('farmiq_app', c.oid, 'INSERT') AS writable,
                (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') AS policies
           FROM pg_class c WHERE c.relname IN ('flocks', 'flock_daily_counts') AND c.relnamespace = 'public'::regnamespace ORDER BY c.relname`,
      );
      expect(r.rows).toEqual([
        { relname: 'flock_daily_counts', relrowsecurity: true, readable: true, writable: false, policies: 1 },
        { relname: 'flocks', relrowsecurity: true, readable: true, writable: false, policies: 1 },
      ]);
    });
  }
});
