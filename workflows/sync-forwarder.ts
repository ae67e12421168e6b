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
import type { ClaimedSyncBatch, SentSyncBatch, SyncActivities } from '../activities/sync-forwarder';
import { retryDelayMs, syncRetryPolicy } from '../domain/sync/retry-policy';
import { syncFailureTypes, type CloudMisconfiguredDetails } from '../edge/sync/failures';
import { syncBatchId } from '../temporal/workflow-ids';
import { cloudProbe, syncClaim, syncOutbox, syncSend } from './sync-activity-options';
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
} from './sync-definitions';

const outboxActivities = proxyActivities<SyncActivities>(syncOutbox);
const claimActivities = proxyActivities<SyncActivities>(syncClaim);
const probeActivities = proxyActivities<SyncActivities>(cloudProbe);

/** A refused edge is retried slowly: 60 s, 120 s, then every 300 s, or at once on connectivityRestored. */
export function misconfiguredRetryDelayMs(rounds: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, rounds - 1), syncRetryPolicy.maxSeconds * 1000);
}

/** How long the claim of each lane polls between looks (inside its long poll). */
const claimPollMs: Record<SyncLane, number> = { live: 250, backfill: 1000 };

interface InFlightBatch {
  batch: ClaimedSyncBatch;
  status: InFlightBatchStatus;
  scope: CancellationScope;
  done: Promise<void>;
}

function failureOf(err: unknown): { type: string; message: string; details?: unknown[] } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message, details: cause.details as unknown[] | undefined };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

const zeroTotals: SyncTotals = { batches: 0, eventsAcked: 0, eventsFailed: 0, batchesDlq: 0, eventsDlq: 0 };

