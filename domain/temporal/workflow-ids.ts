/**
 * Every workflow and schedule id in one place, derived from business keys so an operator can read
 * them in the Temporal UI (`telemetry-rollups/edge-farm-7`) and so two processes that mean the same
 * thing always name it the same way.
 */
import { isIdentifier } from '../contracts/identifiers';

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

/** The one long-running sync forwarder of an edge (spec §7), started by the edge worker. */
export function syncForwarderWorkflowId(edgeId: string): string {
  return `sync-forwarder/${edgeId}`;
}

/**
 * One outbox batch: sent as batch_id and x-request-id, and written to claimed_by as the batch's
 * claim on its rows. Unique per run and sequence number, readable in logs, and within the
 * request-id alphabet (A-Z a-z 0-9 . _ : -).
 */
export function syncBatchId(edgeId: string, lane: string, runId: string, seq: number): string {
  const edge = edgeId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40);
  return `${edge}:${lane}:${runId}:${seq}`;
}

/** The per-edge schedule that deletes old acked outbox rows every ten minutes. */
export function syncOutboxRetentionScheduleId(edgeId: string): string {
  return `sync-outbox-retention/${edgeId}`;
}

/** The workflow id prefix of that schedule's runs (the server appends the scheduled time). */
export function syncOutboxRetentionWorkflowId(edgeId: string): string {
  return `sync-outbox-retention/${edgeId}`;
}

/**
 * One insight generation (spec §5) per tenant and request: the caller's x-request-id (or the one
 * the gateway minted) is the business key, so a repeated request finds the same workflow instead
 * of starting a second one. The reuse/conflict policy is in gateways/http/insights/insights-router.ts.
 */
export function insightWorkflowId(tenantId: string, requestId: string): string {
  return `insight/${tenantId}/${requestId}`;
}

/** The best-effort notification an insight run starts as an abandoned child (one per insight run). */
export function insightNotificationWorkflowId(tenantId: string, requestId: string): string {
  return `insight-notification/${tenantId}/${requestId}`;
}

/**
 * One WeighVision session (spec §3) per tenant and session: the MQTT bridge signals-with-start it
 * and the media store signals it, both through this id, so whichever event comes first starts it.
 */
export function weighVisionSessionWorkflowId(tenantId: string, sessionId: string): string {
  // Callers validate first (the topic parser, the media store); this is the last line against `..`.
  if (!isIdentifier(sessionId) || !isIdentifier(tenantId)) throw new TypeError(`not a session address: ${JSON.stringify([tenantId, sessionId])}`);
  return `weighvision-session/${tenantId.toLowerCase()}/${sessionId}`;
}

/**
 * The one open alarm of a rule at a place (alarms/alarm-contract.ts): `alarm/<tenant>/farm-7/barn-1/temp-high`,
 * or `alarm/<tenant>/farm-7/_farm/sync-stalled` for a farm-wide rule. A new alarm after the last one
 * cleared is a new run under the same id.
 */
export function alarmWorkflowId(tenantId: string, farmId: string, barnId: string | undefined, ruleId: string): string {
  for (const part of [tenantId, farmId, ruleId, ...(barnId === undefined ? [] : [barnId])]) {
    if (!isIdentifier(part)) throw new TypeError(`not an alarm address: ${JSON.stringify([tenantId, farmId, barnId, ruleId])}`);
  }
  return `alarm/${tenantId.toLowerCase()}/${farmId}/${barnId ?? '_farm'}/${ruleId}`;
}

/** The one long-running downlink of an edge: pulls the cloud's commands, applies and acknowledges them. */
export function downlinkWorkflowId(edgeId: string): string {
  return `downlink/${edgeId}`;
}

/** The per-edge schedule that checks the time-based alarm rules (silent sensors, stalled sync) every minute. */
export function alarmSweepScheduleId(edgeId: string): string {
  return `alarm-sweep/${edgeId}`;
}
