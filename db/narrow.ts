/**
 * Narrowing a refusal (db/errors.ts): when Postgres refuses a statement over many rows for their
 * data, halve the rows until the refused ones stand alone, so the rest is written at once and
 * only the refused rows are set aside. Used by the activities and by cloud ingestion.
 */
import { isDataRefusal } from './errors';

export interface Narrowed<T> {
  /** What `apply` reported for the parts it accepted (rows changed). */
  changed: number;
  /** The items that were refused on their own, with the refusal. */
  refused: { item: T; err: unknown }[];
}

/**
 * Applies a statement to `items`, narrowing a refusal to the items refused on their own: tries all
 * of them, and on a refusal splits the set in halves and tries each (a few statements per refused
 * item, not one per item). Any other failure is thrown at once. `apply` must leave nothing behind
 * when it throws: a single statement, or a statement inside `inSavepoint` (db/transaction.ts) within a transaction.
 */
export async function narrowRefusals<T>(items: readonly T[], apply: (subset: readonly T[]) => Promise<number>): Promise<Narrowed<T>> {
  const out: Narrowed<T> = { changed: 0, refused: [] };
  const visit = async (part: readonly T[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      out.changed += await apply(part);
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      if (part.length === 1) {
        out.refused.push({ item: part[0], err });
        return;
      }
      const mid = Math.ceil(part.length / 2);
      await visit(part.slice(0, mid));
      await visit(part.slice(mid));
    }
  };
  await visit(items);
  return out;
}
