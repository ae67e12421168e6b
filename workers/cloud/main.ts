/**
 * The cloud worker: namespace farmiq-cloud, CLOUD_TASK_QUEUE. Any number of these run behind the
 * cloud Temporal cluster.
 *
 *   npm run cloud:worker
 *
 * Its workflows (sync ingestion, insights) and their activities arrive with later issues; until
 * then it registers the empty workflows/cloud.ts index and polls the task queue for workflow tasks
 * only (docs/temporal.md explains why that is a legitimate worker and not a placeholder).
 */
import { Worker } from '@temporalio/worker';
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { HealthServer } from '../../platform/health';
import { Lifecycle } from '../../platform/lifecycle';
import { installTemporalRuntime } from '../../temporal/runtime';
import { connectTemporal, temporalHealthCheck } from '../../temporal/connection';
import { workflowCode } from '../../temporal/bundles';
import { workerShutdownForceSeconds, workerShutdownGraceSeconds, workerStateCheck } from '../worker-process';

async function main(): Promise<void> {
  const s = settings();
  const log = logger('cloud-worker');
  installTemporalRuntime(logger('temporal'));

  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();
  const waitOpts = { log, timeoutSeconds: s.DEPENDENCY_WAIT_SECONDS, signal: lifecycle.abort.signal };

  const health = new HealthServer('cloud-worker', s.CLOUD_WORKER_HEALTH_PORT);
  await health.start();
  lifecycle.onStop('health server', () => health.stop());
  log.info({ health: `${health.address}/health` }, 'health endpoint listening');

  const connection = await connectTemporal({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_CLOUD_NAMESPACE }, waitOpts);
  lifecycle.onStop('temporal connection', () => connection.close());
  health.addCheck('temporal', temporalHealthCheck(connection));

  const worker = await Worker.create({
    connection,
    namespace: s.TEMPORAL_CLOUD_NAMESPACE,
    taskQueue: s.CLOUD_TASK_QUEUE,
    ...workflowCode('cloud', log),
    shutdownGraceTime: `${workerShutdownGraceSeconds(s.SHUTDOWN_GRACE_SECONDS)} seconds`,
    shutdownForceTime: `${workerShutdownForceSeconds(s.SHUTDOWN_GRACE_SECONDS)} seconds`,
  });
  health.addCheck('worker', workerStateCheck(worker));

  const running = worker.run();
  lifecycle.onStop('temporal worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  health.setPhase('ready');
  lifecycle.onStop('health phase', async () => health.setPhase('stopping'));
  log.info({ namespace: s.TEMPORAL_CLOUD_NAMESPACE, taskQueue: s.CLOUD_TASK_QUEUE }, 'cloud worker running');

  running.catch((err: Error) => {
    log.fatal({ err: err.message }, 'cloud worker failed');
    void lifecycle.shutdown().finally(() => process.exit(1));
  });
}

main().catch((err: Error) => {
  if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
  logger('cloud-worker').fatal({ err: err.message }, 'cloud worker could not start');
  process.exit(1);
});
