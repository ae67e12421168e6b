/**
 * The cloud consumers process: every consumer service of spec §8 and the dead-letter recorder,
 * with /health and /metrics on CLOUD_CONSUMERS_HEALTH_PORT. Waits for Postgres at start-up; keeps
 * running through RabbitMQ restarts (reconnects and resubscribes). On SIGTERM: /health says
 * `stopping`, every subscription is cancelled, batches already received are committed and acked,
 * then the AMQP connection and the pool are closed.
 *
 *   npx tsx cloud/consumers/main.ts
 */
import { createTenantPool } from '../../auth/tenant-db';
import { settings } from '../../config/settings';
import { openProcessDatabase } from '../../platform/process-database';
import { AmqpConnection } from '../../messaging/connection';
import { topologyNames } from '../../messaging/topology';
import { NotificationQueue } from '../../notifications/queue';
import { notificationTopology } from '../../notifications/topology';
import { HealthServer } from '../../platform/health';
import { Lifecycle } from '../../platform/lifecycle';
import { logger } from '../../platform/logger';
import { CloudConsumers } from './cloud-consumers';

async function main(): Promise<void> {
  const s = settings();
  const log = logger('cloud-consumers');
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();

  const health = new HealthServer('cloud-consumers', s.CLOUD_CONSUMERS_HEALTH_PORT);
  await health.start();
  lifecycle.onStop('health server', () => health.stop());

  const pool = await openProcessDatabase(s.CLOUD_DATABASE_URL, {
    applicationName: 'farmiq-cloud-consumers',
    max: 12,
    log,
    lifecycle,
    health,
    waitSeconds: s.DEPENDENCY_WAIT_SECONDS,
  });

  const connection = new AmqpConnection({ url: s.AMQP_URL, name: 'farmiq-cloud-consumers', log });
  lifecycle.onStop('rabbitmq connection', () => connection.stop());
  // cloud-alarm-service sends each alarm step's notifications (docs/cloud-alarms.md): through the
  // tenant pool like every notification, and onto the delivery queue. Stopped after the consumers.
  const tenantPool = createTenantPool({ url: s.CLOUD_APP_DATABASE_URL, log });
  lifecycle.onStop('tenant database pool', () => tenantPool.end());
  const notificationQueue = new NotificationQueue({
    connection,
    names: notificationTopology(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    log,
  });
  lifecycle.onStop('notification publisher', () => notificationQueue.close());
  const consumers = new CloudConsumers({
    pool,
    connection,
    names: topologyNames(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    log,
    prefetch: s.CLOUD_CONSUMER_PREFETCH,
    batchMax: s.CLOUD_CONSUMER_BATCH_MAX,
    alarmNotifications: { pool: tenantPool, publisher: notificationQueue, log },
  });
  lifecycle.onStop('consumers', () => consumers.stop());
  health.addCheck('rabbitmq', () => (connection.isConnected ? { ok: true } : { ok: false, detail: 'not connected; reconnecting' }));
  health.addCheck('consumers', () => {
    const status = consumers.status();
    const idle = Object.entries(status)
      .filter(([, on]) => !on)
      .map(([name]) => name);
    return idle.length === 0 ? { ok: true } : { ok: false, detail: `not consuming: ${idle.join(', ')}` };
  });
  consumers.start();
  lifecycle.onStop('health phase', async () => health.setPhase('stopping'));
  health.setPhase('ready');
  log.info({ health: health.address, consumers: Object.keys(consumers.status()) }, 'cloud consumers started');
}

main().catch((err: Error) => {
  if (err.message.startsWith('stopped while waiting')) return;
  logger('cloud-consumers').fatal({ err: err.message }, 'cloud consumers could not start');
  process.exit(1);
});
