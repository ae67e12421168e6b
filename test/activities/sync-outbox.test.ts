/**
 * The outbox data access (sync/outbox.ts) against a real Postgres: the spec §7.3 claim order,
 * one tenant per batch, leases, fencing between two claimants after a lease ran out, the live lane
 * beside a large backlog, requeue, retention.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import * as outbox from '../../sync/outbox';
import { openSyncTestDatabase, rowsById, seedRow } from './sync-db';

let pool: Pool;

beforeAll(async () => {
  pool = await openSyncTestDatabase('farmiq-test-sync-outbox');
});

afterAll(async () => {
  await pool?.query('TRUNCATE sync_outbox');
  await pool?.end();
});

beforeEach(async () => {
  await pool.query('TRUNCATE sync_outbox');
});

const claim = (instanceId: string, lane: outbox.SyncLane, batchSize = 100, leaseSeconds = 60) =>
  outbox.claimBatch(pool, { instanceId, lane, batchSize, leaseSeconds, liveWindowSeconds: 120 });

/** Rows old enough to be backfill (created 10 minutes ago). */
const old = { createdAt: `now() - interval '10 minutes'` };

describe('claimBatch', () => {
  it('claims in spec order (priority DESC, occurred_at ASC), leased to the claimant', async () => {
    const t = randomUUID();
    const a = await seedRow(pool, { tenant: t, ...old, priority: 0, occurredAt: `now() - interval '3 hours'` });
    const b = await seedRow(pool, { tenant: t, ...old, priority: 5, occurredAt: `now() - interval '1 hour'` });
    const c = await seedRow(pool, { tenant: t, ...old, priority: 0, occurredAt: `now() - interval '5 hours'` });
    const d = await seedRow(pool, { tenant: t, ...old, priority: 5, occurredAt: `now() - interval '2 hours'` });
    const e = await seedRow(pool, { tenant: t, ...old, priority: -1, occurredAt: `now() - interval '9 hours'` });

    const first = await claim('batch-1', 'backfill', 3, 30);
    expect(first.map((r) => r.id)).toEqual([d, b, c]);
    const second = await claim('batch-2', 'backfill', 10, 30);
    expect(second.map((r) => r.id)).toEqual([a, e]);

    const rows = await rowsById(pool, [a, b, c, d, e]);
    for (const r of rows) {
      expect(r.status).toBe('claimed');
      const leaseLeft = (r.lease_expires_at!.getTime() - Date.now()) / 1000;
      expect(leaseLeft).toBeGreaterThan(25);
      expect(leaseLeft).toBeLessThanOrEqual(31);
    }
    expect(
      rows
        .filter((r) => r.claimed_by === 'batch-1')
        .map((r) => r.id)
        .sort(),
    ).toEqual([b, c, d].sort());
    // Nothing left to claim while the leases hold.
    expect(await claim('batch-3', 'backfill')).toEqual([]);
  });

  it('puts one tenant in a batch: the tenant of the first candidate', async () => {
    const t1 = randomUUID();
    const t2 = randomUUID();
    const ids: Record<string, string[]> = { [t1]: [], [t2]: [] };
    for (let i = 0; i < 6; i++) {
      const tenant = i % 2 === 0 ? t1 : t2; // interleaved in claim order
      ids[tenant].push(await seedRow(pool, { tenant, ...old, occurredAt: `now() - interval '${60 - i} minutes'` }));
    }
    const first = await claim('b-1', 'backfill', 100);
    expect(first.map((r) => r.tenant_id)).toEqual([t1, t1, t1]);
    expect(first.map((r) => r.id)).toEqual(ids[t1]);
    const second = await claim('b-2', 'backfill', 100);
    expect(second.map((r) => r.id)).toEqual(ids[t2]);
  });

  it('skips rows whose retry is not due yet, and rows already final', async () => {
    const t = randomUUID();
    const waiting = await seedRow(pool, { tenant: t, ...old });
    await pool.query(`UPDATE sync_outbox SET next_attempt_at = now() + interval '1 minute' WHERE id = $1`, [waiting]);
    for (const status of ['acked', 'failed', 'dlq', 'sending', 'sent']) await seedRow(pool, { tenant: t, ...old, status });
    const due = await seedRow(pool, { tenant: t, ...old });
    expect((await claim('b', 'backfill')).map((r) => r.id)).toEqual([due]);
  });

  it('lets another claimant take rows once the lease has run out, and fences the late one', async () => {
    const t = randomUUID();
    const ids = [await seedRow(pool, { tenant: t, ...old }), await seedRow(pool, { tenant: t, ...old }), await seedRow(pool, { tenant: t, ...old })];

    const a = await claim('forwarder-A', 'backfill', 10, 60);
    expect(a.map((r) => r.id)).toEqual(ids);
    expect(await claim('forwarder-B', 'backfill', 10, 60)).toEqual([]); // A's lease holds
    expect(await outbox.markSending(pool, 'forwarder-A', ids, 60)).toBe(3);

    // A hangs in the middle of its send; its lease runs out.
    await pool.query(`UPDATE sync_outbox SET status = 'claimed', lease_expires_at = now() - interval '1 second' WHERE id = ANY($1::bigint[])`, [ids]);
    const b = await claim('forwarder-B', 'backfill', 10, 60);
    expect(b.map((r) => r.id)).toEqual(ids);
    expect(await outbox.markSending(pool, 'forwarder-B', ids, 60)).toBe(3);

    // A comes back and tries to settle: nothing it writes lands.
    expect(await outbox.markAcked(pool, 'forwarder-A', ids)).toBe(0);
    expect(
      await outbox.markFailed(
        pool,
        'forwarder-A',
        ids.map((id) => ({ id, reason: 'schema_violation:payload' })),
      ),
    ).toBe(0);
    expect(
      await outbox.recordAttemptFailure(pool, 'forwarder-A', ids, {
        attempt: 4,
        error: 'late',
        nextAttemptAt: new Date(Date.now() + 60_000),
        leaseUntil: new Date(Date.now() + 120_000),
      }),
    ).toBe(0);
    expect(await outbox.moveToDlq(pool, 'forwarder-A', ids, 'late')).toBe(0);
    expect(await outbox.releaseClaims(pool, 'forwarder-A', ids)).toBe(0);
    expect(await outbox.markSent(pool, 'forwarder-A', ids)).toBe(0);

    let rows = await rowsById(pool, ids);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'sending', claimed_by: 'forwarder-B', attempt_count: 0, last_error: null });
    }

    // B's own writes do land, and a final row stays final for everyone.
    expect(await outbox.markFailed(pool, 'forwarder-B', [{ id: ids[0], reason: 'schema_violation:payload.value' }])).toBe(1);
    expect(await outbox.markAcked(pool, 'forwarder-B', ids.slice(1))).toBe(2);
    expect(await outbox.markAcked(pool, 'forwarder-B', ids)).toBe(0);
    expect(await outbox.releaseClaims(pool, 'forwarder-B', ids)).toBe(0);
    rows = await rowsById(pool, ids);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'acked', 'acked']);
    expect(rows[0].last_error).toBe('schema_violation:payload.value');
    expect(rows[1].acked_at).toBeInstanceOf(Date);
  });

  it('records a failed attempt: attempt count, error, next attempt and a lease past it', async () => {
    const t = randomUUID();
    const ids = [await seedRow(pool, { tenant: t, ...old })];
    await claim('b', 'backfill');
    const next = new Date(Date.now() + 4_000);
    const lease = new Date(Date.now() + 64_000);
    expect(await outbox.recordAttemptFailure(pool, 'b', ids, { attempt: 3, error: 'cloud answered 500', nextAttemptAt: next, leaseUntil: lease })).toBe(1);
    const [r] = await rowsById(pool, ids);
    expect(r).toMatchObject({ status: 'claimed', claimed_by: 'b', attempt_count: 3, last_error: 'cloud answered 500' });
    expect(Math.abs(r.next_attempt_at.getTime() - next.getTime())).toBeLessThan(5);
    expect(Math.abs(r.lease_expires_at!.getTime() - lease.getTime())).toBeLessThan(5);
    // Not due, and still leased: nobody else claims it meanwhile.
    expect(await claim('other', 'backfill')).toEqual([]);
  });

  it('releases claims without touching attempts or the next attempt time', async () => {
    const t = randomUUID();
    const id = await seedRow(pool, { tenant: t, ...old, attemptCount: 4 });
    await claim('b', 'backfill');
    expect(await outbox.releaseClaims(pool, 'b', [id])).toBe(1);
    const [r] = await rowsById(pool, [id]);
    expect(r).toMatchObject({ status: 'pending', claimed_by: null, attempt_count: 4, lease_expires_at: null });
    expect((await claim('c', 'backfill')).map((x) => x.attempt_count)).toEqual([4]);
  });

  it('gives back rows stuck in sending/sent once their lease is over', async () => {
    const t = randomUUID();
    const stuck = await seedRow(pool, { tenant: t, ...old, status: 'sending' });
    const fresh = await seedRow(pool, { tenant: t, ...old, status: 'sent' });
    await pool.query(`UPDATE sync_outbox SET claimed_by = 'gone', lease_expires_at = now() - interval '1 second' WHERE id = $1`, [stuck]);
    await pool.query(`UPDATE sync_outbox SET claimed_by = 'alive', lease_expires_at = now() + interval '1 minute' WHERE id = $1`, [fresh]);
    expect(await outbox.releaseExpiredLeases(pool)).toBe(1);
    expect((await rowsById(pool, [stuck, fresh])).map((r) => [r.status, r.claimed_by])).toEqual([
      ['pending', null],
      ['sent', 'alive'],
    ]);
  });
});

