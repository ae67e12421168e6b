/**
 * Deletes acked sync_outbox rows older than the retention period, a chunk per activity call, until
 * none is left or maxChunks were deleted (the next scheduled run carries on). A Temporal Schedule
 * starts a run every ten minutes with overlap SKIP (temporal/schedules.ts).
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { SyncRetentionActivities } from '../../activities/sync/retention';
import type { PruneSyncOutboxInput, PruneSyncOutboxResult } from '../../sync/sync-contract';
import { syncRetention } from './activity-options';

const { pruneAckedOutbox } = proxyActivities<SyncRetentionActivities>(syncRetention);

export const defaultPruneChunk = 10_000;
export const defaultPruneMaxChunks = 100;

export async function pruneSyncOutbox(input: PruneSyncOutboxInput): Promise<PruneSyncOutboxResult> {
  const chunk = input.chunk ?? defaultPruneChunk;
  const maxChunks = input.maxChunks ?? defaultPruneMaxChunks;
  const total: PruneSyncOutboxResult = { deleted: 0, chunks: 0, stoppedEarly: false };
  while (total.chunks < maxChunks) {
    const r = await pruneAckedOutbox({ olderThanHours: input.olderThanHours, chunk });
    total.chunks++;
    total.deleted += r.deleted;
    if (!r.hasMore) return total;
  }
  total.stoppedEarly = true;
  log.warn('more acked outbox rows to prune than one run deletes; the next run continues', { ...total });
  return total;
}
