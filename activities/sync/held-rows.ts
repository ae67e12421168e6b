/**
 * What a batch does with the outbox rows it holds but cannot move on: it notes the rows it lost to
 * another claimant, logs the rows the edge database refused, and quarantines those (failed, with
 * `storage_refused:<SQLSTATE>`) so that they never block a lane.
 */
import { log } from '@temporalio/activity';
import { isDataRefusal, refusalReason } from '../../db/errors';
import * as outbox from '../../sync/outbox';
import { refusalNote } from '../failures';

export function shortfall(step: string, batchId: string, expected: number, changed: number): void {
  if (changed < expected)
    log.warn('sync batch no longer holds every row (its lease ran out and another batch claimed them)', { step, batchId, expected, changed });
}

export function logRefused(message: string, step: string, batchId: string, refused: readonly { item: string; err: unknown }[]): void {
  if (refused.length === 0) return;
  log.error(message, {
    step,
    batchId,
    ids: refused.map((r) => r.item).slice(0, 20),
    refused: refused.length,
    reason: refusalReason(refused[0].err),
    err: (refused[0].err as Error).message,
  });
}

export type Guard = <T>(work: () => Promise<T>) => Promise<T>;
const direct: Guard = (work) => work();

/**
 * Held rows the database refused to move on: → failed with `storage_refused:<SQLSTATE>` (fenced
 * like markFailed). A row that refuses even that is left as it is (its lease runs out). Inside a
 * transaction, `guard` puts each row in a savepoint.
 */
export async function quarantineHeld(
  db: outbox.Queryable,
  step: string,
  owner: string,
  refused: readonly { item: string; err: unknown }[],
  what: string,
  guard: Guard = direct,
): Promise<number> {
  let quarantined = 0;
  const stuck: { item: string; err: unknown }[] = [];
  for (const r of refused) {
    try {
      quarantined += await guard(() => outbox.markFailed(db, owner, [{ id: r.item, reason: refusalNote(r.err, what) }]));
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      stuck.push({ item: r.item, err });
    }
  }
  logRefused(`the edge database refused these events (${what}); quarantined as failed with the reason`, step, owner, refused);
  logRefused('the edge database refused even to quarantine these events; left as they are until their lease runs out', step, owner, stuck);
  return quarantined;
}
