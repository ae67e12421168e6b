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
 * ForwarderState, in the order the story calls them.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ClaimedSyncBatch, SentSyncBatch, SyncActivities } from '../../activities/sync/forwarder';
import { retryDelayMs, syncRetryPolicy } from '../../domain/sync/retry-policy';
import { syncFailureTypes, type CloudMisconfiguredDetails } from '../../sync/sync-failures';
import { syncBatchId } from '../../temporal/workflow-ids';
import { cloudProbe, syncClaim, syncOutbox, syncSend } from './activity-options';
import {
  configureSyncSignal,
  connectivityRestoredSignal,
  pauseSyncSignal,
  resolveSyncConfig,
  resumeSyncSignal,
  syncStatusQuery,
  type CarriedSyncState,
  type InFlightBatchStatus,
  type LaneStatus,
  type SyncError,
  type SyncForwarderInput,
  type SyncHalt,
  type SyncHaltKind,
  type SyncLane,
  type SyncPause,
  type SyncStatus,
  type SyncSuccess,
  type SyncTotals,
} from '../../sync/sync-contract';

const outboxActivities = proxyActivities<SyncActivities>(syncOutbox);
const claimActivities = proxyActivities<SyncActivities>(syncClaim);
const probeActivities = proxyActivities<SyncActivities>(cloudProbe);

/** A refused edge is retried slowly: 60 s, 120 s, then every 300 s, or at once on connectivityRestored. */
export function misconfiguredRetryDelayMs(rounds: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, rounds - 1), syncRetryPolicy.maxSeconds * 1000);
}

/** How long the claim of each lane polls between looks (inside its long poll). */
const claimPollMs: Record<SyncLane, number> = { live: 250, backfill: 1000 };

const zeroTotals: SyncTotals = { batches: 0, eventsAcked: 0, eventsFailed: 0, batchesDlq: 0, eventsDlq: 0 };

// Every step below keeps the awaits of the code it came from: the lanes, the supervisor and the
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

// ---- state ----------------------------------------------------------------------------------

interface InFlightBatch {
  batch: ClaimedSyncBatch;
  status: InFlightBatchStatus;
  scope: CancellationScope;
  done: Promise<void>;
}

/** Everything one run knows; what continueAsNew carries is picked out by carryOver(). */
class ForwarderState {
  config: ReturnType<typeof resolveSyncConfig>;
  readonly runId = workflowInfo().runId;
  readonly firstRun: boolean;
  readonly runNumber: number;
  readonly runStartedAt = now();

  paused: SyncPause | null;
  halt: SyncHalt | null;
  lastSuccess: SyncSuccess | null;
  lastError: SyncError | null;
  readonly totals: SyncTotals;

  started = false;
  stopping = false;
  batchesSent = 0;
  rounds = 0;
  seq = 0;
  /** A trial batch (the first after a halt's wait) is being sent. */
  trialInFlight = false;
  /** Lanes that found nothing to send in the current trial. */
  readonly trialEmpty = new Set<SyncLane>();
  /** Bumped by connectivityRestored; a wait that saw it change ends at once. */
  retryNow = 0;
  /** Bumped whenever claiming becomes possible again (resume, recovery): idle lanes look at once. */
  wake = 0;
  /** The retry-now count when the last configuration check of a not_configured halt began. */
  configCheckedAt: { halt: SyncHalt; retryNow: number } | undefined;

  readonly lanes: Record<SyncLane, LaneStatus> = {
    live: { state: 'waiting', lastClaimAt: null, lastBatchAt: null, batches: 0, events: 0 },
    backfill: { state: 'waiting', lastClaimAt: null, lastBatchAt: null, batches: 0, events: 0 },
  };
  readonly inFlight = new Map<string, InFlightBatch>();
  readonly claimScopes = new Set<CancellationScope>();
  readonly sendWithAttempts = new Map<number, SyncActivities['sendSyncBatch']>();

  constructor(input: SyncForwarderInput) {
    const carried = input.carried;
    this.config = resolveSyncConfig(input.config);
    this.firstRun = !carried;
    this.paused = carried?.paused ?? null;
    // A carried halt waits out its backoff again before its next trial.
    this.halt = carried?.halt ? { ...carried.halt, trial: false, nextTryAt: undefined } : null;
    this.lastSuccess = carried?.lastSuccess ?? null;
    this.lastError = carried?.lastError ?? null;
    this.totals = { ...zeroTotals, ...carried?.totals };
    this.runNumber = (carried?.runNumber ?? 0) + 1;
  }

  rollOverDue(): boolean {
    return this.batchesSent >= this.config.maxBatchesPerRun || this.rounds >= this.config.maxRoundsPerRun || workflowInfo().continueAsNewSuggested;
  }

