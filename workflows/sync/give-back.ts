/** Giving a claimed batch back to the outbox, for a later claim: used by the lanes and by settling a send. */
import { CancellationScope } from '@temporalio/workflow';
import type { ClaimedSyncBatch } from '../../activities/sync/forwarder';
import { failureOf } from './activity-failure';
import { outboxActivities } from './forwarder-activities';
import type { ForwarderState } from './forwarder-state';

export async function giveBack(s: ForwarderState, batch: ClaimedSyncBatch, why: string): Promise<void> {
  try {
    // Also when the workflow itself is being cancelled: the rows must go back.
    await CancellationScope.nonCancellable(() => outboxActivities.releaseSyncBatch({ batchId: batch.batchId, ids: batch.ids }));
  } catch (err) {
    // The rows' lease runs out and a later claim takes them; nothing is lost.
    const f = failureOf(err);
    s.noteError(f.type, `could not give batch back (${why}): ${f.message}`, batch.batchId);
  }
}
