/**
 * Activity presets of the WeighVision session workflow (workflows/weighvision-session.ts).
 */
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Fetch, decode and run the model on one stored image (activities/weighvision-session.ts).
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
} as const satisfies ActivityOptions;

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
} as const satisfies ActivityOptions;
