/** Where "created since" begins in id order: the live lane and retention read only their side of it. */
import type { Queryable } from '../../db/transaction';

/**
 * The first id whose created_at is at or after `cutoff`, found by binary search over the primary
 * key (about 20 index probes for a million rows) instead of a scan. Ids grow with insertion and
 * created_at is the inserting transaction's start, so the two are ordered the same way except
 * across transactions that overlap; such a row lands on the other side of the boundary for at
 * most as long as its transaction ran, and the lane predicates (lanes.ts) still test created_at.
 */
const firstIdCreatedSince = `
WITH RECURSIVE s(lo, hi) AS (
  SELECT coalesce((SELECT min(id) FROM sync_outbox), 1),
         coalesce((SELECT max(id) FROM sync_outbox), 0) + 1
  UNION ALL
  SELECT CASE WHEN p.id IS NULL OR p.id >= s.hi OR p.created_at >= $1 THEN s.lo ELSE p.id + 1 END,
         CASE WHEN p.id IS NULL OR p.id >= s.hi THEN (s.lo + s.hi) / 2
              WHEN p.created_at >= $1 THEN p.id
              ELSE s.hi END
  FROM s LEFT JOIN LATERAL (
    SELECT o.id, o.created_at FROM sync_outbox o WHERE o.id >= (s.lo + s.hi) / 2 ORDER BY o.id LIMIT 1
  ) p ON true
  WHERE s.lo < s.hi
)
SELECT min(hi)::text AS id FROM s`;

export async function firstIdCreatedAtOrAfter(db: Queryable, cutoff: Date): Promise<string> {
  const { rows } = await db.query<{ id: string }>(firstIdCreatedSince, [cutoff]);
  return rows[0].id;
}
