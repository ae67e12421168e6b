/**
 * What the edge and cloud worker processes share beyond platform/: how the shutdown grace period
 * is split, and the /health check of a worker's state.
 */
import type { Worker } from '@temporalio/worker';
import type { CheckResult } from '../platform/health';

/**
 * Of the process's SHUTDOWN_GRACE_SECONDS, the worker lets in-flight activities run this long
 * before cancelling them, leaving a few seconds to close the connection and the database pool.
 */
export function workerShutdownGraceSeconds(processGraceSeconds: number): number {
  return Math.max(1, processGraceSeconds - 5);
}

/**
 * After this, an activity that ignores cancellation is abandoned (Temporal retries it elsewhere
 * once its timeout passes) so the process still exits inside its grace period.
 */
export function workerShutdownForceSeconds(processGraceSeconds: number): number {
  return Math.max(workerShutdownGraceSeconds(processGraceSeconds) + 1, processGraceSeconds - 2);
}

export function workerStateCheck(worker: Worker): () => CheckResult {
  return () => {
    const state = worker.getState();
    return { ok: state === 'RUNNING', detail: state };
  };
}
