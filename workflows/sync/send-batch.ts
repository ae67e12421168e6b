/**
 * Sending one batch: one sendSyncBatch activity with Temporal's retry, then settle the outcome
 * (count it, dead-letter it, or give it back and halt). Keeps its awaits as they were (see
 * forwarder.ts).
 */
import { CancellationScope, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { ClaimedSyncBatch, SentSyncBatch, SyncActivities } from '../../activities/sync/forwarder';
import { syncRetryPolicy } from '../../domain/sync/retry-policy';
import type { InFlightBatchStatus } from '../../sync/sync-contract';
import { syncFailureTypes, type CloudMisconfiguredDetails } from '../../sync/sync-failures';
import { failureOf } from './activity-failure';
import { syncSend } from './activity-options';
import { outboxActivities } from './forwarder-activities';
import { now, type ForwarderState, type InFlightBatch } from './forwarder-state';
import { giveBack } from './give-back';

/** Starts sending without waiting, so the lane can claim the next batch; the batch stays in inFlight until settled. */
export function startSend(s: ForwarderState, batch: ClaimedSyncBatch, trial: boolean): void {
  if (trial) s.trialInFlight = true;
  const scope = new CancellationScope();
  const status: InFlightBatchStatus = {
    batchId: batch.batchId,
    lane: batch.lane,
    tenantId: batch.tenantId,
    events: batch.ids.length,
    priorAttempts: batch.priorAttempts,
    startedAt: now(),
  };
  const send = sendActivity(s, Math.max(1, syncRetryPolicy.maxAttempts - batch.priorAttempts));
  const entry: InFlightBatch = { batch, status, scope, done: Promise.resolve() };
  s.inFlight.set(batch.batchId, entry);
  entry.done = (async () => {
    try {
      const result = await scope.run(() =>
        send({ batchId: batch.batchId, lane: batch.lane, ids: batch.ids, priorAttempts: batch.priorAttempts, leaseSeconds: s.config.leaseSeconds }),
      );
      settleSent(s, batch, result);
    } catch (err) {
      await settleFailure(s, batch, err);
    } finally {
      s.inFlight.delete(batch.batchId);
      if (trial) s.trialInFlight = false;
    }
  })();
}

/** Rows that already spent attempts get only the rest of the §7.4 budget. */
function sendActivity(s: ForwarderState, remainingAttempts: number): SyncActivities['sendSyncBatch'] {
  let send = s.sendWithAttempts.get(remainingAttempts);
  if (!send) {
    send = proxyActivities<SyncActivities>({ ...syncSend, retry: { ...syncSend.retry, maximumAttempts: remainingAttempts } }).sendSyncBatch;
    s.sendWithAttempts.set(remainingAttempts, send);
  }
  return send;
}

/** Counts a delivered batch; any answer from the cloud ends an offline or misconfigured halt. */
function settleSent(s: ForwarderState, batch: ClaimedSyncBatch, r: SentSyncBatch): void {
  s.batchesSent++;
  s.totals.batches++;
  s.totals.eventsAcked += r.acked;
  s.totals.eventsFailed += r.failed;
  const lane = s.lanes[batch.lane];
  lane.batches++;
  lane.events += r.delivered;
  lane.lastBatchAt = now();
  s.lastSuccess = { at: now(), batchId: batch.batchId, lane: batch.lane, accepted: r.accepted, duplicate: r.duplicate, rejected: r.rejected };
  if (s.halt !== null && s.halt.kind !== 'not_configured') {
    log.info('cloud reachable again; sync resumes', { kind: s.halt.kind, since: s.halt.since, rounds: s.halt.rounds });
    s.halt = null;
    s.wake++;
  }
}

/** A failed send: dead-letter it after its last attempt, otherwise give it back (and halt when the cloud cannot take it). */
async function settleFailure(s: ForwarderState, batch: ClaimedSyncBatch, err: unknown): Promise<void> {
  if (isCancellation(err)) {
    // Rolled over to a new run: the rows go back with their attempts and next_attempt_at.
    await giveBack(s, batch, 'continue-as-new');
    return;
  }
  const f = failureOf(err);
  s.noteError(f.type, f.message, batch.batchId);
  switch (f.type) {
    case syncFailureTypes.cloudUnavailable:
      await giveBack(s, batch, 'cloud unavailable');
      s.enterHalt('offline', f.message);
      return;
    case syncFailureTypes.cloudMisconfigured: {
      await giveBack(s, batch, 'cloud refuses this edge');
      const d = f.details?.[0] as CloudMisconfiguredDetails | undefined;
      s.enterHalt('misconfigured', f.message, d ? { status: d.status, code: d.code } : {});
      return;
    }
    case syncFailureTypes.syncNotConfigured:
      await giveBack(s, batch, 'no signing key');
      s.enterHalt('not_configured', f.message);
      return;
    case syncFailureTypes.cloudBatchFailed:
      // Temporal spent the last attempt: spec §7.4, the batch is dead. Inline, not a helper: see the
      // note on awaits in forwarder.ts.
      try {
        const { moved } = await CancellationScope.nonCancellable(() =>
          outboxActivities.moveSyncBatchToDlq({ batchId: batch.batchId, ids: batch.ids, lastError: f.message }),
        );
        s.totals.batchesDlq++;
        s.totals.eventsDlq += moved;
      } catch (dlqErr) {
        const g = failureOf(dlqErr);
        s.noteError(g.type, `could not move batch to the DLQ (its lease will run out and it is retried once more): ${g.message}`, batch.batchId);
      }
      return;
    default:
      // A local failure (database, timeout, crash) spent the attempts, not the cloud: the events
      // keep the attempt count the cloud's failures gave them and go back for a later batch.
      await giveBack(s, batch, 'local failure');
  }
}
