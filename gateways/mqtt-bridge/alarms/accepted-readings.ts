/** The bridge's committed telemetry rows in the shape the alarm evaluator judges. */
import type { AcceptedReading } from '../../../alarms/evaluator';
import type { TelemetryRow } from '../../../ingest/ingest-batch';

export function acceptedReadings(rows: readonly TelemetryRow[]): AcceptedReading[] {
  return rows.map(({ event, farmId, barnId }) => ({
    tenantId: event.tenant_id.toLowerCase(),
    farmId,
    barnId,
    deviceId: event.device_id,
    metric: event.payload.metric,
    // Already in the metric's stored unit (the bridge converted it before the batch).
    value: event.payload.value,
    unit: event.payload.unit,
    ts: event.ts,
  }));
}
