/**
 * The versioned schemas of both databases, applied to brand-new databases: every migration runs
 * once and in order, a second run is a no-op that leaves the catalog untouched, the newest file
 * can be rolled back and re-applied, and the tables have the keys and indexes the flows rely on.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { DatabaseName } from '../../db/migrate';
import * as payloads from '../../domain/contracts/payloads';
import { repoRoot, testEdgeDatabaseUrl } from '../support/stack';

const migrationsRoot = path.join(__dirname, '..', '..', 'db', 'migrations');

function migrationNames(db: DatabaseName): string[] {
  return fs
    .readdirSync(path.join(migrationsRoot, db))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
}

function databaseUrl(name: string): string {
  const url = new URL(testEdgeDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/**
 * node-pg-migrate is an ES module and jest's sandbox cannot import() one without
 * --experimental-vm-modules, so the migrations run in a child process, through the same code
 * (db/migrate.ts and node-pg-migrate's runner) that `npm run migrate` uses.
 */
async function inChildProcess<T>(script: string, ...args: string[]): Promise<T> {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const { stdout } = await promisify(execFile)(tsx, ['-e', script, ...args], { cwd: repoRoot });
  return JSON.parse(stdout) as T;
}

/** db/migrate.ts's migrate(): the names of the migrations it applied. */
function migrate(db: DatabaseName, url: string): Promise<string[]> {
  return inChildProcess(
    `import { migrate } from './db/migrate';
     migrate(process.argv[1] as 'edge' | 'cloud', process.argv[2]).then((names) => process.stdout.write(JSON.stringify(names)));`,
    db,
    url,
  );
}

/** Rolls back the newest applied migration (migrate() only goes up). */
function migrateDownOne(db: DatabaseName, url: string): Promise<string[]> {
  return inChildProcess(
    `import('node-pg-migrate')
       .then(({ runner }) => runner({
         databaseUrl: process.argv[2],
         dir: process.argv[1],
         migrationsTable: 'pgmigrations',
         direction: 'down',
         count: 1,
         checkOrder: true,
         singleTransaction: true,
         verbose: false,
         log: () => {},
       }))
       .then((reverted) => process.stdout.write(JSON.stringify(reverted.map((m) => m.name))));`,
    path.join(migrationsRoot, db),
    url,
  );
}

interface Snapshot {
  columns: unknown[];
  indexes: unknown[];
  constraints: unknown[];
}

async function catalogSnapshot(c: Client): Promise<Snapshot> {
  // By name, not position: a migration that adds columns to an existing table puts them at new
  // positions when it is rolled back and applied again (dropped columns keep their numbers).
  const columns = await c.query(
    `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
            numeric_precision, numeric_scale
       FROM information_schema.columns
      WHERE table_schema = 'public'
      ORDER BY table_name, column_name`,
  );
  const indexes = await c.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`);
  const constraints = await c.query(
    `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def
       FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace
      ORDER BY 1, 2`,
  );
  return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
}

async function tableNames(c: Client): Promise<string[]> {
  const r = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
  return r.rows.map((row) => row.tablename as string);
}

async function columnsOf(c: Client, table: string): Promise<string[]> {
  const r = await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [table]);
  return r.rows.map((row) => row.column_name as string);
}

async function primaryKeyOf(c: Client, table: string): Promise<string[]> {
  const r = await c.query(
    `SELECT a.attname
       FROM pg_index i
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisprimary
      ORDER BY k.pos`,
    [table],
  );
  return r.rows.map((row) => row.attname as string);
}

async function indexDef(c: Client, index: string): Promise<string | undefined> {
  const r = await c.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = $1`, [index]);
  return r.rows[0]?.indexdef;
}

/**
 * The plan of a query with sequential and bitmap scans priced out, so on these near-empty tables
 * the planner still shows which index would serve the query and whether it needs a sort.
 */
async function planOf(c: Client, sql: string, params: unknown[] = []): Promise<string> {
  await c.query('BEGIN');
  try {
    await c.query('SET LOCAL enable_seqscan = off');
    await c.query('SET LOCAL enable_bitmapscan = off');
    const r = await c.query(`EXPLAIN ${sql}`, params);
    return r.rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await c.query('ROLLBACK');
  }
}

