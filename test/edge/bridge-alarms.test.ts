/**
 * The bridge judges the alarm rules after each commit, through the real Mosquitto broker, the
 * real edge database and the Temporal dev server (stand-in `farmAlarm`, test/alarms/): a reading
 * over the limit published over MQTT starts the alarm workflow; a duplicate of it and a history
 * reading start nothing; with Temporal away the bridge still accepts and stores the readings.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { Pool } from 'pg';
import pino from 'pino';
import { alarmStateQuery } from '../../alarms/alarm-contract';
import { upsertRule } from '../../alarms/rule-store';
import { telemetryTopic, type DeviceAddress } from '../../domain/contracts';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { startTestBroker, type TestBroker } from '../support/broker';
import { bridgeOptions, countRows, waitForCount } from '../support/bridge';
import { testEdgeDatabaseUrl } from '../support/stack';
import { until } from '../support/until';
import { startAlarmTestTemporal, testLimitRule, type AlarmTestTemporal, type CountingSignaller } from '../alarms/alarm-test-support';

let pool: Pool;
let broker: TestBroker;
let temporal: AlarmTestTemporal;

beforeAll(async () => {
  pool = new Pool({ connectionString: testEdgeDatabaseUrl, max: 4 });
  broker = await startTestBroker({ pool });
  temporal = await startAlarmTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
  await broker?.stop();
  await pool?.end();
});

async function newDevice(): Promise<DeviceAddress & { username: string; password: string }> {
  const address = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId: `dev-${randomUUID().slice(0, 8)}` };
  const creds = await provisionDevice(pool, { ...address, kind: 'sensor' });
  await broker.reload();
  return { ...address, ...creds };
}

function reading(d: DeviceAddress, value: number, ts = new Date().toISOString(), eventId = randomUUID()) {
  return JSON.stringify({
    schema_version: '1.0',
    event_id: eventId,
    trace_id: `trace-${randomUUID()}`,
    event_type: 'telemetry.reading',
    tenant_id: d.tenantId,
    device_id: d.deviceId,
    ts,
    payload: { metric: 'temperature', value, unit: 'C' },
  });
}

async function bridgeWith(signaller: CountingSignaller): Promise<MqttBridge> {
  const bridge = new MqttBridge(
    { ...bridgeOptions(broker), alarms: { signaller, liveWindowSeconds: 600, retrySeconds: 1 } },
    pino({ level: process.env.DEBUG_ALARMS ? 'debug' : 'silent' }),
  );
  await bridge.start();
  return bridge;
}

async function publish(d: { username: string; password: string } & DeviceAddress, messages: string[]): Promise<void> {
  const client = await mqtt.connectAsync(broker.url, { username: d.username, password: d.password, protocolVersion: 5 });
  for (const m of messages) await client.publishAsync(telemetryTopic(d, 'temperature'), m, { qos: 1 });
  await client.endAsync();
}

test('a reading over the limit published over MQTT starts the alarm workflow; its duplicate and history start nothing', async () => {
  const d = await newDevice();
  await upsertRule(pool, d.tenantId, testLimitRule('bridge-temp-high', d.farmId, { metric: 'temperature', threshold: 30, raise_delay_seconds: 0 }), {
    updatedBy: 'test',
    source: 'operator_api',
  });
  const signaller = temporal.signaller();
  const bridge = await bridgeWith(signaller);
  try {
    // History first: an hour old, far over the limit; stored, never judged.
    await publish(d, [reading(d, 45, new Date(Date.now() - 3600_000).toISOString())]);
    await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 1);
    await bridge.alarms!.idle();
    expect(signaller.raises).toBe(0);

    const eventId = randomUUID();
    const live = reading(d, 35.5, new Date().toISOString(), eventId);
    await publish(d, [live, live]); // the second is a duplicate the writer drops
    const workflowId = alarmWorkflowId(d.tenantId, d.farmId, d.barnId, 'bridge-temp-high');
    const status = await until('the alarm workflow', 20_000, async () => temporal.client.workflow.getHandle(workflowId).query(alarmStateQuery));
    expect(status).toMatchObject({ tenantId: d.tenantId, farmId: d.farmId, barnId: d.barnId, ruleId: 'bridge-temp-high', state: 'raised' });
    const described = await temporal.client.workflow.getHandle(workflowId).describe();
    expect(described.status.name).toBe('RUNNING');
    await bridge.alarms!.idle();
    expect(signaller.raises).toBe(1);
    const cond = await pool.query(`SELECT phase FROM alarm_conditions WHERE tenant_id = $1 AND rule_id = 'bridge-temp-high'`, [d.tenantId]);
    expect(cond.rows).toEqual([{ phase: 'active' }]);
  } finally {
    await bridge.stop();
  }
});

test('with Temporal away the bridge keeps accepting, and the raise is sent once it is back', async () => {
  const d = await newDevice();
  await upsertRule(pool, d.tenantId, testLimitRule('bridge-outage', d.farmId, { metric: 'temperature', threshold: 30, raise_delay_seconds: 0 }), {
    updatedBy: 'test',
    source: 'operator_api',
  });
  const signaller = temporal.signaller();
  signaller.down = true;
  const bridge = await bridgeWith(signaller);
  try {
    await publish(d, [reading(d, 36), reading(d, 36.5), reading(d, 37)]);
    await waitForCount(() => countRows(pool, 'telemetry_raw', d.tenantId), 3);
    await bridge.alarms!.idle();
    expect(signaller.raises).toBe(0);
    expect(bridge.alarms!.deferredCount).toBe(1);
    signaller.down = false;
    await until('the deferred raise', 20_000, () => signaller.raises === 1);
    const status = await temporal.client.workflow.getHandle(alarmWorkflowId(d.tenantId, d.farmId, d.barnId, 'bridge-outage')).query(alarmStateQuery);
    expect(status.state).toBe('raised');
  } finally {
    await bridge.stop();
  }
});
