/**
 * Publishes delivery requests to the notification queue with publisher confirms (messaging/
 * publisher.ts): publish() resolves once RabbitMQ has the messages on disk, and rejects (broker
 * down, unroutable) so the caller can leave the row for the dispatcher to publish again.
 */
import type { AmqpConnection } from '../messaging/connection';
import { ConfirmPublisher } from '../messaging/publisher';
import type { Logger } from '../platform/logger';
import { assertNotificationTopology, encodeDeliveryRequest, type DeliveryRequest, type NotificationTopology } from './topology';

/** What the API and the dispatcher need from the queue (a test may pass its own). */
export interface DeliveryPublisher {
  publish(requests: readonly DeliveryRequest[]): Promise<void>;
}

export interface NotificationQueueOptions {
  connection: AmqpConnection;
  names: NotificationTopology;
  deliveryLimit: number;
  log: Logger;
}

export class NotificationQueue implements DeliveryPublisher {
  private readonly publisher: ConfirmPublisher;

  constructor(private readonly opts: NotificationQueueOptions) {
    this.publisher = new ConfirmPublisher({
      connection: opts.connection,
      exchange: opts.names.exchange,
      log: opts.log,
      appId: 'cloud-notification-service',
      confirmTimeoutMs: 10_000,
      prepare: (channel) => assertNotificationTopology(channel, opts.names, opts.deliveryLimit),
    });
  }

  async publish(requests: readonly DeliveryRequest[]): Promise<void> {
    if (requests.length === 0) return;
    const result = await this.publisher.publish(
      requests.map((r) => ({
        routingKey: this.opts.names.routingKey,
        body: encodeDeliveryRequest(r),
        messageId: `${r.notificationId}:${r.attempt}`,
        type: 'notification.deliver',
        headers: { 'x-request-id': r.traceId ?? undefined, tenant_id: r.tenantId },
      })),
    );
    if (result.unroutable.length > 0) {
      throw new Error(`${result.unroutable.length} delivery request(s) could not be routed to ${this.opts.names.queue}`);
    }
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
