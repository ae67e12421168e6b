/**
 * ForwarderState: everything one run of the sync forwarder knows (lanes, in-flight batches, pause,
 * halt, counters), the few rules read off it (rollover due, may claim, slots per lane), the status
 * the query answers and what continueAsNew carries.
 */
import { CancellationScope, log, workflowInfo } from '@temporalio/workflow';
import type { ClaimedSyncBatch, SyncActivities } from '../../activities/sync/forwarder';
import {
  resolveSyncConfig,
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

const zeroTotals: SyncTotals = { batches: 0, eventsAcked: 0, eventsFailed: 0, batchesDlq: 0, eventsDlq: 0 };

/** A batch being sent: what the status shows of it, the scope that cancels it, and its settling. */
export interface InFlightBatch {
  batch: ClaimedSyncBatch;
  status: InFlightBatchStatus;
  scope: CancellationScope;
  done: Promise<void>;
}

/** Everything one run knows; what continueAsNew carries is picked out by carryOver(). */
export class ForwarderState {
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

/** Workflow time as an ISO string (deterministic in the sandbox), for the status and its records. */
export function now(): string {
  return new Date().toISOString();
}
