/**
 * What a claim may take: the rows due and unleased, in one lane, within a bounded window. Shared by
 * the claim (claim.ts) and its narrowing (claim-narrowing.ts) so both look at the same rows.
 */
import type { Queryable } from '../../db/transaction';
import { firstIdCreatedAtOrAfter } from './id-boundary';
import { monitoringPriority } from './priority';

/** Lanes of DESIGN.md §4: live events never wait behind a backlog. */
export const syncLanes = ['live', 'backfill'] as const;
export type SyncLane = (typeof syncLanes)[number];

export interface ClaimRequest {
  /** The claimant written to claimed_by: the forwarder passes the batch id. */
  instanceId: string;
  lane: SyncLane;
  batchSize: number;
  leaseSeconds: number;
  /** Rows created this recently belong to the live lane, older ones to the backfill lane. */
  liveWindowSeconds: number;
}

export const claimable = `o.status IN ('pending', 'claimed')
    AND o.next_attempt_at <= now()
    AND (o.claimed_by IS NULL OR o.lease_expires_at < now())`;

// Monitoring events (priority < 0) never take the live lane: created fresh after every batch, they
// would otherwise go out at once, each pair as its own batch, ahead of the backlog they report on
// (half of all batches during a drain; bench/sync.ts). The backfill lane sends them after
// everything else that is due, many to a batch, or at once when nothing else is.
export const lanePredicates: Record<SyncLane, (cutoff: string, fromId: string) => string> = {
  live: (cutoff, fromId) => `o.id >= ${fromId}::bigint AND o.created_at >= ${cutoff} AND o.priority > ${monitoringPriority}`,
  backfill: (cutoff, fromId) => `(o.created_at < ${cutoff} OR o.priority <= ${monitoringPriority}) AND ${fromId}::bigint IS NULL`,
};

export const tenantWindowFactor = 10;

export interface LaneBounds {
  cutoff: Date;
  /** The live lane's first id (null for the backfill lane). */
  fromId: string | null;
  /** How many rows in claim order the claim looks at. */
  window: number;
}

export async function laneBounds(db: Queryable, req: ClaimRequest): Promise<LaneBounds> {
  const { rows: clock } = await db.query<{ cutoff: Date }>(`SELECT now() - make_interval(secs => $1) AS cutoff`, [req.liveWindowSeconds]);
  const cutoff = clock[0].cutoff;
  const window = Math.min(req.batchSize * tenantWindowFactor, 10_000);
  return { cutoff, fromId: req.lane === 'live' ? await firstIdCreatedAtOrAfter(db, cutoff) : null, window };
}
