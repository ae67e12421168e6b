/** Figures for GET /api/v1/sync/status and the backlog every batch reports: read only. */
import type { Queryable } from '../../db/transaction';
import { outboxPriority } from './priority';
import { outboxStatuses, type DeadStatus, type OutboxStatus } from './statuses';

export interface OutboxFigures {
  byStatus: Record<OutboxStatus, number>;
  oldestPending: { id: string; createdAt: Date; occurredAt: Date } | null;
  ackedLastMinute: number;
  lastAckedAt: Date | null;
  /** The most recent event to go dead (dlq or failed), with its reason. */
  lastDead: { id: string; status: DeadStatus; lastError: string | null; eventType: string } | null;
}

/**
 * One pass over the table for the counts (there is no index on acked rows, and an operator asking
 * for the status is rare), plus two index lookups. The caller bounds it with a statement timeout.
 */
export async function outboxFigures(db: Queryable): Promise<OutboxFigures> {
  const { rows: counts } = await db.query<Record<OutboxStatus, string> & { acked_last_minute: string; last_acked_at: Date | null }>(
    `SELECT ${outboxStatuses.map((s) => `count(*) FILTER (WHERE status = '${s}') AS ${s}`).join(', ')},
            count(*) FILTER (WHERE status = 'acked' AND acked_at >= now() - interval '1 minute') AS acked_last_minute,
            max(acked_at) AS last_acked_at
     FROM sync_outbox`,
  );
  const c = counts[0];
  const byStatus = Object.fromEntries(outboxStatuses.map((s) => [s, Number(c[s])])) as Record<OutboxStatus, number>;
  const { rows: oldest } = await db.query<{ id: string; created_at: Date; occurred_at: Date }>(
    `SELECT id::text AS id, created_at, occurred_at FROM sync_outbox WHERE status IN ('pending', 'claimed') ORDER BY created_at, sync_outbox.id LIMIT 1`,
  );
  const { rows: dead } = await db.query<{ id: string; status: DeadStatus; last_error: string | null; event_type: string }>(
    `SELECT * FROM (
       (SELECT id::text AS id, status, last_error, event_type, id AS n FROM sync_outbox WHERE status = 'dlq' ORDER BY n DESC LIMIT 1)
       UNION ALL
       (SELECT id::text AS id, status, last_error, event_type, id AS n FROM sync_outbox WHERE status = 'failed' ORDER BY n DESC LIMIT 1)
     ) d ORDER BY n DESC LIMIT 1`,
  );
  return {
    byStatus,
    oldestPending: oldest[0] ? { id: oldest[0].id, createdAt: oldest[0].created_at, occurredAt: oldest[0].occurred_at } : null,
    ackedLastMinute: Number(c.acked_last_minute),
    lastAckedAt: c.last_acked_at,
    lastDead: dead[0] ? { id: dead[0].id, status: dead[0].status, lastError: dead[0].last_error, eventType: dead[0].event_type } : null,
  };
}

export interface OutboxBacklog {
  /** Rows waiting to be sent (pending or claimed), counted up to `cap`. */
  pending: number;
  /** occurred_at of the oldest waiting row; null when none waits. */
  oldestPendingAt: Date | null;
}

/**
 * The backlog the forwarder reports with every batch, so it must stay cheap however far behind
 * the edge is: both parts read only the claim index (partial on pending/claimed), the count stops
 * at `cap`, and the oldest row is one index probe per priority (the index orders by priority first).
 */
export async function outboxBacklog(db: Queryable, cap: number): Promise<OutboxBacklog> {
  const priorities = [...new Set(Object.values(outboxPriority))];
  const { rows } = await db.query<{ pending: number; oldest: Date | null }>(
    `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM sync_outbox WHERE status IN ('pending', 'claimed') LIMIT $1) AS waiting) AS pending,
            (SELECT min((SELECT o.occurred_at FROM sync_outbox o
                         WHERE o.status IN ('pending', 'claimed') AND o.priority = p
                         ORDER BY o.priority DESC, o.occurred_at LIMIT 1))
             FROM unnest($2::smallint[]) AS p) AS oldest`,
    [cap, priorities],
  );
  return { pending: rows[0].pending, oldestPendingAt: rows[0].oldest };
}
