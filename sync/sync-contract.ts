/**
 * The contract of the sync context (spec §7), below everything that uses it: the sync forwarder's
 * messages, status and input, and the outbox retention run's input and result. The workflows
 * (workflows/sync/forwarder.ts, workflows/sync/retention.ts) set handlers for these objects; the
 * edge worker (sync/forwarder-start.ts, temporal/schedules.ts), the edge HTTP API and the
 * tests send them and start the workflows by name — nobody spells a message name or imports a
 * workflow file.
 *
 * Signals, not updates, for pause / resume / retry-now: a signal is stored by the server even while
 * the edge worker is down (an operator pausing sync during maintenance must not need a running
 * worker), and the HTTP API reads the effect back through the status query.
 *
 * Workflow-bundle safe: imports only @temporalio/workflow's message definitions.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type SyncLane = 'live' | 'backfill';

/** What the edge worker passes from settings; the workflow fills in the rest with the defaults below. */
export interface SyncForwarderConfig {
  edgeId: string;
  /** Events per batch (at most the cloud's 1000). SYNC_BATCH_SIZE */
  batchSize?: number;
  /** How long a claim holds its rows before another claimant may take them. SYNC_LEASE_SECONDS */
  leaseSeconds?: number;
  /** Batches being sent at once, both lanes together; one slot is kept for the live lane. SYNC_MAX_IN_FLIGHT */
  maxInFlight?: number;
  /** Rows created this recently go out through the live lane. SYNC_LIVE_WINDOW_SECONDS */
  liveWindowSeconds?: number;
  /** An empty claim keeps looking (inside the activity, heartbeating) this long. */
  claimWaitSeconds?: number;
  /** Pause between two empty claims (on top of claimWaitSeconds). */
  idlePollSeconds?: number;
  /** Sent batches per run before continueAsNew. */
  maxBatchesPerRun?: number;
  /** Claims (empty ones included) and recovery rounds per run before continueAsNew. */
  maxRoundsPerRun?: number;
  /** Before continueAsNew, batches in flight get this long to finish; the rest are given back. */
  drainSeconds?: number;
  /** With no signing key, look for one this often. */
  configurationRecheckSeconds?: number;
}

/** The claim's long poll is capped so that its activity timeout (workflows/sync/activity-options.ts) holds. */
export const maxClaimWaitSeconds = 60;

export type ResolvedSyncForwarderConfig = Required<SyncForwarderConfig>;

export const syncForwarderDefaults: Omit<ResolvedSyncForwarderConfig, 'edgeId'> = {
  batchSize: 500,
  leaseSeconds: 60,
  maxInFlight: 4,
  liveWindowSeconds: 120,
  claimWaitSeconds: 20,
  idlePollSeconds: 0,
  maxBatchesPerRun: 200,
  maxRoundsPerRun: 500,
  drainSeconds: 30,
  configurationRecheckSeconds: 60,
};

/** Why the forwarder is not sending, when it is not. */
export type SyncHaltKind = 'offline' | 'misconfigured' | 'not_configured';

export interface SyncHalt {
  kind: SyncHaltKind;
  since: string;
  /** Recovery rounds so far: the backoff grows with them (retryDelayMs). */
  rounds: number;
  detail: string;
  /** HTTP status and error code of the cloud's refusal (misconfigured). */
  status?: number;
  code?: string;
  /** When the next try is due, unless the cloud comes back (offline) or a retry-now signal comes first. */
  nextTryAt?: string;
  /** The wait is over: one batch may go out to find out whether the cloud is back. */
  trial: boolean;
}

export interface SyncPause {
  since: string;
  reason?: string;
  by?: string;
}

export interface InFlightBatchStatus {
  batchId: string;
  lane: SyncLane;
  tenantId: string | null;
  events: number;
  priorAttempts: number;
  startedAt: string;
}

export interface LaneStatus {
  state: 'waiting' | 'claiming' | 'idle' | 'stopped';
  lastClaimAt: string | null;
  lastBatchAt: string | null;
  batches: number;
  events: number;
}

export interface SyncSuccess {
  at: string;
  batchId: string;
  lane: SyncLane;
  accepted: number;
  duplicate: number;
  rejected: number;
}

export interface SyncError {
  at: string;
  batchId?: string;
  type: string;
  message: string;
}