  /** A halted forwarder claims again once its wait is over, to send one trial batch. */
  mayClaim(): boolean {
    return this.started && !this.stopping && this.paused === null && (this.halt === null || (this.halt.trial && !this.trialInFlight));
  }

  /** The backfill lane never takes the last slot, so a live reading always finds one. */
  slotsFor(lane: SyncLane): number {
    return lane === 'live' ? this.config.maxInFlight : Math.max(1, this.config.maxInFlight - 1);
  }

  noteError(type: string, message: string, batchId?: string): void {
    this.lastError = { at: now(), type, message, ...(batchId ? { batchId } : {}) };
  }

  enterHalt(kind: SyncHaltKind, detail: string, extra: { status?: number; code?: string } = {}): void {
    if (this.halt && this.halt.kind === kind) {
      // In place: the supervisor's round in progress keeps working on the same halt.
      Object.assign(this.halt, { detail, ...extra, trial: false });
    } else {
      this.halt = { kind, since: now(), rounds: 0, detail, trial: false, ...extra };
      log.warn('sync halted', { kind, detail });
    }
    // Claims waiting in their long poll would only be given back: end them now.
    this.cancelClaims();
  }

  cancelClaims(): void {
    for (const scope of this.claimScopes) scope.cancel();
  }

  status(): SyncStatus {
    const { started, stopping, paused, halt } = this;
    return {
      edgeId: this.config.edgeId,
      state: !started ? 'starting' : stopping ? 'draining' : paused ? 'paused' : halt ? halt.kind : 'running',
      paused,
      halt,
      offlineSince: halt?.kind === 'offline' ? halt.since : null,
      lanes: this.lanes,
      inFlight: [...this.inFlight.values()].map((f) => f.status),
      lastSuccess: this.lastSuccess,
      lastError: this.lastError,
      run: { runId: this.runId, startedAt: this.runStartedAt, number: this.runNumber, batchesSent: this.batchesSent, rounds: this.rounds },
      totals: this.totals,
      config: this.config,
    };
  }

  carryOver(): CarriedSyncState {
    const { paused, halt, lastSuccess, lastError, totals, runNumber } = this;
    return { paused, halt: halt ? { ...halt, trial: false } : null, lastSuccess, lastError, totals, runNumber };
  }
}

function now(): string {
  return new Date().toISOString();
}

function failureOf(err: unknown): { type: string; message: string; details?: unknown[] } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? 'ApplicationFailure', message: cause.message, details: cause.details as unknown[] | undefined };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

// ---- configure: operators' signals and the status query ------------------------------------

function answerMessages(s: ForwarderState): void {
  setHandler(pauseSyncSignal, (req) => {
    if (s.paused === null) {
      s.paused = { since: now(), ...(req?.reason ? { reason: req.reason } : {}), ...(req?.by ? { by: req.by } : {}) };
      log.info('sync paused', { ...s.paused });
    }
    s.cancelClaims();
  });
  setHandler(resumeSyncSignal, () => {
    if (s.paused !== null) log.info('sync resumed', { pausedSince: s.paused.since });
    s.paused = null;
    s.wake++;
  });
  setHandler(connectivityRestoredSignal, () => {
    s.retryNow++;
    s.wake++;
  });
  setHandler(configureSyncSignal, (next) => {
    s.config = resolveSyncConfig({ ...next, edgeId: s.config.edgeId });
  });
  setHandler(syncStatusQuery, (): SyncStatus => s.status());
}

/** Before the lanes start: free leases a crashed worker left (first run only), then check for a signing key. */
async function startUp(s: ForwarderState): Promise<void> {
  if (s.firstRun) {
    try {
      await outboxActivities.releaseExpiredSyncLeases();
    } catch (err) {
      const f = failureOf(err);
      s.noteError(f.type, `releasing expired leases failed: ${f.message}`);
    }
  }
  if (s.halt === null) {
    try {
      const check = await outboxActivities.checkSyncConfiguration();
      if (!check.configured) s.enterHalt('not_configured', check.reason ?? 'no signing key');
    } catch (err) {
      const f = failureOf(err);
      s.noteError(f.type, `configuration check failed: ${f.message}`);
    }
  }
  s.started = true;
}

// ---- a lane: wait for a slot → claim → start sending → back for the next --------------------

