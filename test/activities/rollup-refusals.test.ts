/**
 * publishClosedRollups when the edge database refuses one window (issue 8 point 1: "the rollup
 * publisher must not stall every later window behind one refused window"), against a real
 * Postgres of its own (farmiq_edge_rollup_refusal_test).
 *
 * The refusal is forced with a test-only NOT VALID CHECK constraint matching only this test's
 * marker barn, dropped again in `finally`.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { classifyDatabaseError } from '../../db/errors';
import { createRollupActivities, type PublishClosedRollupsInput, type PublishClosedRollupsResult } from '../../activities/ingest/rollups';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from './sync-db';

let pool: Pool;
const logged: LogEntry[] = [];

beforeAll(async () => {
  pool = await openSyncTestDatabase('farmiq-test-rollup-refusals', edgeTestDatabaseUrl('rollup_refusal_test'));
});

afterAll(async () => {
  await pool?.query('TRUNCATE sync_outbox');
  await pool?.query('TRUNCATE telemetry_rollup');
  await pool?.end();
});

beforeEach(async () => {
  await pool.query('TRUNCATE sync_outbox');
  await pool.query('TRUNCATE telemetry_rollup');
  logged.length = 0;
});

function publish(p: Pool, input: Partial<PublishClosedRollupsInput> = {}): Promise<PublishClosedRollupsResult> {
  const { publishClosedRollups } = createRollupActivities({ pool: p, edgeId: 'edge-rollup-refusal-test' });
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('WARN', (e) => logged.push(e)) }).run(publishClosedRollups, {
    graceSeconds: 0,
    limit: 100,
    traceId: `rollup-refusal-${randomUUID()}`,
    ...input,
  });
}

/** A closed 1-minute window `minutesAgo` minutes back, in barn `barn`. */
async function seedWindow(tenant: string, barn: string, minutesAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO telemetry_rollup (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count, value_sum, value_min, value_max)
     VALUES ($1, 'farm-1', $2, 'sensor-1', 'temperature', '1m', date_trunc('minute', now()) - make_interval(mins => $3), 'C', 2, 41, 20, 21)`,
    [tenant, barn, minutesAgo],
  );
}

async function withConstraint<T>(table: string, check: string, body: () => Promise<T>): Promise<T> {
  const name = `refusal_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await pool.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (${check}) NOT VALID`);
  try {
    return await body();
  } finally {
    await pool.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
  }
}

async function outboxBarns(tenant: string): Promise<string[]> {
  const { rows } = await pool.query<{ barn: string }>(
    `SELECT envelope->'payload'->>'barn_id' AS barn FROM sync_outbox WHERE tenant_id = $1 ORDER BY occurred_at`,
    [tenant],
  );
  return rows.map((r) => r.barn);
}

async function publishedRevisions(tenant: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ barn_id: string; published_revision: number }>(
    `SELECT barn_id, published_revision FROM telemetry_rollup WHERE tenant_id = $1`,
    [tenant],
  );
  return Object.fromEntries(rows.map((r) => [r.barn_id, r.published_revision]));
}

it('a window whose event the database refuses is marked published without one and the later windows are published in the same call; a database that is not there stays retryable', async () => {
  const tenant = randomUUID();
  const poison = `poison-${randomUUID().slice(0, 8)}`;
  // The refused window is the oldest, so it heads every selection.
  await seedWindow(tenant, poison, 30);
  await seedWindow(tenant, 'barn-a', 20);
  await seedWindow(tenant, 'barn-b', 10);
  await withConstraint('sync_outbox', `envelope->'payload'->>'barn_id' IS DISTINCT FROM '${poison}'`, async () => {
    expect(await publish(pool)).toEqual({ published: 2, invalid: 0, refused: 1, hasMore: false });
    expect(await outboxBarns(tenant)).toEqual(['barn-a', 'barn-b']);
    expect(await publishedRevisions(tenant)).toEqual({ [poison]: 1, 'barn-a': 1, 'barn-b': 1 });
    // Not selected again: the next run has nothing to do.
    expect(await publish(pool)).toEqual({ published: 0, invalid: 0, hasMore: false });
  });
  const refusal = logged.find((e) => e.level === 'ERROR' && e.meta?.barnId === poison);
  expect(refusal?.meta).toMatchObject({ reason: 'storage_refused:23514', tenantId: tenant });

  // Unlike a refusal, a database that is not there stays a retryable failure (the preset retries it).
  const away = createPool('postgres://farmiq:farmiq@127.0.0.1:1/farmiq_edge_rollup_refusal_test', { connectionTimeoutMillis: 1000 });
  try {
    const err = await publish(away).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    if (err instanceof ApplicationFailure) expect(err.nonRetryable).toBe(false);
    expect(classifyDatabaseError(err)).toBe('transient');
  } finally {
    await away.end();
  }
});

it('a window the database refuses even to mark is narrowed out of every run; the others are published', async () => {
  const tenant = randomUUID();
  const poison = `poison-${randomUUID().slice(0, 8)}`;
  await seedWindow(tenant, poison, 30);
  await seedWindow(tenant, 'barn-a', 20);
  await withConstraint('telemetry_rollup', `barn_id IS DISTINCT FROM '${poison}' OR published_revision = 0`, async () => {
    expect(await publish(pool)).toEqual({ published: 1, invalid: 0, refused: 1, hasMore: false });
    await seedWindow(tenant, 'barn-b', 10);
    expect(await publish(pool)).toEqual({ published: 1, invalid: 0, refused: 1, hasMore: false });
  });
  expect(await outboxBarns(tenant)).toEqual(['barn-a', 'barn-b']);
  expect(await publishedRevisions(tenant)).toEqual({ [poison]: 0, 'barn-a': 1, 'barn-b': 1 });
});