export interface SyncTotals {
  batches: number;
  eventsAcked: number;
  eventsFailed: number;
  batchesDlq: number;
  eventsDlq: number;
}

export type SyncState = 'starting' | 'running' | 'paused' | 'offline' | 'misconfigured' | 'not_configured' | 'draining';

export interface SyncStatus {
  edgeId: string;
  state: SyncState;
  paused: SyncPause | null;
  halt: SyncHalt | null;
  /** Since when the cloud has been unreachable (null while it is reachable). */
  offlineSince: string | null;
  lanes: Record<SyncLane, LaneStatus>;
  inFlight: InFlightBatchStatus[];
  lastSuccess: SyncSuccess | null;
  lastError: SyncError | null;
  run: { runId: string; startedAt: string; number: number; batchesSent: number; rounds: number };
  /** Since the forwarder first started (carried across continueAsNew). */
  totals: SyncTotals;
  config: ResolvedSyncForwarderConfig;
}

/** State that survives continueAsNew. */
export interface CarriedSyncState {
  paused: SyncPause | null;
  halt: SyncHalt | null;
  lastSuccess: SyncSuccess | null;
  lastError: SyncError | null;
  totals: SyncTotals;
  runNumber: number;
}

export interface SyncForwarderInput {
  config: SyncForwarderConfig;
  carried?: CarriedSyncState;
}

/** The workflow type (its export name in workflows/edge.ts): one long-running forwarder per edge. */
export const syncForwarderWorkflowType = 'syncForwarder';
export type SyncForwarderWorkflow = (input: SyncForwarderInput) => Promise<void>;

export interface PauseSyncRequest {
  reason?: string;
  by?: string;
}

/** Stop claiming; batches already in flight finish. */
export const pauseSyncSignal = defineSignal<[PauseSyncRequest?]>('pause');
export const resumeSyncSignal = defineSignal<[]>('resume');
/** "Retry now": end any backoff at once (the cloud is back, a key was installed, a 401 was fixed). */
export const connectivityRestoredSignal = defineSignal<[]>('connectivityRestored');
/** New settings (sent by the edge worker at every start); they apply to the next claims. */
export const configureSyncSignal = defineSignal<[SyncForwarderConfig]>('configure');
export const syncStatusQuery = defineQuery<SyncStatus>('syncStatus');

export function resolveSyncConfig(config: SyncForwarderConfig): ResolvedSyncForwarderConfig {
  const c = { ...syncForwarderDefaults, ...stripUndefined(config) } as ResolvedSyncForwarderConfig;
  c.batchSize = clamp(Math.floor(c.batchSize), 1, 1000);
  c.maxInFlight = clamp(Math.floor(c.maxInFlight), 1, 64);
  c.leaseSeconds = Math.max(5, c.leaseSeconds);
  c.liveWindowSeconds = Math.max(1, c.liveWindowSeconds);
  c.claimWaitSeconds = clamp(c.claimWaitSeconds, 0, maxClaimWaitSeconds);
  // Without a long poll in the claim, an idle forwarder must still not spin.
  c.idlePollSeconds = Math.max(c.claimWaitSeconds > 0 ? 0 : 1, c.idlePollSeconds);
  c.maxBatchesPerRun = Math.max(1, Math.floor(c.maxBatchesPerRun));
  c.maxRoundsPerRun = Math.max(1, Math.floor(c.maxRoundsPerRun));
  c.drainSeconds = Math.max(0, c.drainSeconds);
  c.configurationRecheckSeconds = Math.max(1, c.configurationRecheckSeconds);
  return c;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// --- Outbox retention (workflows/sync/retention.ts, scheduled by temporal/schedules.ts) ---

export interface PruneSyncOutboxInput {
  olderThanHours: number;
  /** Rows per delete (one short transaction). */
  chunk?: number;
  /** Deletes per run at most: bounds the history of one run. */
  maxChunks?: number;
}

export interface PruneSyncOutboxResult {
  deleted: number;
  chunks: number;
  stoppedEarly: boolean;
}

/** The workflow type (its export name in workflows/edge.ts) the retention schedule starts. */
export const pruneSyncOutboxWorkflowType = 'pruneSyncOutbox';
export type PruneSyncOutboxWorkflow = (input: PruneSyncOutboxInput) => Promise<PruneSyncOutboxResult>;
