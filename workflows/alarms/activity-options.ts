/**
 * Activity presets of the alarm workflow (workflows/alarms/alarm.ts). Regular activities: an alarm
 * lives for minutes to days, mostly asleep on a timer, so the few activities of its life cost
 * nothing that matters, and each shows in the Temporal UI with its attempts.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { dataRefusedType } from '../../domain/failure-types';

/**
 * Record a transition of the alarm (raised, acknowledged, cleared, a note) in the edge tables and
 * the outbox, one transaction.
 *
 * - startToCloseTimeout 30 s: milliseconds of work; the activity sets a 20 s statement timeout.
 * - No attempt limit, the spec's backoff (§7.4: 1 s doubling, capped at 300 s): this is the farm's
 *   record of an alarm and the event that tells the cloud; a Postgres outage is ridden out, and the
 *   activity is idempotent (each history line once, its event only with it).
 * - DataRefused: Postgres refuses the data itself, so no attempt will do better.
 */
export const alarmRecord = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '300 seconds',
    nonRetryableErrorTypes: [dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * Deliver a ladder step: local channels when needed (each with its own few-second timeout, failures
 * recorded, never thrown), then the step's record and alarm.escalated. 60 s covers both local
 * channels timing out; retries as alarmRecord (only the database can fail it). A step recorded
 * before is not delivered again.
 */
export const alarmStep = {
  ...alarmRecord,
  startToCloseTimeout: '60 seconds',
} as const satisfies ActivityOptions;
