/** Dead events: list, inspect, requeue (operators, through the edge HTTP API or `farmiq sync dlq`). */
import type { Queryable } from '../../db/transaction';
import type { DeadStatus, OutboxStatus } from './statuses';

export interface DeadRowSummary {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  status: DeadStatus;
  attempt_count: number;
  last_error: string | null;
  occurred_at: Date;
  created_at: Date;
  claimed_by: string | null;
}

/**
 * Newest first, keyset-paginated by id (sync_outbox_dead is exactly (status, id)). The ORDER BY
 * names the column: a bare `id` is the text output column, and 99 would sort before 100.
 */
export async function listDead(db: Queryable, q: { status: DeadStatus; limit: number; before?: string }): Promise<DeadRowSummary[]> {
  const { rows } = await db.query<DeadRowSummary>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, status, attempt_count, last_error, occurred_at, created_at, claimed_by
     FROM sync_outbox
     WHERE status = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
     ORDER BY sync_outbox.id DESC
     LIMIT $3`,
    [q.status, q.before ?? null, q.limit],
  );
  return rows;
}

export interface OutboxRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  envelope: unknown;
  trace_id: string | null;
  occurred_at: Date;
  priority: number;
  status: OutboxStatus;
  attempt_count: number;
  next_attempt_at: Date;
  claimed_by: string | null;
  claimed_at: Date | null;
  lease_expires_at: Date | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  acked_at: Date | null;
}

export async function getRow(db: Queryable, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, envelope, trace_id, occurred_at, priority, status, attempt_count,
            next_attempt_at, claimed_by, claimed_at, lease_expires_at, last_error, created_at, sent_at, acked_at
     FROM sync_outbox WHERE id = $1::bigint`,
    [id],
  );
  return rows[0];
}

export interface RequeueResult {
  requeued: { id: string; from: DeadStatus }[];
  /** Present but not dead (already pending again, acked, …): left exactly as they were. */
  unchanged: { id: string; status: OutboxStatus }[];
  notFound: string[];
}

/**
 * dlq|failed → pending with a fresh budget of attempts, due now. The last error is kept, prefixed
 * with a note of the requeue, so the history of an event stays readable. Idempotent: a row that is
 * not dead any more is reported and left alone.
 */
export async function requeueDead(db: Queryable, ids: readonly string[], note: string): Promise<RequeueResult> {
  const { rows: changed } = await db.query<{ id: string; previous: DeadStatus }>(
    `WITH target AS (
       SELECT id, status FROM sync_outbox WHERE id = ANY($1::bigint[]) AND status IN ('dlq', 'failed') FOR UPDATE
     )
     UPDATE sync_outbox o
     SET status = 'pending', attempt_count = 0, next_attempt_at = now(), claimed_by = NULL, claimed_at = NULL,
         lease_expires_at = NULL,
         last_error = left(format('[%s from %s after %s attempts] %s', $2::text, t.status, o.attempt_count, coalesce(o.last_error, '')), 4000)
     FROM target t
     WHERE o.id = t.id
     RETURNING o.id::text AS id, t.status AS previous`,
    [ids, note],
  );
  const requeued = new Set(changed.map((r) => r.id));
  const rest = ids.filter((id) => !requeued.has(id));
  const { rows: others } = rest.length
    ? await db.query<{ id: string; status: OutboxStatus }>(`SELECT id::text AS id, status FROM sync_outbox WHERE id = ANY($1::bigint[])`, [rest])
    : { rows: [] };
  const present = new Map(others.map((r) => [r.id, r.status]));
  return {
    requeued: changed.map((r) => ({ id: r.id, from: r.previous })).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))),
    unchanged: rest.filter((id) => present.has(id)).map((id) => ({ id, status: present.get(id)! })),
    notFound: rest.filter((id) => !present.has(id)),
  };
}

/** Every row of one dead status back to pending (see requeueDead); returns how many. */
export async function requeueAllDead(db: Queryable, status: DeadStatus, note: string): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox o
     SET status = 'pending', attempt_count = 0, next_attempt_at = now(), claimed_by = NULL, claimed_at = NULL,
         lease_expires_at = NULL,
         last_error = left(format('[%s from %s after %s attempts] %s', $2::text, o.status, o.attempt_count, coalesce(o.last_error, '')), 4000)
     WHERE o.status = $1`,
    [status, note],
  );
  return r.rowCount ?? 0;
}
