/**
 * The edge→cloud sync forwarder (spec §7, DESIGN.md §3 "Cloud sync"): one long-running workflow
 * per edge, `sync-forwarder/<edgeId>`, started by the edge worker.
 *
 * Inside, three loops run side by side:
 *
 * - two lanes, live and backfill, each: wait for a free slot → claim a batch (activity, a long
 *   poll) → start sending it (activity) and go back for the next. Up to maxInFlight batches are in
 *   flight in total and the backfill lane never takes the last slot, so a fresh reading goes out
 *   within seconds however large the backlog is (DESIGN.md §4).
 * - a supervisor that, while sync is halted (cloud unreachable, cloud refusing this edge, no
 *   signing key), waits with the §7.4 backoff and resumes at once when the cloud answers again or
 *   an operator sends `connectivityRestored`.
 *
 * One batch is one sendSyncBatch activity with Temporal's own retry (spec §7.4: up to 10 attempts,
 * delays chosen by the activity via nextRetryDelay), so each attempt shows in the UI; after the last
 * one the batch goes to the DLQ. Why an activity and not a child workflow per batch: a batch needs
 * nothing but retries, and an activity has them at three history events per attempt, where a child
 * would add a workflow execution (and its history) for each of thousands of batches an hour.
 *
 * History stays bounded: after maxBatchesPerRun batches, maxRoundsPerRun claims/recovery rounds or
 * when the server suggests it, the lanes stop, in-flight batches get drainSeconds to finish (the
 * rest are cancelled and given back: a batch waiting for its retry keeps attempt_count and
 * next_attempt_at in the outbox, so the next run continues its schedule), handlers finish, and the
 * workflow continues as new, carrying pause, halt, last success/error and totals.
 *
 * syncForwarder() below is that story in a dozen lines; each step is a function of the run's
 * ForwarderState (forwarder-state.ts), one import away, in the order the story calls them:
 * forwarder-messages.ts (signals and the status query), start-up.ts, lane.ts (claim, then
 * send-batch.ts and give-back.ts), supervisor.ts (with pacing.ts) and stop.ts.
 */
import { allHandlersFinished, condition, continueAsNew, isCancellation } from '@temporalio/workflow';
import type { SyncForwarderInput } from '../../sync/sync-contract';
import { answerMessages } from './forwarder-messages';
import { ForwarderState } from './forwarder-state';
import { runLane } from './lane';
import { startUp } from './start-up';
import { stopAndDrain, stopOnCancel } from './stop';
import { supervise } from './supervisor';

// Every step keeps the awaits of the code it came from: the lanes, the supervisor and the
// sends interleave inside one activation, so one await more or less reorders commands and breaks
// replay of runs in flight (test/workflows/replay.test.ts).

/** The story of one run: configure, run the lanes and the supervisor until rollover, drain, continue as new. */
export async function syncForwarder(input: SyncForwarderInput): Promise<void> {
  const s = new ForwarderState(input);
  answerMessages(s);
  await startUp(s);

  const loops = Promise.all([runLane(s, 'live'), runLane(s, 'backfill'), supervise(s)]);
  try {
    await condition(() => s.rollOverDue());
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await stopOnCancel(s, loops);
    throw err;
  }
  await stopAndDrain(s, loops);
  await condition(allHandlersFinished);
  await continueAsNew<typeof syncForwarder>({ config: s.config, carried: s.carryOver() });
}