async function runLane(s: ForwarderState, lane: SyncLane): Promise<void> {
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

// ---- send: one activity with Temporal's retry, then settle the outcome ----------------------

/** Starts sending without waiting, so the lane can claim the next batch; the batch stays in inFlight until settled. */
function startSend(s: ForwarderState, batch: ClaimedSyncBatch, trial: boolean): void {
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
      // note on awaits above.
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

async function giveBack(s: ForwarderState, batch: ClaimedSyncBatch, why: string): Promise<void> {
  try {
    // Also when the workflow itself is being cancelled: the rows must go back.
    await CancellationScope.nonCancellable(() => outboxActivities.releaseSyncBatch({ batchId: batch.batchId, ids: batch.ids }));
  } catch (err) {
    // The rows' lease runs out and a later claim takes them; nothing is lost.
    const f = failureOf(err);
    s.noteError(f.type, `could not give batch back (${why}): ${f.message}`, batch.batchId);
  }
}

// ---- back off while halted: the supervisor ---------------------------------------------------

/** Each round of a halt (not while paused or during a trial): recheck the signing key, or wait out the backoff. */
async function supervise(s: ForwarderState): Promise<void> {
  for (;;) {
    await condition(() => s.stopping || (s.halt !== null && !s.halt.trial && s.paused === null));
    if (s.stopping) return;
    const h = s.halt!;
    s.rounds++;
    h.rounds++;
    if (h.kind === 'not_configured') await recheckConfiguration(s, h);
    else await waitOutBackoff(s, h);
  }
}

/** not_configured: look for a signing key every configurationRecheckSeconds, or at once on retry-now. */
async function recheckConfiguration(s: ForwarderState, h: SyncHalt): Promise<void> {
  let seen = s.retryNow;
  // A retry-now that came while the previous check ran (a key installed just then) must start
  // another check at once, not wait for the next recheck.
  if (s.configCheckedAt?.halt === h && patched('sync-retry-now-during-config-check')) seen = s.configCheckedAt.retryNow;
  await condition(() => s.stopping || s.retryNow !== seen, s.config.configurationRecheckSeconds * 1000);
  if (s.stopping) return;
  s.configCheckedAt = { halt: h, retryNow: s.retryNow };
  try {
    const check = await outboxActivities.checkSyncConfiguration();
    if (s.halt !== h) return;
    if (check.configured) {
      log.info('sync configured; starting', { keyId: check.keyId, cloudUrl: check.cloudUrl });
      s.halt = null;
      s.wake++;
    } else {
      h.detail = check.reason ?? h.detail;
    }
  } catch (err) {
    const f = failureOf(err);
    s.noteError(f.type, `configuration check failed: ${f.message}`);
  }
}

/**
 * offline / misconfigured: wait out the backoff, ending early when the health probe finds the
 * cloud (offline only) or on retry-now; otherwise allow one trial batch.
 */
async function waitOutBackoff(s: ForwarderState, h: SyncHalt): Promise<void> {
  const seen = s.retryNow;
  const waitMs = h.kind === 'offline' ? retryDelayMs(h.rounds) : misconfiguredRetryDelayMs(h.rounds);
  h.nextTryAt = new Date(Date.now() + waitMs).toISOString();
  let reachable = false;
  const probeScope = new CancellationScope();
  const probing =
    h.kind === 'offline'
      ? probeScope
          .run(() => probeActivities.waitForCloud({ maxWaitMs: waitMs }))
          .then(
            (r) => {
              reachable = r.reachable;
            },
            () => undefined,
          )
      : Promise.resolve();
  await condition(() => s.stopping || reachable || s.retryNow !== seen, waitMs);
  probeScope.cancel();
  await probing;
  if (s.stopping || s.halt !== h) return;
  h.nextTryAt = undefined;
  if (reachable || s.retryNow !== seen) {
    log.info('sync resumes', { kind: h.kind, since: h.since, rounds: h.rounds, by: reachable ? 'health probe' : 'connectivityRestored' });
    s.halt = null;
  } else {
    s.trialEmpty.clear();
    h.trial = true;
  }
  s.wake++;
}

// ---- stop: roll over to a new run, or end on an operator's cancel ----------------------------

/** Rollover: stop the lanes, give in-flight batches drainSeconds, then cancel (and so give back) the rest. */
async function stopAndDrain(s: ForwarderState, loops: Promise<unknown>): Promise<void> {
  s.stopping = true;
  s.cancelClaims();
  await loops;
  if (s.inFlight.size > 0) {
    if (s.config.drainSeconds > 0) await condition(() => s.inFlight.size === 0, s.config.drainSeconds * 1000);
    const left = [...s.inFlight.values()];
    for (const f of left) f.scope.cancel();
    await Promise.all(left.map((f) => f.done));
  }
}

/** Cancelled by an operator (`temporal workflow cancel`): stop cleanly, every claim given back. */
async function stopOnCancel(s: ForwarderState, loops: Promise<unknown>): Promise<void> {
  s.stopping = true;
  await loops.catch(() => undefined);
  await Promise.all([...s.inFlight.values()].map((f) => f.done));
  log.info('sync forwarder cancelled; in-flight batches given back');
}
