/**
 * Keeps sync_outbox from growing without end: acked rows are deleted once they are
 * SYNC_RETENTION_HOURS old, a chunk per call. Nothing else is ever deleted — pending, in-flight,
 * failed and dead events stay until they are acked (or an operator requeues them).
 */
import type { Pool } from 'pg';
import { log } from '@temporalio/activity';
import { invalidSyncRequest } from '../edge/sync/failures';
import { pruneAcked } from '../edge/sync/outbox';

export interface PruneAckedOutboxInput {
  olderThanHours: number;
  chunk: number;
}

export interface PruneAckedOutboxResult {
  deleted: number;
  /** A full chunk was deleted: more may be waiting. */
  hasMore: boolean;
}

export function createSyncRetentionActivities({ pool }: { pool: Pool }) {
  return {
    async pruneAckedOutbox({ olderThanHours, chunk }: PruneAckedOutboxInput): Promise<PruneAckedOutboxResult> {
      if (!(olderThanHours >= 0) || !Number.isInteger(chunk) || chunk < 1 || chunk > 100_000) {
        throw invalidSyncRequest(`pruneAckedOutbox needs olderThanHours >= 0 and 1 <= chunk <= 100000 (got ${olderThanHours}, ${chunk})`);
      }
      const deleted = await pruneAcked(pool, olderThanHours, chunk);
      if (deleted > 0) log.info('pruned acked outbox rows', { deleted, olderThanHours });
      return { deleted, hasMore: deleted === chunk };
    },
  };
}

export type SyncRetentionActivities = ReturnType<typeof createSyncRetentionActivities>;
