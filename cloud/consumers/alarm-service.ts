/**
 * cloud-alarm-service (docs/cloud-alarms.md): the farm servers' alarm events into the cloud's
 * alarm tables (cloud/alarms/alarm-store.ts), and for each escalation step the notifications of
 * its cloud channels to its recipients (cloud/alarms/step-notifications.ts).
 *
 * The farm server is the source of truth; this only follows it. Events are written one at a time
 * in alarm order, each an upsert that converges whatever order they come in; the consumer's
 * (consumer, tenant, event) dedupe makes a redelivery a no-op, and the notifications' idempotency
 * keys make a retried step send nothing twice (they are created in their own transactions, on the
 * tenant pool, before this batch commits).
 *
 * The notifications need the tenant pool and the delivery queue: CloudConsumers passes them
 * (alarmNotifications). Without them an escalation fails (and is retried, then dead-lettered)
 * rather than be recorded as told to nobody.
 */
import type { NotificationDeps } from '../../notifications/send';
import { edgeOfEvent } from '../alarms/alarm-edges';
import { recordAcknowledged, recordCleared, recordEscalated, recordRaised, type AlarmEventMeta } from '../alarms/alarm-store';
import { deliverStep } from '../alarms/step-notifications';
import type { PoolClient } from 'pg';
import type { ConsumerService } from './event-consumer';

export const alarmServiceName = 'cloud-alarm-service';

/** Per alarm in id order (concurrent batches lock rows alike), then in event time. */
function inOrder<E extends { ts: string; event_id: string; payload: { alarm_id: string } }>(events: readonly E[]): E[] {
  return [...events].sort(
    (a, b) => a.payload.alarm_id.localeCompare(b.payload.alarm_id) || Date.parse(a.ts) - Date.parse(b.ts) || a.event_id.localeCompare(b.event_id),
  );
}

async function metaOf(client: PoolClient, e: { tenant_id: string; event_id: string }): Promise<AlarmEventMeta> {
  return { tenantId: e.tenant_id, eventId: e.event_id, edgeId: await edgeOfEvent(client, e.tenant_id, e.event_id) };
}

export function createAlarmService(notifications?: NotificationDeps): ConsumerService {
  return {
    name: alarmServiceName,
    writers: {
      async 'alarm.raised'(client, events) {
        for (const e of inOrder(events)) await recordRaised(client, await metaOf(client, e), e.payload);
      },
      async 'alarm.escalated'(client, events, { log }) {
        if (!notifications) throw new Error('cloud-alarm-service was started without its notification sender (CloudConsumers alarmNotifications)');
        for (const e of inOrder(events)) {
          const delivery = await deliverStep(client, notifications, e);
          if (delivery.unresolved.length > 0 || delivery.failed.length > 0) {
            log.warn(
              { tenantId: e.tenant_id, alarmId: e.payload.alarm_id, step: e.payload.step, unresolved: delivery.unresolved, failed: delivery.failed },
              'alarm step: some recipients could not be told',
            );
          }
          await recordEscalated(client, await metaOf(client, e), e.payload, delivery);
        }
      },
      async 'alarm.acknowledged'(client, events) {
        for (const e of inOrder(events)) await recordAcknowledged(client, await metaOf(client, e), e.payload);
      },
      async 'alarm.cleared'(client, events) {
        for (const e of inOrder(events)) await recordCleared(client, await metaOf(client, e), e.payload);
      },
    },
  };
}

/** The service as consumerServiceList lists it; CloudConsumers swaps in one with its notification sender. */
export const alarmService = createAlarmService();
