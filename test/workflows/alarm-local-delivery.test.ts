/**
 * The alarm workflow with the cloud away, end to end on the farm server: the time-skipping test
 * server, the real activities on an edge database of its own whose outbox nothing acked
 * (farmiq_edge_alarm_local: so the cloud counts as unreachable, from the outbox itself), the real
 * MQTT siren on a private Mosquitto (a relay subscribes) and the real LAN webhook (a local HTTP
 * server). Each step is delivered locally and says so; the clear turns the siren off.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import mqtt from 'mqtt';
import type { Pool } from 'pg';
import { createAlarmActivities } from '../../activities/alarms/alarm-steps';
import { alarmWorkflowType, clearSignal, raiseSignal, type AlarmRaise } from '../../alarms/alarm-contract';
import { alarmHistory } from '../../alarms/alarm-store';
import { lanWebhook, type LanWebhookBody } from '../../alarms/local-channels/lan-webhook';
import { mqttSirenPublisher, sirenTopic, type SirenMessage } from '../../alarms/local-channels/mqtt-siren';
import { farmiqSearchAttributes } from '../../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../../domain/temporal/workflow-ids';
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

afterAll(async () => {
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
  const relay = await mqtt.connectAsync(broker.url, { ...broker.bridge, clean: true, reconnectPeriod: 0 });
  const heard: SirenMessage[] = [];
  relay.on('message', (_t, payload) => heard.push(JSON.parse(payload.toString()) as SirenMessage));
  await relay.subscribeAsync(sirenTopic(address), { qos: 1 });
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
      expect(heard[0]).toEqual({ alarm_id: raise.alarmId, rule_id: 'temp-high', severity: 'critical', siren: 'on', state: 'raised', summary: raise.summary });
      expect(posted[0]).toMatchObject({ alarm_id: raise.alarmId, tenant_id: tenantId, barn_id: 'barn-5', step: 0, kind: 'step', siren: 'on' });

      await env.sleep(300_000);
      await until('step 1 delivered locally', 20_000, () => heard.length === 2 && posted.length === 2);
      expect(posted[1]).toMatchObject({ step: 1 });

      await handle.signal(clearSignal, { alarmId: raise.alarmId, reason: 'condition', at: new Date(await env.currentTimeMs()).toISOString() });
      await handle.result();
      await until('the siren off', 20_000, () => heard.length === 3);
      expect(heard[2]).toMatchObject({ alarm_id: raise.alarmId, siren: 'off', state: 'cleared' });

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
    await relay.endAsync(true);
    await siren.close();
  }
});
