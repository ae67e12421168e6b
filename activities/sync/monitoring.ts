/**
 * The monitoring events a delivered batch appends to the outbox (sync.batch.sent, sync.batch.acked):
 * they travel to the cloud like any other event and tell it how this edge's sync is going.
 */
import { farmEventSchema, type FarmEvent } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import * as outbox from '../../sync/outbox';

/** device_id of the monitoring events: the edge id, made a valid topic segment. */
function edgeDeviceId(edgeId: string): string {
  return edgeId.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64) || 'edge';
}

function monitoringEvents(
  edgeId: string,
  batchId: string,
  tenantId: string,
  attempt: number,
  delivered: number,
  counts: { accepted: number; duplicate: number; rejected: number },
): FarmEvent[] {
  const ts = new Date().toISOString();
  const base = { schema_version: '1.0', trace_id: batchId.slice(0, 128), tenant_id: tenantId, device_id: edgeDeviceId(edgeId), ts };
  const events: FarmEvent[] = [
    {
      ...base,
      event_id: uuidV5(`sync.batch.sent|${edgeId}|${batchId}|${attempt}`),
      event_type: 'sync.batch.sent',
      payload: { edge_id: edgeId, batch_id: batchId, event_count: delivered, attempt },
    },
    {
      ...base,
      event_id: uuidV5(`sync.batch.acked|${edgeId}|${batchId}`),
      event_type: 'sync.batch.acked',
      payload: { edge_id: edgeId, batch_id: batchId, accepted: counts.accepted, duplicate: counts.duplicate, rejected: counts.rejected },
    },
  ];
  return events.filter((e) => farmEventSchema.safeParse(e).success);
}

/** A batch's monitoring events as outbox rows, at monitoring priority. */
export function monitoringOutboxEvents(
  edgeId: string,
  batchId: string,
  tenantId: string,
  attempt: number,
  delivered: number,
  counts: { accepted: number; duplicate: number; rejected: number },
): outbox.NewOutboxEvent[] {
  return monitoringEvents(edgeId, batchId, tenantId, attempt, delivered, counts).map((e) => outbox.outboxEvent(e, outbox.monitoringPriority));
}
