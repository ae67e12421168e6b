/**
 * The alarm workflow with the cloud away, end to end on the farm server: the time-skipping test
 * server, the real activities on an edge database of its own whose outbox nothing acked
 * (farmiq_edge_alarm_local: so the cloud counts as unreachable, from the outbox itself), the real
 * MQTT siren on a private Mosquitto (a relay subscribes with its own siren device login) and the
 * real LAN webhook (a local HTTP server). Each step is delivered locally and says so; the clear
 * turns the siren off. Two alarms of one barn share its siren: it stays on until both are
 * acknowledged or cleared.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import mqtt from 'mqtt';
import type { Pool } from 'pg';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import { acknowledgeSignal, alarmWorkflowType, clearSignal, raiseSignal, type AlarmRaise } from '../../alarms/alarm-contract';
import { alarmHistory } from '../../alarms/alarm-store';
import { lanWebhook, type LanWebhookBody } from '../../alarms/local-channels/lan-webhook';
import { mqttSirenPublisher, sirenTopic, type SirenMessage } from '../../alarms/local-channels/mqtt-siren';
import { farmiqSearchAttributes } from '../../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { alarmSirenFilter } from '../../gateways/mqtt-bridge/broker/render';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from '../activities/sync-db';
import { startTestBroker, type TestBroker } from '../support/broker';
import { temporalTestServerPath } from '../support/stack';
import { until } from '../support/until';

const login = { username: 'farmiq-alarms-wf-test', password: 'farmiq-alarms-wf-test-secret' };
let env: TestWorkflowEnvironment;
let pool: Pool;
let broker: TestBroker;
let server: http.Server;
const posted: LanWebhookBody[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  pool = await openSyncTestDatabase('alarm-local-delivery-test', edgeTestDatabaseUrl('alarm_local'));
  broker = await startTestBroker({ pool, extraUsers: [{ ...login, write: [alarmSirenFilter] }] });
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posted.push(JSON.parse(body) as LanWebhookBody);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServerPath } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(farmiqSearchAttributes.map((k) => [k.name, 2 /* KEYWORD */])),
  });
});

const tenants: string[] = [];

/** A siren relay of the farm: a device of kind siren, subscribed to the barn's siren. */
async function relay(address: { tenantId: string; farmId: string; barnId: string }) {
  tenants.push(address.tenantId);
  const creds = await provisionDevice(pool, { ...address, deviceId: 'relay-1', kind: 'siren' });
  await broker.reload();
  const client = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  const heard: SirenMessage[] = [];
  client.on('message', (_t, payload) => heard.push(JSON.parse(payload.toString()) as SirenMessage));
  await client.subscribeAsync(sirenTopic(address), { qos: 1 });
  return { client, heard };
}

afterAll(async () => {
  if (tenants.length) await pool?.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await env?.teardown();
  await broker?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await pool?.end();
});

test('the cloud away: every step sounds the siren and posts the webhook, in the events and the history; the clear turns the siren off', async () => {
  const siren = mqttSirenPublisher({ url: broker.url, ...login, timeoutMs: 3000 });
  const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siren`;
  const taskQueue = `alarm-local-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
    // No reachability override: the outbox decides (nothing acked here, so the cloud is away).
    activities: createAlarmActivities({ pool, cloudGraceSeconds: 120, local: { siren, webhook: lanWebhook({ url: webhookUrl, timeoutMs: 3000 }) } }),
  });
  const tenantId = randomUUID();
  const address = { tenantId, farmId: 'farm-1', barnId: 'barn-5', ruleId: 'temp-high' };
  const { client: sirenRelay, heard } = await relay(address);
  try {
    await worker.runUntil(async () => {
      const raisedAt = new Date(await env.currentTimeMs()).toISOString();
      const raise: AlarmRaise = {
        alarmId: randomUUID(),
        ruleKind: 'limit',
        severity: 'critical',
        conditionSince: raisedAt,
        raisedAt,
        summary: 'Barn 5 temperature 36 °C above 30 °C',
        ladder: {
          steps: [
            { afterSeconds: 0, channels: ['in_app', 'push'], recipients: ['role:admin'] },
            { afterSeconds: 300, channels: ['sms'], recipients: ['role:admin'] },
          ],
        },
      };
      const handle = await env.client.workflow.signalWithStart(alarmWorkflowType, {
        workflowId: alarmWorkflowId(tenantId, 'farm-1', 'barn-5', 'temp-high'),
        taskQueue,
        args: [{ ...address, raise }],
        signal: raiseSignal,
        signalArgs: [raise],
      });
      await until('the siren at the relay', 20_000, () => heard.length === 1 && posted.length === 1);
      expect(heard[0]).toEqual({
        alarm_id: raise.alarmId,
        rule_id: 'temp-high',
        severity: 'critical',
        siren: 'on',
        state: 'raised',
        summary: raise.summary,
        alarm_ids: [raise.alarmId],
        sounding: 1,
      });
      expect(posted[0]).toMatchObject({ alarm_id: raise.alarmId, tenant_id: tenantId, barn_id: 'barn-5', step: 0, kind: 'step', siren: 'on' });

      await env.sleep(300_000);
      await until('step 1 delivered locally', 20_000, () => heard.length === 2 && posted.length === 2);
      expect(posted[1]).toMatchObject({ step: 1 });

      await handle.signal(clearSignal, { alarmId: raise.alarmId, reason: 'condition', at: new Date(await env.currentTimeMs()).toISOString() });
      await handle.result();
      await until('the siren off', 20_000, () => heard.length === 3);
      expect(heard[2]).toMatchObject({ alarm_id: raise.alarmId, siren: 'off', state: 'cleared', alarm_ids: [] });

      const r = await pool.query<{ envelope: { payload: { step: number; delivered_locally: string[] } } }>(
        `SELECT envelope FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'alarm.escalated' ORDER BY id`,
        [tenantId],
      );
      expect(r.rows.map((x) => [x.envelope.payload.step, x.envelope.payload.delivered_locally])).toEqual([
        [0, ['mqtt_siren', 'lan_webhook']],
        [1, ['mqtt_siren', 'lan_webhook']],
      ]);
      const lines = (await alarmHistory(pool, raise.alarmId)).filter((l) => l.what === 'delivered_locally');
      expect(lines).toHaveLength(5); // two channels at each of two steps, and the siren off
    });
  } finally {
    await sirenRelay.endAsync(true);
    await siren.close();
  }
});

