/**
 * The cloud HTTP gateway process (CLOUD_HTTP_HOST:CLOUD_HTTP_PORT): /health, /metrics, edge batch
 * ingestion and the dashboard API (cloud-app.ts). Waits for both database roles at start-up; keeps
 * serving through RabbitMQ outages (email/sms/push deliveries are then published by the delivery
 * worker's dispatcher). On SIGTERM: /health says `stopping`, the server stops accepting
 * connections, in-flight requests finish within SHUTDOWN_GRACE_SECONDS, then the publisher, the
 * AMQP connection and the pools close.
 *
 *   npm run cloud:http
 */
import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { settings } from '../../config/settings';
import { createTenantPool } from '../../auth/tenant-db';
import { createPool, safeDatabaseName } from '../../db/pool';
import { AmqpConnection } from '../../messaging/connection';
import { NotificationQueue } from '../../notifications/queue';
import { notificationTopology } from '../../notifications/topology';
import { Lifecycle } from '../../platform/lifecycle';
import { logger } from '../../platform/logger';
import { waitFor } from '../../platform/wait-for';
import { startOutboxRelay } from '../../cloud/ingestion/relay-process';
import { cloudHttpConfig, createCloudApp } from './cloud-app';
import { createEdgeBatchRouter } from './cloud-ingestion/edge-batch-router';
import type { Phase } from './health';

async function main(): Promise<void> {
  const s = settings();
  const log = logger('cloud-http');
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();
  let phase: Phase = 'starting';

  const pool = createPool(s.CLOUD_DATABASE_URL, { applicationName: 'farmiq-cloud-http', log });
  lifecycle.onStop('database pool', () => pool.end());
  const tenantPool = createTenantPool({ url: s.CLOUD_APP_DATABASE_URL, log });
  lifecycle.onStop('tenant database pool', () => tenantPool.end());
  for (const [url, p] of [
    [s.CLOUD_DATABASE_URL, pool],
    [s.CLOUD_APP_DATABASE_URL, tenantPool],
  ] as const) {
    await waitFor(`database ${safeDatabaseName(url)}`, () => p.query('SELECT 1'), {
      log,
      timeoutSeconds: s.DEPENDENCY_WAIT_SECONDS,
      signal: lifecycle.abort.signal,
    });
  }

  const connection = new AmqpConnection({ url: s.AMQP_URL, name: 'farmiq-cloud-http', log });
  connection.start();
  lifecycle.onStop('rabbitmq connection', () => connection.stop());
  const notificationQueue = new NotificationQueue({
    connection,
    names: notificationTopology(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    log,
  });
  lifecycle.onStop('notification publisher', () => notificationQueue.close());

  // Edge batch ingestion: dedupe + outbox commit in the request, the relay publishes to RabbitMQ.
  const relay = startOutboxRelay({ log: logger('outbox-relay'), settings: s });
  lifecycle.onStop('outbox relay', () => relay.stop());

  // Lazy: the gateway serves ingestion and the dashboard while Temporal is still starting.
  const temporalConnection = Connection.lazy({ address: s.TEMPORAL_ADDRESS });
  lifecycle.onStop('temporal client', () => temporalConnection.close());
  const temporalClient = new Client({ connection: temporalConnection, namespace: s.TEMPORAL_CLOUD_NAMESPACE });

  const app = createCloudApp({
    temporalClient,
    pool,
    tenantPool,
    notificationPublisher: notificationQueue,
    edgeBatchRouter: createEdgeBatchRouter({ pool, relay: relay.relay, log }),
    log,
    phase: () => phase,
    config: cloudHttpConfig(s),
  });

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(s.CLOUD_HTTP_PORT, s.CLOUD_HTTP_HOST, () => resolve());
  });
  lifecycle.onStop('http server', async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  });
  lifecycle.onStop('health phase', async () => {
    phase = 'stopping';
  });
  phase = 'ready';
  log.info({ host: s.CLOUD_HTTP_HOST, port: s.CLOUD_HTTP_PORT }, 'cloud-http listening');
}

main().catch((err: Error) => {
  if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
  logger('cloud-http').fatal({ err: err.message }, 'cloud-http could not start');
  process.exit(1);
});
