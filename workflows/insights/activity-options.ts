/**
 * Named activity option presets of the insight workflows (see activity-options.ts for the shared
 * ones). Each step of spec §5 talks to something different and fails differently, so each has its
 * own timeout and retry policy. The dashboard request waits for the whole run (the gateway gives
 * up after INSIGHT_RESPONSE_TIMEOUT_MS, default 30 s, with a 504 while the run carries on), so the
 * presets on the response path retry quickly and few times.
 *
 * DataRefused (activities/failures.ts: Postgres refuses the data, or a result too large for
 * Temporal) is final in every preset that talks to something: retrying gives the same answer.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { dataRefusedType } from '../../domain/failure-types';

/**
 * Aggregation: a few read-only queries on the cloud Postgres (rollups, daily aggregates), well
 * under a second. 30 s start-to-close (each statement has a 20 s statement_timeout, so an attempt
 * fails on its own first); retries after 1 s and 2 s ride out a dropped connection or a Postgres
 * restart. FarmNotFound (the farm or barn is not the tenant's) cannot be fixed by retrying.
 */
export const insightAggregation = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '4 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['FarmNotFound', 'InvalidFeatureSummary', dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * ML prediction (cloud-ml-model-service): optional, so it gets less patience than the steps the
 * insight cannot do without — 10 s per attempt, 2 attempts, then the insight is written without
 * predictions. PredictionRejected (unknown species, a 4xx) is not retried.
 */
export const mlPrediction = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['PredictionRejected', 'InvalidFeatureSummary', dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * LLM analysis (cloud-llm-insights-service). The LLM call has its own deadline (LLM_TIMEOUT_MS,
 * default 15 s) and the activity answers with the template writer when the model is late or
 * wrong, so this timeout is a backstop for the activity itself (worker lost, service down): 25 s,
 * 2 attempts, then the workflow falls back to the template writer (templateFallback below).
 */
export const llmAnalysis = {
  startToCloseTimeout: '25 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['InvalidFeatureSummary', dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * The template writer as the workflow's last resort: pure code, no I/O, so it runs as a local
 * activity (no task queue round trip) with a short timeout.
 */
export const templateFallback = {
  startToCloseTimeout: '5 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['InvalidFeatureSummary'],
  },
} as const satisfies LocalActivityOptions;

/**
 * Storing the insight: one short transaction; idempotent on (tenant, request id), so a retry
 * after an ambiguous failure (committed, then the connection dropped) returns the stored row.
 * Retried longer than the others — an insight that was generated should not be lost to a brief
 * Postgres outage: 1, 2, 4, 8 s (5 attempts).
 */
export const insightStore = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '8 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [dataRefusedType],
  },
} as const satisfies ActivityOptions;

/**
 * The best-effort notification, in its own (abandoned child) workflow, off the response path:
 * 15 s per attempt, retried with backoff up to a minute for about ten minutes in all, then given
 * up. NotificationRejected (unknown recipient, invalid input) is permanent.
 */
export const notificationDelivery = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 15,
    nonRetryableErrorTypes: ['NotificationRejected', dataRefusedType],
  },
} as const satisfies ActivityOptions;