test('two alarms of one barn: clearing one leaves the siren on with the other; acknowledging the other silences it, and its clear keeps it off', async () => {
  const siren = mqttSirenPublisher({ url: broker.url, ...login, timeoutMs: 3000 });
  const taskQueue = `alarm-local-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/edge'), logger: new DefaultLogger('WARN') }),
    activities: createAlarmActivities({ pool, cloudGraceSeconds: 120, local: { siren } }),
  });
  const tenantId = randomUUID();
  const place = { tenantId, farmId: 'farm-1', barnId: 'barn-6' };
  const { client: sirenRelay, heard } = await relay(place);
  const now = async () => new Date(await env.currentTimeMs()).toISOString();
  const start = async (ruleId: string, raisedAt: string) => {
    const raise: AlarmRaise = {
      alarmId: randomUUID(),
      ruleKind: 'limit',
      severity: 'critical',
      conditionSince: raisedAt,
      raisedAt,
      summary: `Barn 6 ${ruleId}`,
      ladder: { steps: [{ afterSeconds: 0, channels: ['in_app'], recipients: ['role:admin'] }] },
    };
    const handle = await env.client.workflow.signalWithStart(alarmWorkflowType, {
      workflowId: alarmWorkflowId(tenantId, 'farm-1', 'barn-6', ruleId),
      taskQueue,
      args: [{ ...place, ruleId, raise }],
      signal: raiseSignal,
      signalArgs: [raise],
    });
    return { raise, handle };
  };
  try {
    await worker.runUntil(async () => {
      const t0 = await now();
      const temp = await start('temp-high', t0);
      await until('the siren for the first alarm', 20_000, () => heard.length === 1);
      const nh3 = await start('nh3-high', new Date(Date.parse(t0) + 1000).toISOString());
      await until('the siren for both', 20_000, () => heard.length === 2);
      expect(heard[1]).toMatchObject({ siren: 'on', alarm_ids: [nh3.raise.alarmId, temp.raise.alarmId], sounding: 2 });

      // Waiting on the siren, not on the run's result: the time-skipping server would skip the open
      // alarm's clock meanwhile.
      await temp.handle.signal(clearSignal, { alarmId: temp.raise.alarmId, reason: 'condition', at: await now() });
      await until('the siren after the first clear', 20_000, () => heard.length === 3);
      expect(heard[2]).toMatchObject({ siren: 'on', alarm_id: nh3.raise.alarmId, alarm_ids: [nh3.raise.alarmId], sounding: 1 });

      await nh3.handle.signal(acknowledgeSignal, { alarmId: nh3.raise.alarmId, by: 'ops@farm', at: await now(), source: 'cli' });
      await until('the siren silenced', 20_000, () => heard.length === 4);
      expect(heard[3]).toMatchObject({ siren: 'off', alarm_id: nh3.raise.alarmId, state: 'acknowledged', alarm_ids: [] });

      await nh3.handle.signal(clearSignal, { alarmId: nh3.raise.alarmId, reason: 'condition', at: await now() });
      await nh3.handle.result();
      await until('the siren after the last clear', 20_000, () => heard.length === 5);
      expect(heard[4]).toMatchObject({ siren: 'off', alarm_id: nh3.raise.alarmId, state: 'cleared', alarm_ids: [] });
    });
  } finally {
    await sirenRelay.endAsync(true);
    await siren.close();
  }
});
