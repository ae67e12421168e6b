/** Retention: acked rows are deleted once they are old enough; nothing else is ever deleted. */
import type { Queryable } from '../../db/transaction';
import { firstIdCreatedAtOrAfter } from './id-boundary';

/**
 * Deletes up to `chunk` acked rows acked more than olderThanHours ago, oldest first; returns how
 * many. Only `acked` rows are ever deleted. acked_at >= created_at, so every candidate lies below
 * the id boundary of the cutoff: the scan stays inside the old part of the table.
 */
export async function pruneAcked(db: Queryable, olderThanHours: number, chunk: number): Promise<number> {
  const { cutoff, below } = await pruneBounds(db, olderThanHours);
  const r = await db.query(
    `DELETE FROM sync_outbox WHERE id IN (
       SELECT id FROM sync_outbox
       WHERE id < $1::bigint AND status = 'acked' AND acked_at < $2
       ORDER BY id
       LIMIT $3
     )`,
    [below, cutoff, chunk],
  );
  return r.rowCount ?? 0;
}

async function pruneBounds(db: Queryable, olderThanHours: number): Promise<{ cutoff: Date; below: string }> {
  const { rows: clock } = await db.query<{ cutoff: Date }>(`SELECT now() - make_interval(secs => $1) AS cutoff`, [olderThanHours * 3600]);
  const cutoff = clock[0].cutoff;
  return { cutoff, below: await firstIdCreatedAtOrAfter(db, cutoff) };
}

/** The ids pruneAcked would delete (to narrow a delete the database refused). */
export async function prunableIds(db: Queryable, olderThanHours: number, chunk: number): Promise<string[]> {
  const { cutoff, below } = await pruneBounds(db, olderThanHours);
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM sync_outbox WHERE id < $1::bigint AND status = 'acked' AND acked_at < $2 ORDER BY id LIMIT $3`,
    [below, cutoff, chunk],
  );
  return rows.map((r) => r.id);
}

/** Deletes these rows if they are still acked. */
export async function deleteAcked(db: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.query(`DELETE FROM sync_outbox WHERE id = ANY($1::bigint[]) AND status = 'acked'`, [ids]);
  return r.rowCount ?? 0;
}
