/**
 * Settling a delivered batch by the cloud's per-event answer: each row acked, or failed with the
 * cloud's reason, and the batch's monitoring events appended, all in one transaction. Rows the edge
 * database refuses to settle are quarantined in that same transaction, and the rest commits.
 */
import type { Pool } from 'pg';
import { log } from '@temporalio/activity';
import { isDataRefusal, refusalReason } from '../../db/errors';
import { inSavepoint, inTransaction } from '../../db/transaction';
import { narrowRefusals } from '../../db/narrow';
import * as outbox from '../../sync/outbox';
import { quarantineHeld, type Guard } from './held-rows';

/** A sent row with the cloud's verdict: a reason when it was rejected. */
export interface Verdict {
  id: string;
  rejectedFor?: string;
}

/** What a settle changed: rows acked and failed (quarantined ones not among them), and monitoring events appended. */
export interface Settled {
  acked: number;
  failed: number;
  quarantined: number;
  monitoringEvents: number;
}

/** Settles `outcomes` for the batch `owner`; `monitoring` (null when none are appended) builds its monitoring events. */
export async function settleBatch(
  pool: Pool,
  owner: string,
  outcomes: readonly Verdict[],
  monitoring: (() => outbox.NewOutboxEvent[]) | null,
): Promise<Settled> {
  const settled: Settled = { acked: 0, failed: 0, quarantined: 0, monitoringEvents: 0 };
  const settle = (db: outbox.Queryable, part: readonly Verdict[]) => async () => {
    const acked = await outbox.markAcked(
      db,
      owner,
      part.filter((o) => o.rejectedFor === undefined).map((o) => o.id),
    );
    const failed = await outbox.markFailed(
      db,
      owner,
      part.filter((o) => o.rejectedFor !== undefined).map((o) => ({ id: o.id, reason: o.rejectedFor! })),
    );
    settled.acked += acked;
    settled.failed += failed;
    return acked + failed;
  };
  try {
    await inTransaction(pool, async (db) => {
      await settle(db, outcomes)();
      if (monitoring) settled.monitoringEvents = await outbox.appendEvents(db, monitoring());
    });
  } catch (err) {
    if (!isDataRefusal(err)) throw err;
    // Narrowed: every row's outcome in a savepoint of one transaction, so the refused rows
    // are found, quarantined, and everything else commits together.
    Object.assign(settled, { acked: 0, failed: 0, monitoringEvents: 0 });
    await inTransaction(pool, async (db) => {
      const guard: Guard = (work) => inSavepoint(db, work);
      const n = await narrowRefusals(outcomes, (part) => guard(settle(db, part)));
      const refusedIds = n.refused.map((r) => ({ item: r.item.id, err: r.err }));
      settled.quarantined = await quarantineHeld(
        db,
        'settle',
        owner,
        refusedIds,
        "the edge database refused to record the cloud's answer for this event",
        guard,
      );
      if (monitoring) {
        try {
          settled.monitoringEvents = await guard(() => outbox.appendEvents(db, monitoring()));
        } catch (appendErr) {
          if (!isDataRefusal(appendErr)) throw appendErr;
          log.error('the edge database refused the monitoring events of a batch; not recorded', { batchId: owner, reason: refusalReason(appendErr) });
        }
      }
    });
  }
  return settled;
}
