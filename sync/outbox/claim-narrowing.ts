/**
 * Narrowing a claim the database refused (activities/sync/forwarder.ts claimSyncBatch): look at
 * the candidates without locking, claim them one at a time, quarantine the one it will not take.
 */
import type { Queryable } from '../../db/transaction';
import type { ClaimedRow } from './claim';
import { claimable, laneBounds, lanePredicates, type ClaimRequest, type SyncLane } from './lanes';

export interface ClaimCandidate {
  id: string;
  tenant_id: string;
}

const candidatesSql: Record<SyncLane, string> = {
  live: candidates(lanePredicates.live('$1', '$2')),
  backfill: candidates(lanePredicates.backfill('$1', '$2')),
};

function candidates(lanePredicate: string): string {
  return `
SELECT o.id::text AS id, o.tenant_id
FROM sync_outbox o
WHERE ${claimable}
  AND ${lanePredicate}
ORDER BY o.priority DESC, o.occurred_at ASC
LIMIT $3`;
}

/** The rows a claim would look at, in claim order, of every tenant; nothing is locked or changed. */
export async function claimCandidates(db: Queryable, req: ClaimRequest): Promise<ClaimCandidate[]> {
  const b = await laneBounds(db, req);
  const { rows } = await db.query<ClaimCandidate>(candidatesSql[req.lane], [b.cutoff, b.fromId, b.window]);
  return rows;
}

/** Claims one row if it is still claimable (another claimant may have taken it meanwhile). */
export async function claimRow(db: Queryable, req: ClaimRequest, id: string): Promise<ClaimedRow | undefined> {
  const { rows } = await db.query<ClaimedRow>(
    `UPDATE sync_outbox o
     SET status = 'claimed', claimed_by = $2, claimed_at = now(), lease_expires_at = now() + make_interval(secs => $3)
     WHERE o.id = $1::bigint AND ${claimable}
     RETURNING o.id::text AS id, o.tenant_id, o.event_id, o.event_type, o.priority, o.occurred_at, o.created_at, o.attempt_count`,
    [id, req.instanceId, req.leaseSeconds],
  );
  return rows[0];
}

/**
 * → failed, for a claimable row the database refuses to claim: out of every later claim's way,
 * with the reason, until an operator requeues it. `claimant` is kept in claimed_by to say who
 * found it.
 */
export async function quarantineUnclaimed(db: Queryable, id: string, claimant: string, reason: string): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox o SET status = 'failed', claimed_by = $2, last_error = $3, lease_expires_at = NULL
     WHERE o.id = $1::bigint AND ${claimable}`,
    [id, claimant, reason],
  );
  return r.rowCount ?? 0;
}
