/**
 * Whether the cloud can be counted on to deliver an alarm step: the forwarder's last successful
 * exchange with the cloud (the newest acked_at in sync_outbox, spec §7.2) is younger than
 * ALARM_CLOUD_GRACE_SECONDS. Only the newest rows are looked at (a backward scan of the primary
 * key, bounded), so the check stays cheap however big the outbox is: if none of them was acked
 * lately, either the cloud is away or the edge has sent nothing for a while, and in both cases the
 * farm is better woken locally than not at all.
 */
import type { Queryable } from '../db/transaction';

export interface CloudReachability {
  reachable: boolean;
  /** The last successful exchange, if any of the newest rows was acked. */
  lastExchangeAt?: string;
}

/** How many of the newest outbox rows are looked at. */
export const reachabilityWindowRows = 5000;

export async function cloudReachability(db: Queryable, graceSeconds: number): Promise<CloudReachability> {
  const r = await db.query<{ last: Date | null; fresh: boolean | null }>(
    `SELECT max(acked_at) AS last, max(acked_at) > now() - make_interval(secs => $1) AS fresh
     FROM (SELECT acked_at FROM sync_outbox ORDER BY id DESC LIMIT ${reachabilityWindowRows}) newest`,
    [graceSeconds],
  );
  const row = r.rows[0];
  return { reachable: row?.fresh === true, ...(row?.last ? { lastExchangeAt: row.last.toISOString() } : {}) };
}