export async function syncForwarder(input: SyncForwarderInput): Promise<void> {
  let config = resolveSyncConfig(input.config);
  const { runId } = workflowInfo();
  const carried = input.carried;
  const now = () => new Date().toISOString();

  let paused: SyncPause | null = carried?.paused ?? null;
  let halt: SyncHalt | null = carried?.halt ? { ...carried.halt, trial: false, nextTryAt: undefined } : null;
  let lastSuccess: SyncSuccess | null = carried?.lastSuccess ?? null;
  let lastError: SyncError | null = carried?.lastError ?? null;
  const totals: SyncTotals = { ...zeroTotals, ...carried?.totals };
  const runNumber = (carried?.runNumber ?? 0) + 1;
  const runStartedAt = now();

  let started = false;
  let stopping = false;
  let batchesSent = 0;
  let rounds = 0;
  let seq = 0;
  /** A trial batch (the first after a halt's wait) is being sent. */
  let trialInFlight = false;
  /** Lanes that found nothing to send in the current trial. */
  const trialEmpty = new Set<SyncLane>();
  /** Bumped by connectivityRestored; a wait that saw it change ends at once. */
  let retryNow = 0;
  /** Bumped whenever claiming becomes possible again (resume, recovery): idle lanes look at once. */
  let wake = 0;

  const lanes: Record<SyncLane, LaneStatus> = {
    live: { state: 'waiting', lastClaimAt: null, lastBatchAt: null, batches: 0, events: 0 },
    backfill: { state: 'waiting', lastClaimAt: null, lastBatchAt: null, batches: 0, events: 0 },
  };
  const inFlight = new Map<string, InFlightBatch>();
  const claimScopes = new Set<CancellationScope>();
  const sendWithAttempts = new Map<number, SyncActivities['sendSyncBatch']>();

  const rollOverDue = () => batchesSent >= config.maxBatchesPerRun || rounds >= config.maxRoundsPerRun || workflowInfo().continueAsNewSuggested;
  /** A halted forwarder claims again once its wait is over, to send one trial batch. */
  const mayClaim = () => started && !stopping && paused === null && (halt === null || (halt.trial && !trialInFlight));
  const slotsFor = (lane: SyncLane) => (lane === 'live' ? config.maxInFlight : Math.max(1, config.maxInFlight - 1));

  function noteError(type: string, message: string, batchId?: string): void {
    lastError = { at: now(), type, message, ...(batchId ? { batchId } : {}) };
  }

  /** The retry-now count when the last configuration check of a not_configured halt began. */
  let configCheckedAt: { halt: SyncHalt; retryNow: number } | undefined;

  function enterHalt(kind: SyncHaltKind, detail: string, extra: { status?: number; code?: string } = {}): void {
    if (halt && halt.kind === kind) {
      // In place: the supervisor's round in progress keeps working on the same halt.
      Object.assign(halt, { detail, ...extra, trial: false });
    } else {
      halt = { kind, since: now(), rounds: 0, detail, trial: false, ...extra };
      log.warn('sync halted', { kind, detail });
    }
    // Claims waiting in their long poll would only be given back: end them now.
    cancelClaims();
  }

  function cancelClaims(): void {
    for (const scope of claimScopes) scope.cancel();
  }

  setHandler(pauseSyncSignal, (req) => {
    if (paused === null) {
      paused = { since: now(), ...(req?.reason ? { reason: req.reason } : {}), ...(req?.by ? { by: req.by } : {}) };
      log.info('sync paused', { ...paused });
    }
    cancelClaims();
  });
  setHandler(resumeSyncSignal, () => {
    if (paused !== null) log.info('sync resumed', { pausedSince: paused.since });
    paused = null;
    wake++;
  });
  setHandler(connectivityRestoredSignal, () => {
    retryNow++;
    wake++;
  });
  setHandler(configureSyncSignal, (next) => {
    config = resolveSyncConfig({ ...next, edgeId: config.edgeId });
  });
  setHandler(syncStatusQuery, (): SyncStatus => ({
    edgeId: config.edgeId,
    state: !started ? 'starting' : stopping ? 'draining' : paused ? 'paused' : halt ? halt.kind : 'running',
    paused,
    halt,
    offlineSince: halt?.kind === 'offline' ? halt.since : null,
    lanes,
    inFlight: [...inFlight.values()].map((f) => f.status),
    lastSuccess,
    lastError,
    run: { runId, startedAt: runStartedAt, number: runNumber, batchesSent, rounds },
    totals,
    config,
  }));

  async function giveBack(batch: ClaimedSyncBatch, why: string): Promise<void> {
    try {
      // Also when the workflow itself is being cancelled: the rows must go back.
      await CancellationScope.nonCancellable(() => outboxActivities.releaseSyncBatch({ batchId: batch.batchId, ids: batch.ids }));
    } catch (err) {
      // The rows' lease runs out and a later claim takes them; nothing is lost.
      const f = failureOf(err);
      noteError(f.type, `could not give batch back (${why}): ${f.message}`, batch.batchId);
    }
  }

  async function claim(lane: SyncLane): Promise<ClaimedSyncBatch | undefined> {
    const batchId = syncBatchId(config.edgeId, lane, runId, ++seq);
    lanes[lane].state = 'claiming';
    lanes[lane].lastClaimAt = now();
    const scope = new CancellationScope();
    claimScopes.add(scope);
    try {
      return await scope.run(() =>
        claimActivities.claimSyncBatch({
          batchId,
          lane,
          batchSize: config.batchSize,
          leaseSeconds: config.leaseSeconds,
          liveWindowSeconds: config.liveWindowSeconds,
          // A trial looks once: with nothing to send, the supervisor goes on probing instead.
          waitMs: halt?.trial ? 0 : config.claimWaitSeconds * 1000,
          pollMs: claimPollMs[lane],
        }),
      );
    } catch (err) {
      if (!isCancellation(err)) {
        const f = failureOf(err);
        noteError(f.type, `claim failed: ${f.message}`, batchId);
      }
      return undefined;
    } finally {
      claimScopes.delete(scope);
    }
  }

  function sendActivity(remainingAttempts: number): SyncActivities['sendSyncBatch'] {
    let send = sendWithAttempts.get(remainingAttempts);
    if (!send) {
      send = proxyActivities<SyncActivities>({ ...syncSend, retry: { ...syncSend.retry, maximumAttempts: remainingAttempts } }).sendSyncBatch;
      sendWithAttempts.set(remainingAttempts, send);
    }
    return send;
  }

  function onSent(batch: ClaimedSyncBatch, r: SentSyncBatch): void {
    batchesSent++;
    totals.batches++;
    totals.eventsAcked += r.acked;
    totals.eventsFailed += r.failed;
    const lane = lanes[batch.lane];
    lane.batches++;
    lane.events += r.delivered;
    lane.lastBatchAt = now();
    lastSuccess = { at: now(), batchId: batch.batchId, lane: batch.lane, accepted: r.accepted, duplicate: r.duplicate, rejected: r.rejected };
    if (halt !== null && halt.kind !== 'not_configured') {
      log.info('cloud reachable again; sync resumes', { kind: halt.kind, since: halt.since, rounds: halt.rounds });
      halt = null;
      wake++;
    }
  }

  async function onSendFailed(batch: ClaimedSyncBatch, err: unknown): Promise<void> {
    if (isCancellation(err)) {
      // Rolled over to a new run: the rows go back with their attempts and next_attempt_at.
      await giveBack(batch, 'continue-as-new');
      return;
    }
    const f = failureOf(err);
    noteError(f.type, f.message, batch.batchId);
    switch (f.type) {
      case syncFailureTypes.cloudUnavailable:
        await giveBack(batch, 'cloud unavailable');
        enterHalt('offline', f.message);
        return;
      case syncFailureTypes.cloudMisconfigured: {
        await giveBack(batch, 'cloud refuses this edge');
        const d = f.details?.[0] as CloudMisconfiguredDetails | undefined;
        enterHalt('misconfigured', f.message, d ? { status: d.status, code: d.code } : {});
        return;
      }
      case syncFailureTypes.syncNotConfigured:
        await giveBack(batch, 'no signing key');
        enterHalt('not_configured', f.message);
        return;
      case syncFailureTypes.cloudBatchFailed:
        // Temporal spent the last attempt: spec §7.4, the batch is dead.
        try {
          const { moved } = await CancellationScope.nonCancellable(() =>
            outboxActivities.moveSyncBatchToDlq({ batchId: batch.batchId, ids: batch.ids, lastError: f.message }),
          );
          totals.batchesDlq++;
          totals.eventsDlq += moved;
        } catch (dlqErr) {
          const g = failureOf(dlqErr);
          noteError(g.type, `could not move batch to the DLQ (its lease will run out and it is retried once more): ${g.message}`, batch.batchId);
        }
        return;
      default:
        // A local failure (database, timeout, crash) spent the attempts, not the cloud: the events
        // keep the attempt count the cloud's failures gave them and go back for a later batch.
        await giveBack(batch, 'local failure');
    }
  }

  function startSend(batch: ClaimedSyncBatch, trial: boolean): void {
    if (trial) trialInFlight = true;
    const scope = new CancellationScope();
    const status: InFlightBatchStatus = {
      batchId: batch.batchId,
      lane: batch.lane,
      tenantId: batch.tenantId,
      events: batch.ids.length,
      priorAttempts: batch.priorAttempts,
      startedAt: now(),
    };
    const send = sendActivity(Math.max(1, syncRetryPolicy.maxAttempts - batch.priorAttempts));
    const entry: InFlightBatch = { batch, status, scope, done: Promise.resolve() };
    inFlight.set(batch.batchId, entry);
    entry.done = (async () => {
      try {
        const result = await scope.run(() =>
          send({ batchId: batch.batchId, lane: batch.lane, ids: batch.ids, priorAttempts: batch.priorAttempts, leaseSeconds: config.leaseSeconds }),
        );
        onSent(batch, result);
      } catch (err) {
        await onSendFailed(batch, err);
      } finally {
        inFlight.delete(batch.batchId);
        if (trial) trialInFlight = false;
      }
    })();
  }

  async function runLane(lane: SyncLane): Promise<void> {
    const st = lanes[lane];
    for (;;) {
      st.state = 'waiting';
      await condition(() => stopping || (mayClaim() && inFlight.size < slotsFor(lane)));
      if (stopping) break;
      const batch = await claim(lane);
      rounds++;
      if (!batch || batch.ids.length === 0) {
        st.state = 'idle';
        // A trial with nothing to send in either lane: back to waiting and probing (the next round).
        if (batch && halt !== null && halt.trial) {
          trialEmpty.add(lane);
          if (trialEmpty.size === 2 && !trialInFlight) halt.trial = false;
        }
        const pauseMs = batch === undefined ? 5000 : config.idlePollSeconds * 1000;
        const seen = wake;
        if (pauseMs > 0) await condition(() => stopping || wake !== seen, pauseMs);
        continue;
      }
      const trial = halt !== null;
      if (stopping || paused !== null || (halt !== null && (!halt.trial || trialInFlight))) {
        await giveBack(batch, stopping ? 'continue-as-new' : paused ? 'paused' : 'halted');
        continue;
      }
      startSend(batch, trial);
    }
    st.state = 'stopped';
  }

  /** While halted: wait out the backoff, ending early when the cloud answers or on retry-now. */
  async function recover(h: SyncHalt): Promise<void> {
    rounds++;
    h.rounds++;
    let seen = retryNow;
    if (h.kind === 'not_configured') {
      // A retry-now that came while the previous check ran (a key installed just then) must start
      // another check at once, not wait for the next recheck.
      if (configCheckedAt?.halt === h && patched('sync-retry-now-during-config-check')) seen = configCheckedAt.retryNow;
      await condition(() => stopping || retryNow !== seen, config.configurationRecheckSeconds * 1000);
      if (stopping) return;
      configCheckedAt = { halt: h, retryNow };
      try {
        const check = await outboxActivities.checkSyncConfiguration();
        if (halt !== h) return;
        if (check.configured) {
          log.info('sync configured; starting', { keyId: check.keyId, cloudUrl: check.cloudUrl });
          halt = null;
          wake++;
        } else {
          h.detail = check.reason ?? h.detail;
        }
      } catch (err) {
        const f = failureOf(err);
        noteError(f.type, `configuration check failed: ${f.message}`);
      }
      return;
    }
    const waitMs = h.kind === 'offline' ? retryDelayMs(h.rounds) : misconfiguredRetryDelayMs(h.rounds);
    h.nextTryAt = new Date(Date.now() + waitMs).toISOString();
    let reachable = false;
    const probeScope = new CancellationScope();
    const probing =
      h.kind === 'offline'
        ? probeScope.run(() => probeActivities.waitForCloud({ maxWaitMs: waitMs })).then(
            (r) => {
              reachable = r.reachable;
            },
            () => undefined,
          )
        : Promise.resolve();
    await condition(() => stopping || reachable || retryNow !== seen, waitMs);
    probeScope.cancel();
    await probing;
    if (stopping || halt !== h) return;
    h.nextTryAt = undefined;
    if (reachable || retryNow !== seen) {
      log.info('sync resumes', { kind: h.kind, since: h.since, rounds: h.rounds, by: reachable ? 'health probe' : 'connectivityRestored' });
      halt = null;
    } else {
      trialEmpty.clear();
      h.trial = true;
    }
    wake++;
  }

  async function supervise(): Promise<void> {
    for (;;) {
      await condition(() => stopping || (halt !== null && !halt.trial && paused === null));
      if (stopping) return;
      await recover(halt!);
    }
  }

  // ---- the run ------------------------------------------------------------------------------
  if (!carried) {
    try {
      await outboxActivities.releaseExpiredSyncLeases();
    } catch (err) {
      const f = failureOf(err);
      noteError(f.type, `releasing expired leases failed: ${f.message}`);
    }
  }
  if (halt === null) {
    try {
      const check = await outboxActivities.checkSyncConfiguration();
      if (!check.configured) enterHalt('not_configured', check.reason ?? 'no signing key');
    } catch (err) {
      const f = failureOf(err);
      noteError(f.type, `configuration check failed: ${f.message}`);
    }
  }
  started = true;

  const loops = Promise.all([runLane('live'), runLane('backfill'), supervise()]);
  try {
    await condition(rollOverDue);
  } catch (err) {
    // Cancelled by an operator (`temporal workflow cancel`): stop cleanly, every claim given back.
    if (!isCancellation(err)) throw err;
    stopping = true;
    await loops.catch(() => undefined);
    await Promise.all([...inFlight.values()].map((f) => f.done));
    log.info('sync forwarder cancelled; in-flight batches given back');
    throw err;
  }
  stopping = true;
  cancelClaims();
  await loops;

  if (inFlight.size > 0) {
    if (config.drainSeconds > 0) await condition(() => inFlight.size === 0, config.drainSeconds * 1000);
    const left = [...inFlight.values()];
    for (const f of left) f.scope.cancel();
    await Promise.all(left.map((f) => f.done));
  }
  await condition(allHandlersFinished);

  const next: CarriedSyncState = { paused, halt: halt ? { ...halt, trial: false } : null, lastSuccess, lastError, totals, runNumber };
  await continueAsNew<typeof syncForwarder>({ config, carried: next });
}
