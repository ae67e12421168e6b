/** Prometheus metrics of the notification service (API side and delivery worker). */
import { Counter, Histogram } from 'prom-client';

export const notificationMetrics = {
  created: new Counter({
    name: 'farmiq_notifications_created_total',
    help: 'Notifications requested, by channel and outcome (created or duplicate of an idempotency key)',
    labelNames: ['channel', 'outcome'] as const,
  }),
  attempts: new Counter({
    name: 'farmiq_notification_delivery_attempts_total',
    help: 'Delivery attempts by channel and outcome (sent, retry, failed, dlq)',
    labelNames: ['channel', 'outcome'] as const,
  }),
  skipped: new Counter({
    name: 'farmiq_notification_delivery_skipped_total',
    help: 'Delivery messages ignored because the attempt was already made or the notification is done (redeliveries, duplicates)',
  }),
  dispatched: new Counter({
    name: 'farmiq_notification_dispatched_total',
    help: 'Delivery attempts published to RabbitMQ by the dispatcher (retries and re-publishes)',
  }),
  sendSeconds: new Histogram({
    name: 'farmiq_notification_channel_send_seconds',
    help: 'Time one channel call took (SMTP send, webhook POST)',
    labelNames: ['channel'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  }),
};
