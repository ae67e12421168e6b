/**
 * The typed failures of edge→cloud sync, shared by the send activity (which throws them) and the
 * forwarder workflow (which branches on their type). Pure: safe inside the workflow sandbox.
 *
 * | type               | retried by Temporal | what the forwarder does                                        |
 * |--------------------|---------------------|----------------------------------------------------------------|
 * | CloudBatchFailed   | yes, spec §7.4      | after the last attempt: the batch goes to the DLQ              |
 * | CloudUnavailable   | no                  | gives the batch back (no attempt spent), backs off, probes     |
 * | CloudMisconfigured | no                  | gives the batch back, stops and says why (401, missing route)  |
 * | SyncNotConfigured  | no                  | gives the batch back, idles until the edge has a signing key   |
 *
 * DataRefused (activities/failures.ts: the edge database refuses the data itself) is not retried
 * either. The activities quarantine the rows it refuses (failed, storage_refused:<SQLSTATE>) and
 * carry on, so it is what is left over: a claim no row accepts (the lane looks again after its
 * pause), a batch the forwarder then gives back like any local failure.
 */
import { ApplicationFailure } from '@temporalio/common';
import { retryDelayMs } from '../domain/sync/retry-policy';

export const syncFailureTypes = {
  cloudBatchFailed: 'CloudBatchFailed',
  cloudUnavailable: 'CloudUnavailable',
  cloudMisconfigured: 'CloudMisconfigured',
  syncNotConfigured: 'SyncNotConfigured',
  invalidSyncRequest: 'InvalidSyncRequest',
} as const;

export type SyncFailureType = (typeof syncFailureTypes)[keyof typeof syncFailureTypes];

export interface CloudBatchFailedDetails {
  attempt: number;
  nextRetryDelayMs: number;
  /** HTTP status when the cloud answered. */
  status?: number;
}

/**
 * The cloud failed on this batch (a 5xx that is not "unavailable", a broken connection after the
 * request went out, an answer that does not follow the contract). Temporal retries it after
 * retryDelayMs(attempt): ≈1 s after the first failure, then 2, 4 … 256 s, capped at 300 s.
 */
export function cloudBatchFailed(attempt: number, message: string, extra: { status?: number; delayMs?: number } = {}): ApplicationFailure {
  const delayMs = extra.delayMs ?? retryDelayMs(attempt);
  const details: CloudBatchFailedDetails = { attempt, nextRetryDelayMs: delayMs, ...(extra.status !== undefined ? { status: extra.status } : {}) };
  return ApplicationFailure.create({
    type: syncFailureTypes.cloudBatchFailed,
    message,
    nextRetryDelay: delayMs,
    details: [details],
  });
}

/** Nothing was delivered, or nothing answered: the cloud is not there. No attempt is spent. */
export function cloudUnavailable(message: string, status?: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: syncFailureTypes.cloudUnavailable,
    message,
    nonRetryable: true,
    details: status !== undefined ? [{ status }] : [],
  });
}

export interface CloudMisconfiguredDetails {
  status: number;
  code: string;
}

/** The cloud refuses this edge (401/403) or has no such endpoint (404/405): a person must act. */
export function cloudMisconfigured(status: number, code: string, message: string): ApplicationFailure {
  const details: CloudMisconfiguredDetails = { status, code };
  return ApplicationFailure.create({ type: syncFailureTypes.cloudMisconfigured, message, nonRetryable: true, details: [details] });
}

/** No signing key on this edge (EDGE_SIGNING_KEY_FILE): the edge runs on without the cloud. */
export function syncNotConfigured(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: syncFailureTypes.syncNotConfigured, message, nonRetryable: true });
}

export function invalidSyncRequest(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: syncFailureTypes.invalidSyncRequest, message, nonRetryable: true });
}
