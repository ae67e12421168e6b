/**
 * The edge worker: one long-running process on the farm server (systemd unit, config file named by
 * FARMIQ_CONFIG). It depends only on the farm's own Temporal (namespace farmiq-edge) and the edge
 * Postgres; the cloud is reached over HTTPS by the sync activities, and may be gone for days.
 *
 *   npm run edge:worker
 *
 * It ensures the telemetry rollup and sync outbox retention schedules and the one sync forwarder
 * workflow of this edge (docs/sync.md), then polls EDGE_TASK_QUEUE.
 *
 * Start-up waits for Postgres and Temporal rather than crashing (systemd may start it first);
 * /health on EDGE_WORKER_HEALTH_PORT reports both and the worker's state; SIGTERM stops polling,
 * lets in-flight activities finish within SHUTDOWN_GRACE_SECONDS, then closes the clients.
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { waitFor } from '../../platform/wait-for';
import { createPool, safeDatabaseName } from '../../db/pool';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import { localChannelsFromSettings } from '../../activities/alarms/local-channels';
import { createRollupActivities } from '../../activities/ingest/rollups';
import { createSyncActivities } from '../../activities/sync/forwarder';
import { createSyncRetentionActivities } from '../../activities/sync/retention';
import { createWeighVisionActivities } from '../../activities/weighvision/session';
import { objectStoreConfigFromSettings, s3ObjectStore } from '../../weighvision/media/object-store';
import { objectStoreImageSource } from '../../weighvision/media/image-source';
import { lazyVisionModel } from '../../weighvision/vision/lazy-model';
import { visionServesStation } from '../../weighvision/vision/station-served';
import { createCloudClient } from '../../sync/cloud-client';
import { EdgeIdentitySource } from '../../sync/edge-identity';
import { ensureSyncForwarder, syncForwarderConfig } from '../../sync/forwarder-start';
import { createDownlinkActivities } from '../../activities/downlink/downlink';
import { createDeviceHandlers, type DeviceBroker } from '../../sync/downlink/device-commands';
import { ensureDownlink } from '../../sync/downlink/downlink-start';
import { defaultUsername, deviceKinds, generatePassword, provisionDevice, revokeDevice, type DeviceKind } from '../../gateways/mqtt-bridge/broker/credentials';
import { refreshBrokerAuth } from '../../gateways/mqtt-bridge/broker/render';
import { connectTemporal, temporalClient, temporalHealthCheck } from '../../temporal/connection';
import { workflowCode } from '../../temporal/bundles';
import { ensureAlarmSweepSchedule, ensureSyncOutboxRetentionSchedule, ensureTelemetryRollupSchedule } from '../../temporal/schedules';
import { createAlarmSweepActivities } from '../../activities/alarms/sweep';
import { temporalConditionSignaller } from '../../alarms/evaluator';
import { temporalAlarmSignaller } from '../../alarms/acknowledge';
import { acknowledgeCommandHandler } from '../../alarms/acknowledge-command';
import { createAlarmRuleHandlers } from '../../alarms/rule-commands';
import { WorkerProcess } from '../worker-process';

async function main(): Promise<void> {
  const s = settings();
  const proc = await WorkerProcess.start(s, 'edge-worker', s.EDGE_WORKER_HEALTH_PORT);
  const { log, lifecycle, health, waitOpts } = proc;

  const pool = createPool(s.EDGE_DATABASE_URL, { applicationName: 'farmiq-edge-worker', log });
  lifecycle.onStop('edge database pool', () => pool.end());
  health.addCheck('database', async () => {
    await pool.query('SELECT 1');
    return { ok: true };
  });
  await waitFor(`edge database ${safeDatabaseName(s.EDGE_DATABASE_URL)}`, () => pool.query('SELECT 1'), waitOpts);

  const connection = await connectTemporal({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE }, waitOpts);
  lifecycle.onStop('temporal connection', () => connection.close());
  health.addCheck('temporal', temporalHealthCheck(connection));

  const client = temporalClient(connection, s.TEMPORAL_EDGE_NAMESPACE);
  const schedule = await waitFor(
    'telemetry rollup schedule',
    () => ensureTelemetryRollupSchedule(client, { edgeId: s.EDGE_ID, taskQueue: s.EDGE_TASK_QUEUE, graceSeconds: s.ROLLUP_GRACE_SECONDS }),
    waitOpts,
  );
  log.info({ edgeId: s.EDGE_ID, schedule }, 'telemetry rollup schedule in place');
  const retention = await waitFor(
    'sync outbox retention schedule',
    () => ensureSyncOutboxRetentionSchedule(client, { edgeId: s.EDGE_ID, taskQueue: s.EDGE_TASK_QUEUE, olderThanHours: s.SYNC_RETENTION_HOURS }),
    waitOpts,
  );
  log.info({ edgeId: s.EDGE_ID, schedule: retention }, 'sync outbox retention schedule in place');
  const alarmSweep = await waitFor(
    'alarm sweep schedule',
    () => ensureAlarmSweepSchedule(client, { edgeId: s.EDGE_ID, taskQueue: s.EDGE_TASK_QUEUE }),
    waitOpts,
  );
  log.info({ edgeId: s.EDGE_ID, schedule: alarmSweep }, 'alarm sweep schedule in place');

  // Sync to the cloud (docs/sync.md). Without EDGE_SIGNING_KEY_FILE the forwarder reports
  // not_configured and idles; the edge works on without a cloud.
  const cloud = createCloudClient({ baseUrl: s.CLOUD_INGEST_URL, requestTimeoutMs: s.SYNC_REQUEST_TIMEOUT_SECONDS * 1000 });
  lifecycle.onStop('cloud client', async () => cloud.close());
  const identity = new EdgeIdentitySource({ edgeId: s.EDGE_ID, keyFile: s.EDGE_SIGNING_KEY_FILE, keyId: s.EDGE_KEY_ID });
  const edgeIdentity = identity.current();
  if (!edgeIdentity.configured) log.warn({ reason: edgeIdentity.reason }, 'sync to the cloud is not configured; the forwarder idles until a key is installed');

  // WeighVision: images come from the edge's object store; the model is loaded on the first
  // inference (a missing or broken model fails those activities, visibly, not the whole worker).
  // Its estimates count only at a barn whose flock is of a species the model serves.
  const objectStore = s3ObjectStore(objectStoreConfigFromSettings(s));
  lifecycle.onStop('object store client', async () => objectStore.close());
  const estimator = lazyVisionModel(s, log);
  const visionServes = visionServesStation(pool, estimator, log);

  // Alarms (docs/alarms.md): the siren's broker connection is made on the first local delivery.
  const alarmChannels = localChannelsFromSettings(s);
  lifecycle.onStop('alarm siren client', () => alarmChannels.siren.close());

  // The downlink (docs/downlink.md): its own cloud client, whose timeout outlasts a held pull.
  const downlinkCloud = createCloudClient({ baseUrl: s.CLOUD_INGEST_URL, requestTimeoutMs: (s.DOWNLINK_WAIT_SECONDS + s.SYNC_REQUEST_TIMEOUT_SECONDS) * 1000 });
  lifecycle.onStop('downlink cloud client', async () => downlinkCloud.close());
  // device.provision / device.revoke change the broker's credentials as `farmiq devices` does.
  const deviceBroker: DeviceBroker = {
    kinds: deviceKinds,
    generatePassword,
    defaultUsername,
    provision: async (d) => void (await provisionDevice(pool, { ...d, kind: d.kind as DeviceKind })),
    revoke: (username) => revokeDevice(pool, username),
    refresh: async () => void (await refreshBrokerAuth(pool, s)),
  };

  // A dashboard acknowledgement (the downlink's alarm.acknowledge) signals the alarm's workflow.
  const alarmSignaller = temporalAlarmSignaller({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE });
  lifecycle.onStop('alarm acknowledgement signaller', () => alarmSignaller.close());

  const worker = await proc.createWorker({
    connection,
    namespace: s.TEMPORAL_EDGE_NAMESPACE,
    taskQueue: s.EDGE_TASK_QUEUE,
    ...workflowCode('edge', log),
    activities: {
      ...createRollupActivities({ pool, edgeId: s.EDGE_ID }),
      ...createSyncActivities({ pool, edgeId: s.EDGE_ID, cloud, identity, requestTimeoutMs: s.SYNC_REQUEST_TIMEOUT_SECONDS * 1000 }),
      ...createSyncRetentionActivities({ pool }),
      ...createWeighVisionActivities({ pool, images: objectStoreImageSource(objectStore), estimator, visionServes }),
      ...createDownlinkActivities({
        pool,
        edgeId: s.EDGE_ID,
        cloud: downlinkCloud,
        identity,
        handlers: {
          ...createDeviceHandlers({ pool, broker: deviceBroker }),
          ...createAlarmRuleHandlers(),
          'alarm.acknowledge': acknowledgeCommandHandler({ pool, signaller: alarmSignaller }),
        },
        tenants: s.EDGE_TENANTS.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        log: log.child({ component: 'downlink' }),
      }),
      ...createAlarmActivities({ pool, cloudGraceSeconds: s.ALARM_CLOUD_GRACE_SECONDS, local: alarmChannels }),
      ...createAlarmSweepActivities({ pool, signaller: temporalConditionSignaller(client, s.EDGE_TASK_QUEUE), log: log.child({ component: 'alarm-sweep' }) }),
    },
  });

  const running = proc.run(worker);
  const forwarder = await waitFor(
    'sync forwarder workflow',
    () => ensureSyncForwarder(client, { taskQueue: s.EDGE_TASK_QUEUE, config: syncForwarderConfig(s) }),
    waitOpts,
  );
  log.info({ ...forwarder, cloud: s.CLOUD_INGEST_URL }, 'sync forwarder running');
  const downlink = await waitFor(
    'downlink workflow',
    () => ensureDownlink(client, { taskQueue: s.EDGE_TASK_QUEUE, input: { edgeId: s.EDGE_ID, waitSeconds: s.DOWNLINK_WAIT_SECONDS } }),
    waitOpts,
  );
  log.info(downlink, 'downlink running');
  proc.ready();
  log.info({ namespace: s.TEMPORAL_EDGE_NAMESPACE, taskQueue: s.EDGE_TASK_QUEUE, edgeId: s.EDGE_ID }, 'edge worker running');

  proc.exitWhenWorkerFails(running, 'edge worker failed');
}

main().catch((err: Error) => {
  const log = logger('edge-worker');
  if (err.message.startsWith('stopped while waiting')) return; // SIGTERM during start-up: the Lifecycle exits
  log.fatal({ err: err.message }, 'edge worker could not start');
  process.exit(1);
});
