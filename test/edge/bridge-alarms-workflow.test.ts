/**
 * The whole edge path with the real alarm workflow: a reading over the limit published to the real
 * Mosquitto broker is committed by the bridge, judged, and starts `farmAlarm` (workflows/alarms/
 * alarm.ts, on a worker of the edge bundle with the real alarm activities and a recording siren);
 * readings back inside for the clear delay end it as cleared.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import mqtt from 'mqtt';
import { Pool } from 'pg';
import pino from 'pino';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import { alarmStateQuery } from '../../alarms/alarm-contract';
import { temporalConditionSignaller } from '../../alarms/evaluator';
import { upsertRule } from '../../alarms/rule-store';
import { telemetryTopic } from '../../domain/contracts';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { startTestBroker, type TestBroker } from '../support/broker';
import { bridgeOptions } from '../support/bridge';
import { temporalAddress, testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import { namespace, testLimitRule } from '../alarms/alarm-test-support';
import { Client, Connection } from '@temporalio/client';

let pool: Pool;
let broker: TestBroker;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `bridge-alarm-workflow-${randomUUID()}`;
const sirens: string[] = [];

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
  connection = await Connection.connect({ address: temporalAddress, connectTimeout: '5s' });
  client = new Client({ connection, namespace });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address: temporalAddress }),
    namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
    activities: createAlarmActivities({
      pool,
      cloudGraceSeconds: 120,
      reachability: () => Promise.resolve({ reachable: true }),
      local: {
        siren: {
          publish: (topic) => {
            sirens.push(topic);
            return Promise.resolve();
          },
          close: () => Promise.resolve(),
        },
      },
    }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await broker?.stop();
  await pool?.end();
});

test('a reading over the limit over MQTT raises the real alarm workflow, and readings back inside clear it', async () => {
  const d = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: `dev-${randomUUID().slice(0, 8)}` };
  const creds = await provisionDevice(pool, { ...d, kind: 'sensor' });
  await broker.reload();
  const ruleId = 'e2e-temp-high';
  await upsertRule(
    pool,
    d.tenantId,
    testLimitRule(ruleId, d.farmId, {
      metric: 'temperature',
      threshold: 30,
      raise_delay_seconds: 0,
      clear_delay_seconds: 0,
      ladder: { steps: [{ after_seconds: 0, channels: ['in_app'], recipients: ['role:admin'] }], always_local: ['mqtt_siren'] },
    }),
    { updatedBy: 'test', source: 'operator_api' },
  );
  const bridge = new MqttBridge(
    { ...bridgeOptions(broker), alarms: { signaller: temporalConditionSignaller(client, taskQueue), liveWindowSeconds: 600 } },
    pino({ level: 'silent' }),
  );
  await bridge.start();
  const device = await mqtt.connectAsync(broker.url, { username: creds.username, password: creds.password, protocolVersion: 5 });
  const send = (value: number) =>
    device.publishAsync(
      telemetryTopic(d, 'temperature'),
      JSON.stringify({
        schema_version: '1.0',
        event_id: randomUUID(),
        trace_id: `trace-${randomUUID()}`,
        event_type: 'telemetry.reading',
        tenant_id: d.tenantId,
        device_id: d.deviceId,
        ts: new Date().toISOString(),
        payload: { metric: 'temperature', value, unit: 'C' },
      }),
      { qos: 1 },
    );
  const handle = client.workflow.getHandle(alarmWorkflowId(d.tenantId, d.farmId, d.barnId, ruleId));
  try {
    await send(35);
    const raised = await until('the alarm raised', 30_000, async () => {
      const s = await handle.query(alarmStateQuery);
      return s.history.some((h) => h.what === 'raised') && s;
    });
    expect(raised).toMatchObject({ tenantId: d.tenantId, ruleId, state: 'raised', severity: 'critical' });
    await until('the siren', 30_000, () => sirens.length > 0);

    await send(25);
    const ended = await handle.result();
    expect(ended.state).toBe('cleared');
    expect(ended.alarmId).toBe(raised.alarmId);
  } finally {
    await device.endAsync();
    await bridge.stop();
    await handle.terminate('test over').catch(() => {});
  }
});
