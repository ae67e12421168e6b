/**
 * The notification delivery worker process (cloud-notification-service's delivery job): consumes
 * the delivery queue, sends email over SMTP and sms/push over webhooks, retries per spec §7.4 and
 * publishes due retries (dispatcher.ts). /health and /metrics on NOTIFICATIONS_HEALTH_PORT. Waits
 * for Postgres at start-up; rides out RabbitMQ restarts. On SIGTERM: /health says `stopping`, the
 * dispatcher and the subscription stop, attempts in progress finish and are acknowledged, then the
 * SMTP pool, the AMQP connection and the database pool close.
 *
 *   npx tsx notifications/main.ts
 */
import { settings } from '../config/settings';
import { openProcessDatabase } from '../platform/process-database';
import { AmqpConnection } from '../messaging/connection';
import { HealthServer } from '../platform/health';
import { Lifecycle } from '../platform/lifecycle';
import { logger } from '../platform/logger';
import { channelsFromSettings } from './channels';
import { DeliveryWorker } from './delivery-worker';
import { deliveryRetryPolicy } from './retry';
import { notificationTopology } from './topology';

async function main(): Promise<void> {
  const s = settings();
  const log = logger('notification-delivery');
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();

  const health = new HealthServer('notification-delivery', s.NOTIFICATIONS_HEALTH_PORT);
  await health.start();
  lifecycle.onStop('health server', () => health.stop());

  // One connection per delivery in flight (the row stays locked while it is sent) and one for the dispatcher.
  const pool = await openProcessDatabase(s.CLOUD_DATABASE_URL, {
    applicationName: 'farmiq-notification-delivery',
    max: s.NOTIFICATION_CONCURRENCY + 2,
    log,
    lifecycle,
    health,
    waitSeconds: s.DEPENDENCY_WAIT_SECONDS,
  });

  const connection = new AmqpConnection({ url: s.AMQP_URL, name: 'farmiq-notification-delivery', log });
  lifecycle.onStop('rabbitmq connection', () => connection.stop());
  const worker = new DeliveryWorker({
    pool,
    connection,
    names: notificationTopology(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    channels: channelsFromSettings(s),
    log,
    policy: { ...deliveryRetryPolicy, maxAttempts: s.NOTIFICATION_MAX_ATTEMPTS },
    concurrency: s.NOTIFICATION_CONCURRENCY,
    sendTimeoutMs: s.NOTIFICATION_SEND_TIMEOUT_SECONDS * 1000,
    dispatchIntervalMs: s.NOTIFICATION_DISPATCH_INTERVAL_MS,
    redispatchAfterMs: s.NOTIFICATION_REDISPATCH_SECONDS * 1000,
  });
  lifecycle.onStop('delivery worker', () => worker.stop());
  health.addCheck('rabbitmq', () => (connection.isConnected ? { ok: true } : { ok: false, detail: 'not connected; reconnecting' }));
  health.addCheck('consumer', () => (worker.isConsuming ? { ok: true } : { ok: false, detail: 'not consuming the delivery queue' }));
  health.addCheck('dispatcher', () => (worker.dispatcher.healthy ? { ok: true } : { ok: false, detail: 'the last dispatch round failed' }));
  worker.start();
  lifecycle.onStop('health phase', async () => health.setPhase('stopping'));
  health.setPhase('ready');
  log.info(
    { health: health.address, smtp: new URL(s.SMTP_URL).host, sms: Boolean(s.SMS_WEBHOOK_URL), push: Boolean(s.PUSH_WEBHOOK_URL) },
    'notification delivery worker started',
  );
}

main().catch((err: Error) => {
  if (err.message.startsWith('stopped while waiting')) return;
  logger('notification-delivery').fatal({ err: err.message }, 'notification delivery worker could not start');
  process.exit(1);
});
