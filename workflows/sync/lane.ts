/**
 * A lane (live or backfill): wait for a free slot → claim a batch (a long poll) → start sending it
 * → back for the next. Keeps its awaits as they were (see forwarder.ts).
 */
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { ClaimedSyncBatch } from '../../activities/sync/forwarder';
import type { SyncLane } from '../../sync/sync-contract';
import { syncBatchId } from '../../domain/temporal/workflow-ids';
import { failureOf } from './activity-failure';
import { claimActivities } from './forwarder-activities';
import { now, type ForwarderState } from './forwarder-state';
import { giveBack } from './give-back';
import { claimPollMs } from './pacing';
import { startSend } from './send-batch';

/** One lane's loop, until the run stops. */
export async function runLane(s: ForwarderState, lane: SyncLane): Promise<void> {
  const st = s.lanes[lane];
  for (;;) {
    st.state = 'waiting';
    await condition(() => s.stopping || (s.mayClaim() && s.inFlight.size < s.slotsFor(lane)));
    if (s.stopping) break;
    const batch = await claim(s, lane);
    s.rounds++;
    if (!batch || batch.ids.length === 0) {
      st.state = 'idle';
      // A trial with nothing to send in either lane: back to waiting and probing (the next round).
      if (batch && s.halt !== null && s.halt.trial) {
        s.trialEmpty.add(lane);
        if (s.trialEmpty.size === 2 && !s.trialInFlight) s.halt.trial = false;
      }
      const pauseMs = batch === undefined ? 5000 : s.config.idlePollSeconds * 1000;
      const seen = s.wake;
      if (pauseMs > 0) await condition(() => s.stopping || s.wake !== seen, pauseMs);
      continue;
    }
    const trial = s.halt !== null;
    // Paused, halted or stopping while the claim ran, or another lane's trial is out: give it back.
    if (s.stopping || s.paused !== null || (s.halt !== null && (!s.halt.trial || s.trialInFlight))) {
      await giveBack(s, batch, s.stopping ? 'continue-as-new' : s.paused ? 'paused' : 'halted');
      continue;
    }
    startSend(s, batch, trial);
  }
  st.state = 'stopped';
}

/** Claims a batch (a long poll); undefined when the claim failed or was cancelled. */
async function claim(s: ForwarderState, lane: SyncLane): Promise<ClaimedSyncBatch | undefined> {
  const batchId = syncBatchId(s.config.edgeId, lane, s.runId, ++s.seq);
  s.lanes[lane].state = 'claiming';
  s.lanes[lane].lastClaimAt = now();
  const scope = new CancellationScope();
  s.claimScopes.add(scope);
  try {
    return await scope.run(() =>
      claimActivities.claimSyncBatch({
        batchId,
        lane,
        batchSize: s.config.batchSize,
        leaseSeconds: s.config.leaseSeconds,
        liveWindowSeconds: s.config.liveWindowSeconds,
        // A trial looks once: with nothing to send, the supervisor goes on probing instead.
        waitMs: s.halt?.trial ? 0 : s.config.claimWaitSeconds * 1000,
        pollMs: claimPollMs[lane],
      }),
    );
  } catch (err) {
    if (!isCancellation(err)) {
      const f = failureOf(err);
      s.noteError(f.type, `claim failed: ${f.message}`, batchId);
    }
    return undefined;
  } finally {
    s.claimScopes.delete(scope);
  }
}