/** Postgres error code of a statement that must fail. */
async function errorCode(c: Client, sql: string, params: unknown[] = []): Promise<string | undefined> {
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

function payloadFields(schema: { shape: Record<string, unknown> }): string[] {
  return Object.keys(schema.shape);
}

const uuid = () => crypto.randomUUID();

/** Tables that hold no tenant_id column at all, per database: each one is a deliberate choice. */
const tablesWithoutTenant: Record<DatabaseName, string[]> = {
  // edge_operators: operator tokens administer the whole farm server, across its tenants (0004).
  edge: ['edge_operators', 'pgmigrations'],
  // auth_refresh_tokens belong to a session (auth_sessions has the tenant); sign_in_failures are
  // counted before anyone knows the tenant (0012, docs/auth.md).
  cloud: ['auth_refresh_tokens', 'edge_request_nonces', 'edges', 'pgmigrations', 'sign_in_failures', 'tenants'],
};
/** Tables whose tenant_id may be null because it comes from input that failed validation. */
const unvalidatedTenantTables: Record<DatabaseName, string[]> = {
  edge: ['ingress_rejects'],
  cloud: ['dead_letters'],
};
/**
 * Tables read by other keys on purpose: the outbox is claimed in (priority, occurred_at) order
 * across tenants and deduped upstream, and a tenant index there would tax every ingested reading.
 */
const tenantIndexExempt: Record<DatabaseName, string[]> = {
  edge: ['sync_outbox'],
  // auth_sessions: read by session id and by user (owner pool only, never under RLS: docs/auth.md).
  cloud: ['auth_sessions'],
};
/** The tables a migration file's up part creates. */
function tablesCreatedBy(db: DatabaseName, migration: string): string[] {
  const sql = fs.readFileSync(path.join(migrationsRoot, db, `${migration}.sql`), 'utf8');
  const up = sql.split(/^\s*--\s*Down Migration/im)[0];
  return [...up.matchAll(/^CREATE TABLE (\w+)/gim)].map((m) => m[1]);
}

describe.each(['edge', 'cloud'] as const)('%s migrations on a brand-new database', (db) => {
  const name = `farmiq_migtest_${db}_${crypto.randomBytes(5).toString('hex')}`;
  const url = databaseUrl(name);
  let client: Client;
  let firstSnapshot: Snapshot;

  beforeAll(async () => {
    await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
    client = new Client({ connectionString: url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await withAdmin(async (admin) => {
      // Only client sessions: an autovacuum worker on the new database belongs to no role, and
      // a non-superuser may not signal it. DROP DATABASE stops autovacuum workers by itself.
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        [name],
      );
      await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    });
  });

  test('the first run applies every migration file, in order', async () => {
    const expected = migrationNames(db);
    expect(expected.length).toBeGreaterThan(0);
    expect(await migrate(db, url)).toEqual(expected);
    const recorded = await client.query('SELECT name FROM pgmigrations ORDER BY id');
    expect(recorded.rows.map((r) => r.name)).toEqual(expected);
    firstSnapshot = await catalogSnapshot(client);
    expect(firstSnapshot.columns.length).toBeGreaterThan(0);
  });

  test('a second run applies nothing and leaves the catalog unchanged', async () => {
    expect(await migrate(db, url)).toEqual([]);
    expect(await catalogSnapshot(client)).toEqual(firstSnapshot);
  });

  test('every tenant-owned table has tenant_id uuid NOT NULL leading its key or an index (ready for RLS)', async () => {
    const r = await client.query(
      `SELECT c.relname AS table_name, a.attnum, t.typname, a.attnotnull,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum) AS leads_index
         FROM pg_class c
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        ORDER BY c.relname`,
    );
    const all = await tableNames(client);
    const withTenant = r.rows.map((row) => row.table_name as string);
    expect(all.filter((t) => !withTenant.includes(t)).sort()).toEqual(tablesWithoutTenant[db]);

    const problems: string[] = [];
    for (const row of r.rows) {
      if (unvalidatedTenantTables[db].includes(row.table_name)) continue;
      if (row.typname !== 'uuid') problems.push(`${row.table_name}.tenant_id is ${row.typname}`);
      if (!row.attnotnull) problems.push(`${row.table_name}.tenant_id is nullable`);
      if (!row.leads_index && !tenantIndexExempt[db].includes(row.table_name)) problems.push(`${row.table_name}: no key or index starts with tenant_id`);
    }
    expect(problems).toEqual([]);
  });

  test('the newest migration rolls back and re-applies to the same catalog', async () => {
    const names = migrationNames(db);
    const newest = names[names.length - 1];
    const newestTables = tablesCreatedBy(db, newest);
    const olderTables = names.slice(0, -1).flatMap((n) => tablesCreatedBy(db, n));
    expect(olderTables.length).toBeGreaterThan(0);

    expect(await migrateDownOne(db, url)).toEqual([newest]);
    const tables = await tableNames(client);
    expect(tables.filter((t) => newestTables.includes(t))).toEqual([]);
    expect(tables).toEqual(expect.arrayContaining(olderTables));

    expect(await migrate(db, url)).toEqual([newest]);
    expect(await tableNames(client)).toEqual(expect.arrayContaining(newestTables));
    expect(await catalogSnapshot(client)).toEqual(firstSnapshot);
  });

  if (db === 'edge') {
    test('sync_outbox serves the spec §7.3 claim query from the claim index', async () => {
      const cols = await columnsOf(client, 'sync_outbox');
      for (const c of ['id', 'status', 'next_attempt_at', 'claimed_by', 'lease_expires_at', 'priority', 'occurred_at', 'claimed_at']) {
        expect(cols).toContain(c);
      }
      expect(await indexDef(client, 'sync_outbox_claim')).toMatch(
        /\(priority DESC, occurred_at\) WHERE \(status = ANY \(ARRAY\['pending'::text, 'claimed'::text\]\)\)/,
      );

      const claim = `
        WITH candidates AS (
          SELECT id
          FROM sync_outbox
          WHERE
            status IN ('pending', 'claimed')
            AND next_attempt_at <= NOW()
            AND (claimed_by IS NULL OR lease_expires_at < NOW())
          ORDER BY priority DESC, occurred_at ASC
          LIMIT $1
          FOR UPDATE SKIP LOCKED
        )
        UPDATE sync_outbox o
        SET
          status = 'claimed',
          claimed_by = $2,
          claimed_at = NOW(),
          lease_expires_at = NOW() + ($3::text || ' seconds')::interval
        FROM candidates c
        WHERE o.id = c.id
        RETURNING o.*`;
      const plan = await planOf(client, claim, [10, 'fwd-1', '30']);
      expect(plan).toContain('Index Scan using sync_outbox_claim');
      expect(plan).not.toContain('Sort');

      const tenant = uuid();
      const older = uuid();
      const live = uuid();
      await client.query(
        `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, occurred_at, priority)
         VALUES ($1, $2, 'telemetry.reading', '{}', now() - interval '2 days', 0),
                ($1, $3, 'telemetry.reading', '{}', now(), 1)`,
        [tenant, older, live],
      );
      const claimed = await client.query(claim, [10, 'fwd-1', '30']);
      expect(claimed.rows.map((r) => r.event_id)).toEqual(expect.arrayContaining([older, live]));
      expect(claimed.rows.every((r) => r.status === 'claimed' && r.claimed_by === 'fwd-1' && r.lease_expires_at > r.claimed_at)).toBe(true);
      // Leased rows are not claimed again until the lease runs out.
      expect((await client.query(claim, [10, 'fwd-2', '30'])).rowCount).toBe(0);
      await client.query('DELETE FROM sync_outbox WHERE tenant_id = $1', [tenant]);
    });

    test('ingress dedupe is keyed on (tenant_id, event_id)', async () => {
      expect(await primaryKeyOf(client, 'ingress_dedupe')).toEqual(['tenant_id', 'event_id']);
      expect(await primaryKeyOf(client, 'telemetry_raw')).toEqual(['tenant_id', 'event_id']);
      expect(await primaryKeyOf(client, 'weighvision_weights')).toEqual(['tenant_id', 'event_id']);
    });

    test('WeighVision tables hold every field of their events', async () => {
      expect(await columnsOf(client, 'weighvision_sessions')).toEqual(
        expect.arrayContaining([
          'tenant_id',
          'session_id',
          'farm_id',
          'barn_id',
          'station_id',
          'status',
          'workflow_id',
          'trace_id',
          ...payloadFields(payloads.weighVisionSessionCreated),
          ...payloadFields(payloads.weighVisionSessionFinalized),
        ]),
      );
      expect(await columnsOf(client, 'weighvision_weights')).toEqual(
        expect.arrayContaining(['tenant_id', 'event_id', 'session_id', 'occurred_at', ...payloadFields(payloads.weighVisionWeightRecorded)]),
      );
      expect(await columnsOf(client, 'media_objects')).toEqual(
        expect.arrayContaining(['tenant_id', 'status', 'expires_at', 'stored_at', ...payloadFields(payloads.mediaStored)]),
      );
      expect(await columnsOf(client, 'inference_results')).toEqual(expect.arrayContaining(['tenant_id', ...payloadFields(payloads.inferenceCompleted)]));
      expect(await primaryKeyOf(client, 'weighvision_sessions')).toEqual(['tenant_id', 'session_id']);
      expect(await primaryKeyOf(client, 'media_objects')).toEqual(['tenant_id', 'media_id']);
      expect(await primaryKeyOf(client, 'inference_results')).toEqual(['tenant_id', 'media_id']);
      expect(await indexDef(client, 'weighvision_sessions_barn_status')).toMatch(/\(tenant_id, farm_id, barn_id, status/);
      expect(await indexDef(client, 'media_objects_session')).toMatch(/\(tenant_id, session_id\)/);
    });

    test('a session, its readings, images and inference fit the schema; inconsistent rows do not', async () => {
      const t = uuid();
      const mediaId = uuid();
      await client.query('BEGIN');
      try {
        expect(
          await errorCode(
            client,
            `INSERT INTO weighvision_weights (tenant_id, event_id, session_id, weight_kg, occurred_at) VALUES ($1, $2, 's-1', 120.5, now())`,
            [t, uuid()],
          ),
        ).toBe('23503'); // a reading needs its session row first
        await client.query(
          `INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id, status, started_at)
           VALUES ($1, 's-1', 'farm-1', 'barn-1', 'station-1', 'collecting', now())`,
          [t],
        );
        expect(await errorCode(client, `UPDATE weighvision_sessions SET status = 'done' WHERE tenant_id = $1`, [t])).toBe('23514');
        await client.query(
          `INSERT INTO weighvision_weights (tenant_id, event_id, session_id, weight_kg, stable, occurred_at)
           VALUES ($1, $2, 's-1', 120.5, true, now())`,
          [t, uuid()],
        );
        await client.query(
          `INSERT INTO media_objects (tenant_id, media_id, session_id, farm_id, barn_id, station_id, object_key, content_type, expires_at)
           VALUES ($1, $2, 's-1', 'farm-1', 'barn-1', 'station-1', $3, 'image/jpeg', now() + interval '15 minutes')`,
          [t, mediaId, `${t}/s-1/${mediaId}.jpg`],
        );
        expect(await errorCode(client, `UPDATE media_objects SET status = 'stored' WHERE tenant_id = $1`, [t])).toBe('23514'); // stored needs stored_at and size_bytes
        await client.query(`UPDATE media_objects SET status = 'stored', stored_at = now(), size_bytes = 48213 WHERE tenant_id = $1 AND media_id = $2`, [
          t,
          mediaId,
        ]);
        await client.query(
          `INSERT INTO inference_results (tenant_id, media_id, session_id, model_id, estimated_weight_kg, confidence, quality_flags, inference_ms)
           VALUES ($1, $2, 's-1', 'weight-v1', 118.2, 0.91, '{blurred}', 12.5)`,
          [t, mediaId],
        );
        expect(
          await errorCode(
            client,
            `INSERT INTO inference_results (tenant_id, media_id, session_id, model_id, estimated_weight_kg, confidence, inference_ms)
             VALUES ($1, $2, 's-1', 'weight-v1', 118.2, 0.91, 12.5)`,
            [t, uuid()],
          ),
        ).toBe('23503'); // a result needs its image
        await client.query(
          `UPDATE weighvision_sessions
              SET status = 'finalized', finalized_at = now(), image_count = 1, reading_count = 1, stable_reading_count = 1,
                  scale_median_kg = 120.5, vision_weight_kg = 118.2, weight_kg = 120.5, weight_source = 'scale'
            WHERE tenant_id = $1 AND session_id = 's-1'`,
          [t],
        );
      } finally {
        await client.query('ROLLBACK');
      }
    });
  }

  if (db === 'cloud') {
    test('dedupe tables are keyed on (tenant_id, event_id), per consumer where there are several', async () => {
      expect(await primaryKeyOf(client, 'ingestion_dedupe')).toEqual(['tenant_id', 'event_id']);
      expect((await primaryKeyOf(client, 'consumer_dedupe')).sort()).toEqual(['consumer', 'event_id', 'tenant_id']);
      for (const table of ['telemetry_raw', 'feed_intake', 'weighvision_weights']) {
        expect(await primaryKeyOf(client, table)).toEqual(['tenant_id', 'event_id']);
      }
      expect(await primaryKeyOf(client, 'inference_results')).toEqual(['tenant_id', 'media_id']);
      expect(await primaryKeyOf(client, 'telemetry_rollups')).toEqual([
        'tenant_id',
        'farm_id',
        'barn_id',
        'device_id',
        'metric',
        'bucket_width',
        'bucket_start',
      ]);
    });

    test('a dedupe row and its outbox row commit together, and the relay finds unpublished rows by index', async () => {
      const t = uuid();
      const e = uuid();
      const accept = async () => {
        await client.query('BEGIN');
        const d = await client.query(
          `INSERT INTO ingestion_dedupe (tenant_id, event_id, edge_id, event_type) VALUES ($1, $2, 'edge-1', 'telemetry.reading')
           ON CONFLICT DO NOTHING`,
          [t, e],
        );
        if (d.rowCount === 1) {
          await client.query(
            `INSERT INTO ingestion_outbox (tenant_id, event_id, routing_key, envelope, edge_id) VALUES ($1, $2, 'telemetry.ingested', '{}', 'edge-1')`,
            [t, e],
          );
        }
        await client.query('COMMIT');
        return d.rowCount;
      };
      expect(await accept()).toBe(1);
      expect(await accept()).toBe(0);
      const outbox = await client.query('SELECT count(*)::int AS n FROM ingestion_outbox WHERE tenant_id = $1', [t]);
      expect(outbox.rows[0].n).toBe(1);

      expect(await indexDef(client, 'ingestion_outbox_unpublished')).toMatch(/WHERE \(published_at IS NULL\)/);
      const plan = await planOf(client, 'SELECT * FROM ingestion_outbox WHERE published_at IS NULL ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED');
      expect(plan).toContain('Index Scan using ingestion_outbox_unpublished');
      expect(plan).not.toContain('Sort');
      await client.query('DELETE FROM ingestion_outbox WHERE tenant_id = $1', [t]);
      await client.query('DELETE FROM ingestion_dedupe WHERE tenant_id = $1', [t]);
    });

    test('domain tables hold every field of the events their consumers store', async () => {
      const has = async (table: string, fields: string[]) => expect(await columnsOf(client, table)).toEqual(expect.arrayContaining(fields));
      await has('telemetry_raw', [
        'tenant_id',
        'event_id',
        'farm_id',
        'barn_id',
        'device_id',
        'occurred_at',
        'received_at',
        ...payloadFields(payloads.telemetryReading),
      ]);
      await has('feed_intake', ['tenant_id', 'event_id', 'device_id', ...payloadFields(payloads.feedIntakeRecorded)]);
      await has('weighvision_sessions', [
        'tenant_id',
        'session_id',
        'farm_id',
        'barn_id',
        'station_id',
        'status',
        'weight_kg',
        'vision_weight_kg',
        'quality_flags',
        'started_at',
        'finalized_at',
        ...payloadFields(payloads.weighVisionSessionCreated),
        ...payloadFields(payloads.weighVisionSessionFinalized),
      ]);
      await has('weighvision_weights', ['tenant_id', 'event_id', 'session_id', ...payloadFields(payloads.weighVisionWeightRecorded)]);
      await has('media_objects', ['tenant_id', 'event_id', ...payloadFields(payloads.mediaStored)]);
      await has('inference_results', ['tenant_id', 'event_id', ...payloadFields(payloads.inferenceCompleted)]);
      await has('telemetry_rollups', ['unit', 'reading_count', 'value_mean', 'value_min', 'value_max', 'revision']);
      expect(await indexDef(client, 'telemetry_raw_barn_metric_time')).toMatch(/\(tenant_id, farm_id, barn_id, metric, occurred_at\)/);
    });

    test('feed intake counts one dispense once; a rollup upsert keeps the highest revision', async () => {
      const t = uuid();
      const dispense = uuid();
      await client.query('BEGIN');
      try {
        const insertIntake = `INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type, dispensed_at)
                              VALUES ($1, $2, $3, 'farm-1', 'barn-1', 'disp-1', 12.5, 'starter', now())`;
        await client.query(insertIntake, [t, uuid(), dispense]);
        expect(await errorCode(client, insertIntake, [t, uuid(), dispense])).toBe('23505');

        const upsert = `
          INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit,
                                         reading_count, value_mean, value_min, value_max, revision, event_id)
          VALUES ($1, 'farm-1', 'barn-1', 'sensor-1', 'temperature', '1m', date_trunc('minute', now()), 'C', $2, $3, 20, 30, $4, $5)
          ON CONFLICT (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start) DO UPDATE
            SET reading_count = excluded.reading_count, value_mean = excluded.value_mean, value_min = excluded.value_min,
                value_max = excluded.value_max, revision = excluded.revision, event_id = excluded.event_id, updated_at = now()
            WHERE excluded.revision > telemetry_rollups.revision`;
        await client.query(upsert, [t, 60, 25, 2, uuid()]);
        await client.query(upsert, [t, 55, 24, 1, uuid()]); // an older revision arriving late
        const r = await client.query('SELECT reading_count::int AS n, revision FROM telemetry_rollups WHERE tenant_id = $1', [t]);
        expect(r.rows).toEqual([{ n: 60, revision: 2 }]);
      } finally {
        await client.query('ROLLBACK');
      }
    });

    test('users are unique by email per tenant, and notifications cannot point at another tenant', async () => {
      const a = uuid();
      const b = uuid();
      await client.query('BEGIN');
      try {
        await client.query(`INSERT INTO tenants (id, name) VALUES ($1, 'A'), ($2, 'B')`, [a, b]);
        const addUser = `INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'viewer') RETURNING id`;
        const userA = (await client.query(addUser, [a, 'ops@farm.example'])).rows[0].id;
        expect(await errorCode(client, addUser, [a, 'OPS@farm.example'])).toBe('23505');
        await client.query(addUser, [b, 'ops@farm.example']);
        expect(await errorCode(client, `INSERT INTO users (tenant_id, email, role) VALUES ($1, 'x@farm.example', 'owner')`, [a])).toBe('23514');

        const notify = `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status, idempotency_key)
                        VALUES ($1, $2, 'in_app', 'Heat stress', 'Barn 1 above comfort band', 'sent', $3)`;
        await client.query(notify, [a, userA, 'insight-1']);
        expect(await errorCode(client, notify, [a, userA, 'insight-1'])).toBe('23505');
        expect(await errorCode(client, notify, [b, userA, 'insight-2'])).toBe('23503');
        expect(await errorCode(client, `INSERT INTO notifications (tenant_id, channel, title, body, status) VALUES ($1, 'fax', 't', 'b', 'sent')`, [a])).toBe(
          '23514',
        );
      } finally {
        await client.query('ROLLBACK');
      }
    });

    test('the notification inbox and insight history are served by their indexes', async () => {
      expect(await indexDef(client, 'notifications_inbox')).toMatch(/\(tenant_id, user_id, created_at DESC, id DESC\)/);
      const inbox = await planOf(
        client,
        `SELECT * FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND (created_at, id) < ($3, $4)
          ORDER BY created_at DESC, id DESC LIMIT 50`,
        [uuid(), uuid(), new Date(), uuid()],
      );
      expect(inbox).toContain('Index Scan using notifications_inbox');
      expect(inbox).not.toContain('Sort');
      expect(await primaryKeyOf(client, 'insights')).toEqual(['id']);
      expect(await indexDef(client, 'insights_farm_time')).toMatch(/\(tenant_id, farm_id, created_at DESC\)/);
      const unique = await client.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'insights'::regclass AND contype = 'u'`);
      expect(unique.rows.map((r) => r.def)).toContain('UNIQUE (tenant_id, request_id)');
    });
  }
});
