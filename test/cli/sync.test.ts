/**
 * `farmiq sync` on the CLI's own edge database (so --all touches only these rows): the status
 * counts, listing and showing dead events, requeueing some by id and all of a status.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { cliDatabases, edgePool, farmiqError, farmiqJson } from './support';

let pool: Pool;
beforeAll(async () => {
  await cliDatabases();
  pool = edgePool();
  await pool.query(`DELETE FROM sync_outbox WHERE status IN ('dlq', 'failed')`); // left by an earlier run of this file
});
afterAll(() => pool.end());

/** `n` outbox rows of `status` (dead ones with an error), their ids in order. */
async function rows(n: number, status: 'dlq' | 'failed' | 'pending'): Promise<string[]> {
  const tenant = randomUUID();
  const r = await pool.query<{ id: string }>(
    `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, priority, status, attempt_count, last_error)
     SELECT $1, gen_random_uuid(), 'telemetry.reading', '{}'::jsonb, 'cli-test', now(), 100, $2, CASE WHEN $2 = 'pending' THEN 0 ELSE 10 END,
            CASE WHEN $2 = 'pending' THEN NULL ELSE 'cloud said no' END
     FROM generate_series(1, $3) RETURNING id::text`,
    [tenant, status, n],
  );
  return r.rows.map((x) => x.id).sort((a, b) => Number(a) - Number(b));
}

type Status = { by_status: Record<string, number>; last_dead: { id: string; status: string } | null };

test('status counts by status; dlq list/show; requeue by id; requeue --all', async () => {
  const before = await farmiqJson<Status>('sync', 'status');
  const dlq = await rows(3, 'dlq');
  const failed = await rows(2, 'failed');
  const after = await farmiqJson<Status>('sync', 'status');
  expect(after.by_status.dlq - before.by_status.dlq).toBe(3);
  expect(after.by_status.failed - before.by_status.failed).toBe(2);
  expect(after.last_dead).toMatchObject({ id: failed[1], status: 'failed' }); // the newest dead row

  const listed = await farmiqJson<{ id: string; attempt_count: number; last_error: string }[]>('sync', 'dlq', 'list');
  expect(listed.map((r) => r.id)).toEqual([...dlq].reverse()); // newest first
  expect(listed[0]).toMatchObject({ attempt_count: 10, last_error: 'cloud said no' });
  const shown = await farmiqJson<{ id: string; status: string; envelope: unknown }>('sync', 'dlq', 'show', dlq[0]);
  expect(shown).toMatchObject({ id: dlq[0], status: 'dlq', envelope: {} });

  const one = await farmiqJson<{ requeued: { id: string; from: string }[]; unchanged: unknown[]; not_found: string[] }>(
    'sync',
    'dlq',
    'requeue',
    dlq[0],
    '999999999',
  );
  expect(one).toEqual({ requeued: [{ id: dlq[0], from: 'dlq' }], unchanged: [], not_found: ['999999999'] });

  // The other two dlq rows; the failed ones stay.
  expect(await farmiqJson('sync', 'dlq', 'requeue', '--all')).toEqual({ status: 'dlq', requeued: 2 });
  expect(await farmiqJson('sync', 'dlq', 'requeue', '--all', '--status', 'failed')).toEqual({ status: 'failed', requeued: 2 });
  const left = await pool.query<{ status: string; attempt_count: number }>('SELECT status, attempt_count FROM sync_outbox WHERE id = ANY($1::bigint[])', [
    [...dlq, ...failed],
  ]);
  expect(left.rows.map((r) => [r.status, r.attempt_count])).toEqual(Array(5).fill(['pending', 0]));
});

test('requeue --all moves more rows than one chunk (500)', async () => {
  await rows(1203, 'dlq');
  expect(await farmiqJson('sync', 'dlq', 'requeue', '--all')).toEqual({ status: 'dlq', requeued: 1203 });
  expect((await farmiqJson<Status>('sync', 'status')).by_status.dlq).toBe(0);
});

test('refusals: an unknown row, a bad id, ids and --all together, no ids', async () => {
  const [unknown, bad, both, none, requeueUnknown] = await Promise.all([
    farmiqError('sync', 'dlq', 'show', '999999999'),
    farmiqError('sync', 'dlq', 'show', 'abc'),
    farmiqError('sync', 'dlq', 'requeue', '--all', '12'),
    farmiqError('sync', 'dlq', 'requeue'),
    farmiqError('sync', 'dlq', 'requeue', '999999998'),
  ]);
  expect(unknown).toMatchObject({ code: 1, error: { code: 'not_found', message: 'no outbox row 999999999' } });
  expect(bad).toMatchObject({ code: 1, error: { code: 'invalid_input', message: 'abc is not an outbox row id' } });
  expect(both).toMatchObject({ code: 1, error: { code: 'invalid_input', message: 'give ids or --all, not both' } });
  expect(none).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
  expect(requeueUnknown).toMatchObject({ code: 1, error: { code: 'not_found', message: 'no outbox row 999999998' } });
});
