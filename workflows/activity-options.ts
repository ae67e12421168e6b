/**
 * Named activity option presets, shared by the workflows. Workflows pick one by what the activity
 * talks to and override only what differs.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { dataRefusedType } from '../domain/failure-types';

/**
 * Short transactions against the edge's own Postgres (claim, publish, mark).
 *
 * - startToCloseTimeout 30 s: such a transaction takes milliseconds; the activity also sets a 20 s
 *   statement_timeout, so an attempt fails on its own before Temporal gives up on it.
 * - Retries 1 s, 2 s, 4 s, 8 s (5 attempts, about 15 s): enough to ride out a Postgres restart or a
 *   dropped connection, and short enough that a run ends well inside the one-minute schedule
 *   interval. A run that keeps failing should end: its work is durable in the database (nothing is
 *   marked published unless the outbox rows committed with it), the next scheduled run starts
 *   where it stopped, and with overlap policy SKIP a run that retried for ever would block every
 *   later one.
 * - InvalidRollupRequest is a programming error (bad arguments); retrying cannot fix it.
 * - DataRefused: Postgres refuses the data itself (activities/failures.ts); the same statement
 *   fails the same way on every attempt. (The activities narrow such a refusal to the rows at
 *   fault and carry on where they can, so this is what is left over.)
 */
export const edgeDatabase = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['InvalidRollupRequest', dataRefusedType],
  },
} as const satisfies ActivityOptions;
