/**
 * The rows a batch holds after its claim, and the fence every later update goes through: only
 * the owner's rows (`claimed_by = $owner`), and only while they are not settled.
 */
import type { Queryable } from '../../db/transaction';
import type { OutboxStatus } from './statuses';

/** Rows held by a batch and not yet settled: the only ones a fenced update may touch. */
export const held = `('claimed', 'sending', 'sent')`;

export function isHeld(status: OutboxStatus): boolean {
  return status === 'claimed' || status === 'sending' || status === 'sent';
}

/**
 * `UPDATE sync_outbox SET <set>` on the rows `ids` that `owner` still holds; returns the rows
 * actually changed. In `set`, $1 is the ids, $2 the owner and $3… the `values`.
 */
export async function updateHeld(db: Queryable, owner: string, ids: readonly string[], set: string, values: readonly unknown[] = []): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET ${set}
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner, ...values],
  );
  return r.rowCount ?? 0;
}

export interface HeldRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  /** The envelope exactly as stored, as JSON text (never re-serialized on the way out). */
  envelope: string;
  status: OutboxStatus;
  attempt_count: number;
}

/** The rows of a batch that this owner still has, in any state (the caller sorts out which are held). */
export async function loadOwnedRows(db: Queryable, owner: string, ids: readonly string[]): Promise<HeldRow[]> {
  const { rows } = await db.query<HeldRow>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, envelope::text AS envelope, status, attempt_count
     FROM sync_outbox WHERE id = ANY($1::bigint[]) AND claimed_by = $2`,
    [ids, owner],
  );
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}
