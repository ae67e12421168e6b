/** The spec §7.3 claim: one tenant's due rows of one lane, leased to the batch that claims them. */
import type { Queryable } from '../../db/transaction';
import { claimable, laneBounds, lanePredicates, type ClaimRequest } from './lanes';

export interface ClaimedRow {
  id: string; // bigint as text: exact, and what the fenced updates take back
  tenant_id: string;
  event_id: string;
  event_type: string;
  priority: number;
  occurred_at: Date;
  created_at: Date;
  attempt_count: number;
}

/**
 * Spec §7.3 plus two things the spec's prose asks for: the batch holds one tenant's events (the
 * tenant of the first candidate in claim order, spec §2 step 5), and it belongs to one lane.
 *
 * The live lane is bounded by id (see firstIdCreatedAtOrAfter) so it reads only the rows of the
 * live window, however long the backlog behind them; the backfill lane walks sync_outbox_claim in
 * its order. Both keep the spec's order (priority DESC, occurred_at ASC) within the lane.
 *
 * The tenant's rows are looked for among the next `batchSize × tenantWindowFactor` rows in claim
 * order only: there is no (tenant, priority, occurred_at) index, and without the bound a tenant
 * with few rows behind a large backlog of another tenant would cost a scan of the whole backlog
 * per claim. With one tenant per edge (the usual farm) batches are full; with many interleaved
 * tenants they are smaller, and every tenant still goes out in claim order.
 */
function claimSql(lanePredicate: string): string {
  return `
WITH head AS (
  SELECT o.tenant_id
  FROM sync_outbox o
  WHERE ${claimable}
    AND ${lanePredicate}
  ORDER BY o.priority DESC, o.occurred_at ASC
  LIMIT 1
  FOR UPDATE SKIP LOCKED
),
candidates AS (
  SELECT w.id
  FROM (
    SELECT o.id, o.tenant_id
    FROM sync_outbox o
    WHERE ${claimable}
      AND ${lanePredicate}
    ORDER BY o.priority DESC, o.occurred_at ASC
    LIMIT $6
    FOR UPDATE SKIP LOCKED
  ) w
  WHERE w.tenant_id = (SELECT tenant_id FROM head)
  LIMIT $2
)
UPDATE sync_outbox o
SET status = 'claimed',
    claimed_by = $1,
    claimed_at = now(),
    lease_expires_at = now() + make_interval(secs => $3)
FROM candidates c
WHERE o.id = c.id
RETURNING o.id::text AS id, o.tenant_id, o.event_id, o.event_type, o.priority, o.occurred_at, o.created_at, o.attempt_count`;
}

const claimLive = claimSql(lanePredicates.live('$4', '$5'));
const claimBackfill = claimSql(lanePredicates.backfill('$4', '$5'));

/** Claims up to batchSize due rows of one tenant in one lane, leased for leaseSeconds. */
export async function claimBatch(db: Queryable, req: ClaimRequest): Promise<ClaimedRow[]> {
  const b = await laneBounds(db, req);
  const { rows } = await db.query<ClaimedRow>(req.lane === 'live' ? claimLive : claimBackfill, [
    req.instanceId,
    req.batchSize,
    req.leaseSeconds,
    b.cutoff,
    b.fromId,
    b.window,
  ]);
  return sortClaimed(rows);
}

/** UPDATE … RETURNING gives no order; the batch goes out in claim order. */
export function sortClaimed(rows: ClaimedRow[]): ClaimedRow[] {
  return rows.sort((a, b) => b.priority - a.priority || a.occurred_at.getTime() - b.occurred_at.getTime() || Number(BigInt(a.id) - BigInt(b.id)));
}
