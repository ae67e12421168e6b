/**
 * Named activity option presets of the sync workflows (see activity-options.ts for the shared ones).
 *
 * Every preset that touches the outbox lists DataRefused (activities/failures.ts) as final: the
 * activities quarantine a row the edge database refuses and carry on, and what refusal is left
 * over fails the same way on every attempt.
 */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { dataRefusedType } from '../../domain/failure-types';
import { syncRetryPolicy } from '../../domain/sync/retry-policy';
import { syncFailureTypes } from '../../sync/sync-failures';
import { maxClaimWaitSeconds } from '../../sync/sync-contract';

/**
 * Short statements against the edge Postgres (give back, dead-letter, configuration check).
 * Retried for about four minutes to ride out a Postgres restart; past that the rows' lease runs
 * out and a later claim picks them up again, so giving up loses nothing.
 */
export const syncOutbox = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [syncFailureTypes.invalidSyncRequest, dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * The claim: a long poll of up to maxClaimWaitSeconds that heartbeats, so pausing cancels it at
 * once; WAIT_CANCELLATION_COMPLETED so that rows claimed just as the pause came are seen (and given
 * back) rather than left to their lease.
 */
export const syncClaim = {
  startToCloseTimeout: `${maxClaimWaitSeconds + 30} seconds`,
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [syncFailureTypes.invalidSyncRequest, dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * Sending one batch: spec §7.4 through Temporal's own retry, so every attempt shows in the UI. The
 * activity sets each delay itself (ApplicationFailure.nextRetryDelay = retryDelayMs(attempt): 1, 2,
 * 4 … 256 s plus up to 1 s of jitter, capped at 300 s); the policy below is the fallback for
 * failures that carry no delay (a timeout, a crash), with the same cap. The workflow lowers
 * maximumAttempts for a batch whose rows already spent attempts in earlier batches.
 *
 * startToCloseTimeout: the request (SYNC_REQUEST_TIMEOUT_SECONDS, 30 s by default) plus the
 * transaction that settles the events. The activity heartbeats while it works, so a batch whose
 * worker was killed mid-send is retried after heartbeatTimeout instead of the whole 2 minutes
 * (test/integration/sync-crash.test.ts).
 */
export const syncSend = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: `${syncRetryPolicy.baseSeconds} second`,
    backoffCoefficient: 2,
    maximumInterval: `${syncRetryPolicy.maxSeconds} seconds`,
    maximumAttempts: syncRetryPolicy.maxAttempts,
    nonRetryableErrorTypes: [
      syncFailureTypes.cloudUnavailable,
      syncFailureTypes.cloudMisconfigured,
      syncFailureTypes.syncNotConfigured,
      syncFailureTypes.invalidSyncRequest,
      dataRefusedType,
    ],
  },
} as const satisfies ActivityOptions;

/**
 * waitForCloud: probes GET /health for up to the offline backoff (≤ 300 s), heartbeating. Not
 * retried: the workflow's own timer ends the wait anyway, and cancelling it must not wait.
 */
export const cloudProbe = {
  startToCloseTimeout: `${syncRetryPolicy.maxSeconds + 30} seconds`,
  heartbeatTimeout: '15 seconds',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { maximumAttempts: 1 },
} as const satisfies ActivityOptions;

/** One chunk of retention deletes (10,000 rows by default). */
export const syncRetention = {
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [syncFailureTypes.invalidSyncRequest, dataRefusedType],
  },
} as const satisfies ActivityOptions;
