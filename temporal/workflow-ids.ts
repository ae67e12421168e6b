/**
 * Every workflow and schedule id in one place, derived from business keys so an operator can read
 * them in the Temporal UI (`telemetry-rollups/edge-farm-7`) and so two processes that mean the same
 * thing always name it the same way.
 */

/** The per-edge schedule that publishes closed telemetry rollup windows every minute. */
export function telemetryRollupsScheduleId(edgeId: string): string {
  return `telemetry-rollups/${edgeId}`;
}

/**
 * The workflow id prefix of the runs that schedule starts; the server appends the scheduled time
 * (`telemetry-rollups/edge-farm-7-2026-01-01T10:00:00Z`), so each run is unique and findable.
 */
export function telemetryRollupsWorkflowId(edgeId: string): string {
  return `telemetry-rollups/${edgeId}`;
}