describe('lanes', () => {
  it('the live lane claims only rows of the live window, the backfill lane only older ones', async () => {
    const t = randomUUID();
    const backlog = await seedRow(pool, { tenant: t, createdAt: `now() - interval '3 minutes'` });
    const live = await seedRow(pool, { tenant: t, createdAt: `now() - interval '30 seconds'`, occurredAt: `now() - interval '2 days'` });
    expect((await claim('l', 'live')).map((r) => r.id)).toEqual([live]);
    expect((await claim('b', 'backfill')).map((r) => r.id)).toEqual([backlog]);
  });

  it('sends fresh monitoring events through the backfill lane, after the backlog and many to a batch', async () => {
    const t = randomUUID();
    const backlog = await seedRow(pool, { tenant: t, ...old });
    const monitoring = [
      await seedRow(pool, { tenant: t, eventType: 'sync.batch.sent', priority: outbox.monitoringPriority }),
      await seedRow(pool, { tenant: t, eventType: 'sync.batch.acked', priority: outbox.monitoringPriority }),
    ];
    expect(await claim('l', 'live')).toEqual([]);
    expect((await claim('b1', 'backfill', 1)).map((r) => r.id)).toEqual([backlog]);
    expect((await claim('b2', 'backfill')).map((r) => r.id)).toEqual(monitoring);
  });

  it('hands out a fresh reading at once while 50,000 old pending rows wait', async () => {
    const backlogTenant = randomUUID();
    await pool.query(
      `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, trace_id, occurred_at, created_at)
       SELECT $1, gen_random_uuid(), 'telemetry.reading', '{"backlog":true}'::jsonb, 'trace-backlog',
              now() - interval '3 days' + make_interval(secs => g), now() - interval '2 days'
       FROM generate_series(1, 50000) g`,
      [backlogTenant],
    );
    await pool.query('ANALYZE sync_outbox');
    const liveTenant = randomUUID();
    const fresh = [await seedRow(pool, { tenant: liveTenant }), await seedRow(pool, { tenant: liveTenant })];

    const started = process.hrtime.bigint();
    const live = await claim('live-1', 'live', 500);
    const liveMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(live.map((r) => r.id)).toEqual(fresh);
    // Bounded by the live window, not by the backlog (a scan of 50,000 rows takes far longer).
    expect(liveMs).toBeLessThan(200);

    const backfill = await claim('backfill-1', 'backfill', 500);
    expect(backfill).toHaveLength(500);
    expect(new Set(backfill.map((r) => r.tenant_id))).toEqual(new Set([backlogTenant]));
    expect(await claim('live-2', 'live', 500)).toEqual([]);

    // The live claim's plan reads the live window through the primary key, not the backlog.
    const cutoff = (await pool.query<{ c: Date }>(`SELECT now() - interval '120 seconds' AS c`)).rows[0].c;
    const fromId = await outbox.firstIdCreatedAtOrAfter(pool, cutoff);
    expect(BigInt(fromId)).toBeGreaterThan(BigInt(backfill[0].id));
    expect(BigInt(fromId)).toBeLessThanOrEqual(BigInt(fresh[0]));
  });

  it('finds the id boundary of a time by binary search, also across gaps in the ids', async () => {
    const t = randomUUID();
    const ids: string[] = [];
    for (let i = 10; i >= 1; i--) ids.push(await seedRow(pool, { tenant: t, createdAt: `now() - interval '${i} minutes'` }));
    await pool.query('DELETE FROM sync_outbox WHERE id = ANY($1::bigint[])', [ids.slice(3, 7)]); // a hole
    const at = async (minutesAgo: number) => {
      const c = (await pool.query<{ c: Date }>(`SELECT now() - make_interval(secs => $1) AS c`, [minutesAgo * 60 + 1])).rows[0].c;
      return outbox.firstIdCreatedAtOrAfter(pool, c);
    };
    // Rows created 10..1 minutes ago: ids[0] is 10 minutes old, ids[9] one minute old.
    expect(await at(10)).toBe(ids[0]);
    expect(await at(8)).toBe(ids[2]);
    // 5 minutes ago falls into the hole (ids[3..6] deleted): the next row that exists is ids[7].
    expect(BigInt(await at(5))).toBeGreaterThan(BigInt(ids[2]));
    expect(BigInt(await at(5))).toBeLessThanOrEqual(BigInt(ids[7]));
    expect(await at(1)).toBe(ids[9]);
    expect(BigInt(await at(0))).toBeGreaterThan(BigInt(ids[9]));
  });
});

