/**
 * The sync tests' own edge database (farmiq_edge_sync_test, beside farmiq_edge_test). The forwarder
 * claims from the whole outbox, not per tenant, so these tests need an outbox no other test (or a
 * leftover of an earlier run) writes to; each test file empties it when it starts.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { execFileSync } from 'node:child_process';
import { createPool } from '../../db/pool';
import { repoRoot, testEdgeDatabaseUrl } from '../support/stack';
import { ensureDatabase } from '../support/databases';

export const syncTestDatabaseUrl = (() => {
  if (process.env.TEST_SYNC_DATABASE_URL) return process.env.TEST_SYNC_DATABASE_URL;
  const u = new URL(testEdgeDatabaseUrl);
  u.pathname = '/farmiq_edge_sync_test';
  return u.toString();
})();

/** Creates and migrates the database if needed, empties sync_outbox, and returns a pool on it. */
export async function openSyncTestDatabase(applicationName: string, url = syncTestDatabaseUrl): Promise<Pool> {
  await ensureDatabase(url);
  // node-pg-migrate is an ES module, which jest's sandbox cannot import: migrate in a child process.
  execFileSync(process.execPath, [require.resolve('tsx/cli'), 'db/migrate.ts', 'edge', '--url', url], {
    cwd: repoRoot,
    env: { ...process.env, FARMIQ_CONFIG: '' },
    stdio: 'pipe',
  });
  const pool = createPool(url, { applicationName });
  await pool.query('TRUNCATE sync_outbox');
  return pool;
}

/** An edge database of its own for one test file (`farmiq_edge_<suffix>`), beside the sync tests' one. */
export function edgeTestDatabaseUrl(suffix: string): string {
  const u = new URL(syncTestDatabaseUrl);
  u.pathname = `/farmiq_edge_${suffix}`;
  return u.toString();
}

export interface OutboxSeed {
  tenant: string;
  eventType?: string;
  priority?: number;
  /** SQL expressions, evaluated in the INSERT. */
  occurredAt?: string;
  createdAt?: string;
  status?: string;
  attemptCount?: number;
  lastError?: string | null;
  ackedAt?: string | null;
  envelope?: unknown;
}

/** Inserts one outbox row and returns its id (as text, like the outbox module). */
export async function seedRow(pool: Pool, s: OutboxSeed): Promise<string> {
  const eventId = randomUUID();
  const envelope = s.envelope ?? {
    schema_version: '1.0',
    event_id: eventId,
    trace_id: `trace-${eventId.slice(0, 8)}`,
    event_type: s.eventType ?? 'telemetry.reading',
    tenant_id: s.tenant,
    device_id: 'sensor-1',
    ts: new Date().toISOString(),
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    payload: { metric: 'temperature', value: 21.5, unit: 'C' },
  };
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, priority, status, attempt_count, last_error, created_at, acked_at)
     VALUES ($1, $2, $3, $4, $5, ${s.occurredAt ?? 'now()'}, $6, $7, $8, $9, ${s.createdAt ?? 'now()'}, ${s.ackedAt ?? 'NULL'})
     RETURNING id::text AS id`,
    [
      s.tenant,
      (envelope as { event_id?: string }).event_id ?? eventId,
      s.eventType ?? 'telemetry.reading',
      JSON.stringify(envelope),
      `trace-${eventId.slice(0, 8)}`,
      s.priority ?? 0,
      s.status ?? 'pending',
      s.attemptCount ?? 0,
      s.lastError ?? null,
    ],
  );
  return rows[0].id;
}

export async function rowsById(pool: Pool, ids: readonly string[]) {
  const { rows } = await pool.query<{
    id: string;
    status: string;
    claimed_by: string | null;
    attempt_count: number;
    last_error: string | null;
    next_attempt_at: Date;
    lease_expires_at: Date | null;
    sent_at: Date | null;
    acked_at: Date | null;
  }>(
    `SELECT id::text AS id, status, claimed_by, attempt_count, last_error, next_attempt_at, lease_expires_at, sent_at, acked_at
     FROM sync_outbox WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows;
}
