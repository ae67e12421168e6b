/** Recovery after a batch that will never come back: its rows return to pending once their lease is over. */
import type { Queryable } from '../../db/transaction';

/**
 * Rows left in `sending` or `sent` by a batch that will never come back (its workflow was
 * terminated, or reset) go back to pending once their lease is over. The §7.3 claim covers
 * `claimed` rows with an expired lease but not these. Not indexed (they should not exist), so the
 * forwarder runs it once when it starts, not on every claim.
 */
export async function releaseExpiredLeases(db: Queryable, ids?: readonly string[]): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
     WHERE status IN ('sending', 'sent') AND lease_expires_at < now() AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
    [ids ?? null],
  );
  return r.rowCount ?? 0;
}

/** The rows releaseExpiredLeases would release (to narrow a release the database refused). */
export async function expiredLeaseIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM sync_outbox WHERE status IN ('sending', 'sent') AND lease_expires_at < now() ORDER BY id`,
  );
  return rows.map((r) => r.id);
}
