/**
 * The contract of telemetry rollup publication (spec §8.1 `telemetry.aggregated`), below everything
 * that uses it: the input and result of one run of workflows/ingest/rollups.ts, which a Temporal
 * Schedule (temporal/schedules.ts) starts by name every minute.
 *
 * Workflow-bundle safe: types and one name only.
 */

export interface PublishTelemetryRollupsInput {
  graceSeconds: number;
  /** Windows per activity call (one transaction). */
  batchSize?: number;
  /** Activity calls per run at most. */
  maxBatches?: number;
}

export interface PublishTelemetryRollupsResult {
  published: number;
  invalid: number;
  batches: number;
  /** The run stopped at maxBatches with windows still waiting; the next run continues. */
  stoppedEarly: boolean;
}

/** The workflow type (its export name in workflows/edge.ts) the rollup schedule starts. */
export const publishTelemetryRollupsWorkflowType = 'publishTelemetryRollups';
export type PublishTelemetryRollupsWorkflow = (input: PublishTelemetryRollupsInput) => Promise<PublishTelemetryRollupsResult>;