describe('dead events', () => {
  it('lists dead rows newest first by status, with keyset pages', async () => {
    const t = randomUUID();
    const dlq = [];
    for (let i = 0; i < 3; i++) dlq.push(await seedRow(pool, { tenant: t, status: 'dlq', attemptCount: 10, lastError: `cloud answered 500 (${i})` }));
    const failed = await seedRow(pool, { tenant: t, status: 'failed', lastError: 'schema_violation:payload.value' });
    const page1 = await outbox.listDead(pool, { status: 'dlq', limit: 2 });
    expect(page1.map((r) => r.id)).toEqual([dlq[2], dlq[1]]);
    const page2 = await outbox.listDead(pool, { status: 'dlq', limit: 2, before: page1[1].id });
    expect(page2.map((r) => r.id)).toEqual([dlq[0]]);
    expect((await outbox.listDead(pool, { status: 'failed', limit: 10 })).map((r) => [r.id, r.last_error])).toEqual([
      [failed, 'schema_violation:payload.value'],
    ]);
  });

  it('requeues dead rows once: pending, attempts 0, due now, error kept in a note; again changes nothing', async () => {
    const t = randomUUID();
    const dead = await seedRow(pool, { tenant: t, ...old, status: 'dlq', attemptCount: 10, lastError: 'cloud answered 500 internal_error' });
    const rejected = await seedRow(pool, { tenant: t, ...old, status: 'failed', attemptCount: 1, lastError: 'tenant_not_authorized' });
    const acked = await seedRow(pool, { tenant: t, ...old, status: 'acked' });
    await pool.query(`UPDATE sync_outbox SET claimed_by = 'old-batch', next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [dead]);

    const first = await outbox.requeueDead(pool, [dead, rejected, acked, '999999999'], 'requeued by test');
    expect(first).toEqual({
      requeued: [
        { id: dead, from: 'dlq' },
        { id: rejected, from: 'failed' },
      ],
      unchanged: [{ id: acked, status: 'acked' }],
      notFound: ['999999999'],
    });
    const rows = await rowsById(pool, [dead, rejected]);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'pending', attempt_count: 0, claimed_by: null, lease_expires_at: null });
      expect(Math.abs(r.next_attempt_at.getTime() - Date.now())).toBeLessThan(5000);
    }
    expect(rows[0].last_error).toBe('[requeued by test from dlq after 10 attempts] cloud answered 500 internal_error');
    expect(rows[1].last_error).toBe('[requeued by test from failed after 1 attempts] tenant_not_authorized');

    const before = await rowsById(pool, [dead, rejected]);
    const again = await outbox.requeueDead(pool, [dead, rejected], 'requeued by test');
    expect(again).toEqual({
      requeued: [],
      unchanged: [
        { id: dead, status: 'pending' },
        { id: rejected, status: 'pending' },
      ],
      notFound: [],
    });
    expect(await rowsById(pool, [dead, rejected])).toEqual(before);

    // Claimable again right away.
    expect((await claim('b', 'backfill')).map((r) => r.id)).toEqual([dead, rejected]);
  });

  it('requeues every row of one dead status', async () => {
    const t = randomUUID();
    const dlq = [await seedRow(pool, { tenant: t, status: 'dlq' }), await seedRow(pool, { tenant: t, status: 'dlq' })];
    const failed = await seedRow(pool, { tenant: t, status: 'failed' });
    expect(await outbox.requeueAllDead(pool, 'dlq', 'all')).toBe(2);
    expect(await outbox.requeueAllDead(pool, 'dlq', 'all')).toBe(0);
    expect((await rowsById(pool, [...dlq, failed])).map((r) => r.status)).toEqual(['pending', 'pending', 'failed']);
  });
});

describe('retention', () => {
  it('deletes only acked rows acked before the cutoff, in chunks', async () => {
    const t = randomUUID();
    const oldAcked = [];
    for (let i = 0; i < 5; i++) {
      oldAcked.push(await seedRow(pool, { tenant: t, status: 'acked', createdAt: `now() - interval '100 hours'`, ackedAt: `now() - interval '99 hours'` }));
    }
    const keep = [
      await seedRow(pool, { tenant: t, status: 'acked', createdAt: `now() - interval '100 hours'`, ackedAt: `now() - interval '1 hour'` }),
      await seedRow(pool, { tenant: t, status: 'pending', createdAt: `now() - interval '100 hours'` }),
      await seedRow(pool, { tenant: t, status: 'dlq', createdAt: `now() - interval '100 hours'` }),
      await seedRow(pool, { tenant: t, status: 'failed', createdAt: `now() - interval '100 hours'` }),
      await seedRow(pool, { tenant: t, status: 'sent', createdAt: `now() - interval '100 hours'` }),
      await seedRow(pool, { tenant: t, status: 'claimed', createdAt: `now() - interval '100 hours'` }),
      await seedRow(pool, { tenant: t, status: 'acked', ackedAt: `now()` }),
    ];
    expect(await outbox.pruneAcked(pool, 72, 3)).toBe(3);
    expect(await outbox.pruneAcked(pool, 72, 3)).toBe(2);
    expect(await outbox.pruneAcked(pool, 72, 3)).toBe(0);
    expect(await rowsById(pool, oldAcked)).toEqual([]);
    expect((await rowsById(pool, keep)).map((r) => r.id)).toEqual(keep);
  });
});

describe('outboxFigures', () => {
  it('counts by status, finds the oldest pending event and the acks of the last minute', async () => {
    const t = randomUUID();
    const oldest = await seedRow(pool, { tenant: t, createdAt: `now() - interval '2 hours'` });
    await seedRow(pool, { tenant: t });
    await seedRow(pool, { tenant: t, status: 'acked', ackedAt: `now() - interval '10 seconds'` });
    await seedRow(pool, { tenant: t, status: 'acked', ackedAt: `now() - interval '10 minutes'` });
    await seedRow(pool, { tenant: t, status: 'dlq', lastError: 'cloud answered 500' });
    const f = await outbox.outboxFigures(pool);
    expect(f.byStatus).toEqual({ pending: 2, claimed: 0, sending: 0, sent: 0, acked: 2, dlq: 1, failed: 0 });
    expect(f.oldestPending?.id).toBe(oldest);
    expect(f.ackedLastMinute).toBe(1);
    expect(f.lastDead).toMatchObject({ status: 'dlq', lastError: 'cloud answered 500' });
  });
});
