/**
 * The RabbitMQ side of notification delivery:
 *
 *   farmiq.notifications (direct, durable)
 *     └─ notification.deliver ─▶ cloud-notification-service.delivery (quorum, x-delivery-limit,
 *                                 dead-lettering to farmiq.dead like every consumer queue)
 *
 * One message asks for one delivery attempt of one notification: { notification_id, tenant_id,
 * attempt }. Waiting between attempts happens in Postgres (notification_deliveries.next_attempt_at,
 * see dispatcher.ts), not in the broker, so the queue holds only work that is due.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { consumerQueueArguments, topologyNames } from '../messaging/topology';

export interface NotificationTopology {
  exchange: string;
  queue: string;
  routingKey: string;
  deadExchange: string;
  deadQueue: string;
}

export const notificationServiceName = 'cloud-notification-service';

/** Names with the same optional prefix as the rest of the topology (AMQP_TOPOLOGY_PREFIX). */
export function notificationTopology(prefix = ''): NotificationTopology {
  const shared = topologyNames(prefix);
  return {
    exchange: `${prefix}farmiq.notifications`,
    queue: `${prefix}${notificationServiceName}.delivery`,
    routingKey: 'notification.deliver',
    deadExchange: shared.deadExchange,
    deadQueue: shared.deadQueue,
  };
}

/** Idempotent; run on every (re)opened channel. Declares the shared dead-letter pair the same way messaging/topology.ts does. */
export async function assertNotificationTopology(channel: Channel, names: NotificationTopology, deliveryLimit: number): Promise<void> {
  await channel.assertExchange(names.deadExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(names.deadQueue, names.deadExchange, '');
  await channel.assertExchange(names.exchange, 'direct', { durable: true });
  // The same arguments as every consumer queue (quorum, delivery limit, at-least-once dead-lettering).
  const args = consumerQueueArguments({ ...topologyNames(), deadExchange: names.deadExchange }, { deliveryLimit });
  await channel.assertQueue(names.queue, { durable: true, arguments: args });
  await channel.bindQueue(names.queue, names.exchange, names.routingKey);
}

/** Removes the notification exchange and queue (tests). The shared dead-letter pair is left alone. */
export async function deleteNotificationTopology(channel: Channel, names: NotificationTopology): Promise<void> {
  await channel.deleteQueue(names.queue);
  await channel.deleteExchange(names.exchange);
}

export interface DeliveryRequest {
  notificationId: string;
  tenantId: string;
  /** The attempt this message asks for (1 = first); a message for any other attempt is stale. */
  attempt: number;
  traceId?: string | null;
}

const wire = z.object({
  notification_id: z.string().uuid(),
  tenant_id: z.string().uuid(),
  attempt: z.number().int().positive(),
});

export function encodeDeliveryRequest(r: DeliveryRequest): Buffer {
  return Buffer.from(JSON.stringify({ notification_id: r.notificationId, tenant_id: r.tenantId, attempt: r.attempt }));
}

/** The request a message carries, or undefined when it is not one. */
export function decodeDeliveryRequest(msg: ConsumeMessage): DeliveryRequest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(msg.content.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = wire.safeParse(json);
  if (!parsed.success) return undefined;
  const header: unknown = msg.properties.headers?.['x-request-id'];
  return {
    notificationId: parsed.data.notification_id,
    tenantId: parsed.data.tenant_id,
    attempt: parsed.data.attempt,
    traceId: typeof header === 'string' ? header : null,
  };
}
