/**
 * Keeps sync_outbox from growing without end: acked rows are deleted once they are
 * SYNC_RETENTION_HOURS old, a chunk per call. Nothing else is ever deleted — pending, in-flight,
 * failed and dead events stay until they are acked (or an operator requeues them).
 *
 * A delete the database refuses for a data reason (a trigger or a reference that keeps a row) is
 * narrowed to the rows it refuses; those stay, logged, and the rest of the chunk is deleted, so
 * one such row never stops retention. Transient failures are thrown as they are (retried by the
 * preset); a refusal left over is a non-retryable DataRefused (activities/failures.ts).
 */
import type { Pool } from 'pg';
import { log } from '@temporalio/activity';
import { isDataRefusal, refusalReason } from '../../db/errors';
import { invalidSyncRequest } from '../../sync/sync-failures';
import { deleteAcked, prunableIds, pruneAcked } from '../../sync/outbox';
import { narrowRefusals } from '../../db/narrow';
import { refusalsAreFinal } from '../failures';

export interface PruneAckedOutboxInput {
  olderThanHours: number;
  chunk: number;
}

export interface PruneAckedOutboxResult {
  deleted: number;
  /** A full chunk was deleted (or looked at, when some rows were refused): more may be waiting. */
  hasMore: boolean;
  /** Acked rows the database refused to delete; they stay. Absent when none. */
  refused?: number;
}

export function createSyncRetentionActivities({ pool }: { pool: Pool }) {
  return {
    async pruneAckedOutbox({ olderThanHours, chunk }: PruneAckedOutboxInput): Promise<PruneAckedOutboxResult> {
      if (!(olderThanHours >= 0) || !Number.isInteger(chunk) || chunk < 1 || chunk > 100_000) {
        throw invalidSyncRequest(`pruneAckedOutbox needs olderThanHours >= 0 and 1 <= chunk <= 100000 (got ${olderThanHours}, ${chunk})`);
      }
      return refusalsAreFinal('pruneAckedOutbox', async () => {
        try {
          const deleted = await pruneAcked(pool, olderThanHours, chunk);
          if (deleted > 0) log.info('pruned acked outbox rows', { deleted, olderThanHours });
          return { deleted, hasMore: deleted === chunk };
        } catch (err) {
          if (!isDataRefusal(err)) throw err;
          const ids = await prunableIds(pool, olderThanHours, chunk);
          const n = await narrowRefusals(ids, (part) => deleteAcked(pool, part));
          if (n.refused.length > 0) {
            log.error('the edge database refused to delete these acked outbox rows; they stay', {
              ids: n.refused.map((r) => r.item).slice(0, 20),
              refused: n.refused.length,
              reason: refusalReason(n.refused[0].err),
              err: (n.refused[0].err as Error).message,
            });
          }
          if (n.changed > 0) log.info('pruned acked outbox rows', { deleted: n.changed, olderThanHours });
          return { deleted: n.changed, hasMore: ids.length === chunk && n.changed > 0, refused: n.refused.length };
        }
      });
    },
  };
}

export type SyncRetentionActivities = ReturnType<typeof createSyncRetentionActivities>;
