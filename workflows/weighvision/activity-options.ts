/**
 * Activity presets of the WeighVision session workflow (workflows/weighvision/session.ts).
 *
 * Both activities run as local activities, in the worker that holds the session's workflow:
 * each takes milliseconds (a 2-3 ms model, one S3 GET, one or two statements on the farm's own
 * Postgres), and as regular activities each would cost the farm's Temporal server a schedule, a
 * dispatch, a start, a completion and one more workflow task — on a 2-core farm server most of the
 * session's cost and of its finalize → row latency (docs/benchmarks.md). Their results and
 * failures are recorded in the history as markers (the UI shows them as local activities), and
 * their retries follow the same policies. A farm that moves inference to a separate GPU worker
 * would make inferImage a regular activity again, behind patched().
 */
import type { LocalActivityOptions } from '@temporalio/workflow';

/**
 * Fetch, decode and run the model on one stored image (activities/weighvision/session.ts).
 *
 * - startToCloseTimeout 60 s: an inference takes milliseconds; a minute covers a cold model load
 *   and a slow object store.
 * - The spec's backoff (§7.4: 1 s doubling) for 5 attempts, about 15 s in all: a restarting object
 *   store or a worker that lost its model file gets a few chances; then the image counts as failed
 *   and the session concludes from what it has (the scale reading, the other images).
 * - An image that cannot be decoded, or that is not in the store, will not get better by retrying.
 */
export const visionInference = {
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['ImageUndecodable', 'ImageMissing'],
  },
} as const satisfies LocalActivityOptions;

/**
 * Write the session row, its readings and its device events to the outbox (one transaction).
 *
 * No attempt limit: this is the session's data, and giving up would lose it. The backoff is the
 * spec's (§7.4: 1 s doubling, capped at 300 s), so a Postgres outage of hours is ridden out and
 * every attempt shows in the Temporal UI. The activity is idempotent (weighvision_weights keys,
 * the session row's event columns), so a retry after a lost completion appends nothing twice.
 */
export const sessionRecord = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '300 seconds',
  },
} as const satisfies LocalActivityOptions;
