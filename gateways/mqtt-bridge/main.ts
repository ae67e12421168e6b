/**
 * edge-ingress-gateway: the farm server's MQTT bridge process (spec §2 steps 2–4, §4 steps 2–5).
 *   npm run edge:bridge
 */
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { HealthServer } from '../../platform/health';
import { Lifecycle } from '../../platform/lifecycle';
import { waitFor } from '../../platform/wait-for';
import { MqttBridge } from './bridge';
import { temporalSessionSignaller } from './weighvision/session-signaller';
import { temporalConditionSignaller } from '../../alarms/evaluator';
import { connectTemporal, temporalClient, temporalHealthCheck } from '../../temporal/connection';

async function main(): Promise<void> {
  const s = settings();
  const log = logger('mqtt-bridge');
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();

  const wait = { log, timeoutSeconds: s.DEPENDENCY_WAIT_SECONDS, signal: lifecycle.abort.signal };
  // WeighVision events become signals on session workflows in the farm's own Temporal.
  const temporal = await connectTemporal({ address: s.TEMPORAL_ADDRESS, namespace: s.TEMPORAL_EDGE_NAMESPACE }, wait);
  lifecycle.onStop('temporal connection', () => temporal.close());
  const client = temporalClient(temporal, s.TEMPORAL_EDGE_NAMESPACE);
  const sessions = temporalSessionSignaller(client, {
    taskQueue: s.EDGE_TASK_QUEUE,
    config: {
      finalizeTimeoutSeconds: s.WEIGHVISION_FINALIZE_TIMEOUT_SECONDS,
      imageWaitSeconds: s.WEIGHVISION_IMAGE_WAIT_SECONDS,
      disagreementRatio: s.WEIGHVISION_DISAGREEMENT_RATIO,
    },
  });

  const bridge = new MqttBridge(
    {
      databaseUrl: s.EDGE_DATABASE_URL,
      mqttUrl: s.MQTT_URL,
      clientId: s.MQTT_BRIDGE_CLIENT_ID,
      username: s.MQTT_BRIDGE_USERNAME,
      password: s.MQTT_BRIDGE_PASSWORD,
      receiveMaximum: s.MQTT_RECEIVE_MAXIMUM,
      edgeId: s.EDGE_ID,
      batchMax: s.BRIDGE_BATCH_MAX,
      batchWaitMs: s.BRIDGE_BATCH_WAIT_MS,
      commitConcurrency: s.BRIDGE_COMMIT_CONCURRENCY,
      maxPayloadBytes: s.MQTT_MAX_PAYLOAD_BYTES,
      farmTimeZone: s.EDGE_FARM_TIME_ZONE,
      sessions,
      // Alarm rules judged after each commit; their alarms are workflows in the same Temporal.
      alarms: {
        signaller: temporalConditionSignaller(client, s.EDGE_TASK_QUEUE),
        liveWindowSeconds: s.ALARM_LIVE_WINDOW_SECONDS,
        rulesRefreshSeconds: s.ALARM_RULES_REFRESH_SECONDS,
        retrySeconds: s.ALARM_RETRY_SECONDS,
      },
    },
    log,
  );

  const health = new HealthServer('mqtt-bridge', s.BRIDGE_HEALTH_PORT);
  health.addCheck('database', async () => {
    await bridge.checkDatabase();
    return { ok: true };
  });
  health.addCheck('broker', () => ({ ok: bridge.broker.connected }));
  health.addCheck('temporal', temporalHealthCheck(temporal));
  health.addCheck('pipeline', () => {
    const st = bridge.pipeline.status();
    return { ok: !st.lastError || (st.lastResult !== undefined && st.lastResult.at > st.lastError.at), detail: JSON.stringify(st) };
  });
  // Raises and clears waiting for Temporal (ingest goes on meanwhile; the temporal check says why).
  health.addCheck('alarms', () => ({ ok: true, detail: `deferred signals: ${bridge.alarms?.deferredCount ?? 0}` }));
  await health.start();
  lifecycle.onStop('health', () => health.stop());

  await waitFor('edge database', () => bridge.checkDatabase(), wait);
  await waitFor('MQTT broker', () => bridge.start(), wait);
  lifecycle.onStop('bridge', async () => {
    health.setPhase('stopping');
    await bridge.stop();
  });
  health.setPhase('ready');
  log.info({ health: `${health.address}/health` }, 'mqtt bridge ready');
}

main().catch((err) => {
  logger('mqtt-bridge').fatal({ err: (err as Error).message }, 'mqtt bridge failed to start');
  process.exit(1);
});
