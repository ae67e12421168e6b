/**
 * The cloud worker: namespace farmiq-cloud, CLOUD_TASK_QUEUE. Any number of these run behind the
 * cloud Temporal cluster.
 *
 *   npm run cloud:worker
 *
 * It runs the insight workflows of spec §5 (workflows/cloud.ts) and their activities: the tenant
 * pool (farmiq_app, row-level security) for aggregation and storage, the ML predictor and the
 * insight analyzer chosen by the settings (in process by default), and the notifications module
 * with its RabbitMQ publisher for the best-effort notification. RabbitMQ being down does not stop
 * the worker: a notification is then stored and left to the delivery worker's dispatcher.
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { connectTemporal, temporalHealthCheck } from '../../temporal/connection';
import { workflowCode } from '../../temporal/bundles';
import { WorkerProcess } from '../worker-process';
import { createTenantPool } from '../../auth/tenant-db';
import { createInsightActivities } from '../../activities/insights/generation';
import { createInsightNotificationActivities } from '../../activities/insights/notification';
import { insightServicesFromSettings } from '../../insights/services';
import { NotificationModuleNotifier } from '../../insights/notifier';
import { AmqpConnection } from '../../messaging/connection';
import { NotificationQueue } from '../../notifications/queue';
import { notificationTopology } from '../../notifications/topology';

async function main(): Promise<void> {
  const s = settings();
  const proc = await WorkerProcess.start(s, 'cloud-worker', s.CLOUD_WORKER_HEALTH_PORT);
  const { log, lifecycle, health, waitOpts } = proc;

  const connection = await connectTemporal({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_CLOUD_NAMESPACE }, waitOpts);
  lifecycle.onStop('temporal connection', () => connection.close());
  health.addCheck('temporal', temporalHealthCheck(connection));

  // Insight activities (spec §5). Created before the worker, closed after it (stop steps run in reverse).
  const tenantPool = createTenantPool({ url: s.CLOUD_APP_DATABASE_URL, log, applicationName: 'farmiq-cloud-worker' });
  lifecycle.onStop('tenant database pool', () => tenantPool.end());
  const amqp = new AmqpConnection({ url: s.AMQP_URL, name: 'farmiq-cloud-worker', log });
  amqp.start();
  lifecycle.onStop('rabbitmq connection', () => amqp.stop());
  const notificationQueue = new NotificationQueue({
    connection: amqp,
    names: notificationTopology(s.AMQP_TOPOLOGY_PREFIX),
    deliveryLimit: s.AMQP_DELIVERY_LIMIT,
    log,
  });
  lifecycle.onStop('notification publisher', () => notificationQueue.close());
  const insightServices = insightServicesFromSettings(s, log);
  const activities = {
    ...createInsightActivities({ pool: tenantPool, ...insightServices }),
    ...createInsightNotificationActivities({ notifier: new NotificationModuleNotifier({ pool: tenantPool, publisher: notificationQueue, log }) }),
  };

  const worker = await proc.createWorker({
    connection,
    namespace: s.TEMPORAL_CLOUD_NAMESPACE,
    taskQueue: s.CLOUD_TASK_QUEUE,
    ...workflowCode('cloud', log),
    activities,
  });

  const running = proc.run(worker);
  proc.ready();
  log.info(
    { namespace: s.TEMPORAL_CLOUD_NAMESPACE, taskQueue: s.CLOUD_TASK_QUEUE, llm: insightServices.llmModel ?? 'template', ml: s.ML_SERVICE_URL || 'in-process' },
    'cloud worker running',
  );

  proc.exitWhenWorkerFails(running, 'cloud worker failed');
}

main().catch((err: Error) => {
  if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
  logger('cloud-worker').fatal({ err: err.message }, 'cloud worker could not start');
  process.exit(1);
});
