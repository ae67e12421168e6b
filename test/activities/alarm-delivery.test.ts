/**
 * The alarm activities against the real edge database (farmiq_edge_alarm_act, its own outbox),
 * a private Mosquitto rendered from the project's template (the worker's own login may write the
 * siren topics; a relay subscribes with its own siren device login) and a local HTTP server as the
 * LAN webhook: the cloud's reachability from the outbox, local delivery while it is away, a channel
 * that fails, a retried step, the siren going off at the clear; the siren as the barn's state (two
 * alarms of a barn, the acknowledgement silencing it).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import type { Pool } from 'pg';
import { createAlarmActivities, type DeliverStepInput } from '../../activities/alarms/alarm-steps';
import type { AlarmAddress, AlarmRaise } from '../../alarms/alarm-contract';
import { alarmHistory, getAlarm } from '../../alarms/alarm-store';
import { cloudReachability } from '../../alarms/cloud-reachability';
import { lanWebhook, type LanWebhookBody } from '../../alarms/local-channels/lan-webhook';
import { mqttSirenPublisher, sirenTopic, type SirenMessage, type SirenPublisher } from '../../alarms/local-channels/mqtt-siren';
import { provisionDevice } from '../../gateways/mqtt-bridge/broker/credentials';
import { alarmSirenFilter } from '../../gateways/mqtt-bridge/broker/render';
import { startTestBroker, type TestBroker } from '../support/broker';
import { until } from '../support/until';
import { edgeTestDatabaseUrl, openSyncTestDatabase } from './sync-db';

const alarmLogin = { username: 'farmiq-alarms-test', password: 'farmiq-alarms-test-secret' };

let pool: Pool;
let broker: TestBroker;
let siren: SirenPublisher;
let server: http.Server;
let webhookUrl: string;
let webhookStatus = 204;
const posted: LanWebhookBody[] = [];

beforeAll(async () => {
  pool = await openSyncTestDatabase('alarm-activities-test', edgeTestDatabaseUrl('alarm_act'));
  broker = await startTestBroker({ pool, extraUsers: [{ ...alarmLogin, write: [alarmSirenFilter] }] });
  siren = mqttSirenPublisher({ url: broker.url, ...alarmLogin, timeoutMs: 3000 });
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posted.push(JSON.parse(body) as LanWebhookBody);
      res.writeHead(webhookStatus).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarm`;
});

afterAll(async () => {
  if (tenants.length) await pool?.query('DELETE FROM edge_devices WHERE tenant_id = ANY($1::uuid[])', [tenants]);
  await siren?.close();
  await broker?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await pool?.end();
});

beforeEach(async () => {
  posted.length = 0;
  webhookStatus = 204;
  // This file's own outbox: nothing acked, so the cloud counts as away unless a test says otherwise.
  await pool.query('TRUNCATE sync_outbox');
});

const tenants: string[] = [];

/** A relay on the farm LAN: a device of kind siren of the alarm's farm, with its own login. */
async function relay(address: AlarmAddress): Promise<{ messages: SirenMessage[]; close: () => Promise<void> }> {
  if (!tenants.includes(address.tenantId)) tenants.push(address.tenantId);
  const login = await provisionDevice(pool, { tenantId: address.tenantId, farmId: address.farmId, barnId: 'yard', deviceId: 'relay-1', kind: 'siren' });
  await broker.reload();
  const client = await mqtt.connectAsync(broker.url, { ...login, protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  const messages: SirenMessage[] = [];
  client.on('message', (_topic, payload) => messages.push(JSON.parse(payload.toString()) as SirenMessage));
  const granted = await client.subscribeAsync(sirenTopic(address), { qos: 1 });
  expect(granted[0].qos).toBe(1);
  return { messages, close: () => client.endAsync(true) };
}

function newAlarm(): { address: AlarmAddress; raise: AlarmRaise } {
  const at = new Date().toISOString();
  return {
    address: { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-3', ruleId: 'nh3-high' },
    raise: {
      alarmId: randomUUID(),
      ruleKind: 'limit',
      severity: 'critical',
      metric: 'nh3',
      value: 31,
      threshold: 25,
      unit: 'ppm',
      conditionSince: at,
      raisedAt: at,
      summary: 'Barn 3 NH3 31 ppm above 25 ppm',
      ladder: { steps: [{ afterSeconds: 0, channels: ['in_app', 'sms'], recipients: ['role:admin'] }] },
    },
  };
}

function stepOf(a: ReturnType<typeof newAlarm>, step = 0): DeliverStepInput {
  return {
    address: a.address,
    alarm: { alarmId: a.raise.alarmId, severity: a.raise.severity, summary: a.raise.summary },
    step,
    kind: 'step',
    rung: a.raise.ladder.steps[0],
    alwaysLocal: [],
    at: new Date().toISOString(),
  };
}

async function outbox(tenantId: string) {
  const r = await pool.query<{ event_type: string; priority: number; envelope: { payload: Record<string, unknown> } }>(
    `SELECT event_type, priority, envelope FROM sync_outbox WHERE tenant_id = $1 ORDER BY id`,
    [tenantId],
  );
  return r.rows;
}

describe('cloud reachability', () => {
  test('reachable while the newest acked row is younger than the grace; not with none or an old one', async () => {
    expect((await cloudReachability(pool, 120)).reachable).toBe(false);
    const tenant = randomUUID();
    const insert = `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, occurred_at, status, acked_at)
                    VALUES ($1, $2, 'telemetry.reading', '{}', now(), 'acked', now() - make_interval(secs => $3))`;
    await pool.query(insert, [tenant, randomUUID(), 600]);
    expect(await cloudReachability(pool, 120)).toMatchObject({ reachable: false, lastExchangeAt: expect.any(String) });
    await pool.query(insert, [tenant, randomUUID(), 10]);
    expect((await cloudReachability(pool, 120)).reachable).toBe(true);
    // A backlog newer than the window that nothing acked (the cloud away for a while): unreachable.
    await pool.query(
      `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, occurred_at)
       SELECT $1, gen_random_uuid(), 'telemetry.reading', '{}', now() FROM generate_series(1, 5000)`,
      [tenant],
    );
    expect((await cloudReachability(pool, 120)).reachable).toBe(false);
  });
});

describe('alarm activities', () => {
  test('the cloud away: the step sounds the siren (a relay gets it, retained) and posts the webhook; recorded in the event and the history', async () => {
    const acts = createAlarmActivities({ pool, cloudGraceSeconds: 120, local: { siren, webhook: lanWebhook({ url: webhookUrl, timeoutMs: 3000 }) } });
    const a = newAlarm();
    expect(await acts.recordAlarmRaised({ ...a, workflowId: 'alarm/x' })).toEqual({ recorded: true });
    expect(await acts.recordAlarmRaised({ ...a, workflowId: 'alarm/x' })).toEqual({ recorded: false });
    let live = await relay(a.address);
    try {
      const r = await acts.deliverAlarmStep(stepOf(a));
      expect(r).toMatchObject({ cloudReachable: false, repeated: false, deliveredLocally: ['mqtt_siren', 'lan_webhook'] });
      const on = { alarm_id: a.raise.alarmId, rule_id: 'nh3-high', severity: 'critical', siren: 'on', state: 'raised', summary: a.raise.summary };
      await until('the siren at the relay', 10_000, () => live.messages.length === 1);
      expect(live.messages[0]).toEqual({ ...on, alarm_ids: [a.raise.alarmId], sounding: 1 });
      // The webhook carries the alarm and its step, not the barn's siren state.
      expect(posted).toEqual([{ ...on, tenant_id: a.address.tenantId, farm_id: 'farm-1', barn_id: 'barn-3', step: 0, kind: 'step', at: expect.any(String) }]);

      // Retained: a siren that connects later hears it at once. (One connection per login: the
      // broker keys clients by login, so the first relay goes first.)
      await live.close();
      live = await relay(a.address);
      await until('the retained siren', 10_000, () => live.messages.length === 1);
      expect(live.messages[0]).toEqual({ ...on, alarm_ids: [a.raise.alarmId], sounding: 1 });

      const events = await outbox(a.address.tenantId);
      expect(events.map((e) => [e.event_type, e.priority])).toEqual([
        ['alarm.raised', 10],
        ['alarm.escalated', 10],
      ]);
      expect(events[1].envelope.payload).toMatchObject({ step: 0, channels: ['in_app', 'sms'], delivered_locally: ['mqtt_siren', 'lan_webhook'] });
      const lines = await alarmHistory(pool, a.raise.alarmId);
      expect(lines.map((l) => l.what)).toEqual(['raised', 'escalated', 'delivered_locally', 'delivered_locally']);

      // The same step again (a retry after a lost completion, a restarted worker): nothing twice.
      const again = await acts.deliverAlarmStep(stepOf(a));
      expect(again).toMatchObject({ repeated: true, deliveredLocally: ['mqtt_siren', 'lan_webhook'] });
      expect(posted).toHaveLength(1);
      expect(await outbox(a.address.tenantId)).toHaveLength(2);
      expect(await getAlarm(pool, a.raise.alarmId)).toMatchObject({ lastStep: 0, state: 'raised' });

      // The clear: alarm.cleared, and the siren goes off (retained off).
      const cleared = await acts.recordAlarmCleared({
        ...a,
        alarm: stepOf(a).alarm,
        clear: { alarmId: a.raise.alarmId, reason: 'condition', at: new Date().toISOString() },
        acknowledged: false,
      });
      expect(cleared).toMatchObject({ recorded: true, siren: { ok: true } });
      await until('the siren off at the relay', 10_000, () => live.messages.length === 2);
      expect(live.messages[1]).toMatchObject({ alarm_id: a.raise.alarmId, siren: 'off', state: 'cleared', alarm_ids: [], sounding: 0 });
      expect((await outbox(a.address.tenantId)).map((e) => e.event_type)).toEqual(['alarm.raised', 'alarm.escalated', 'alarm.cleared']);
    } finally {
      await live.close();
    }
  });

  test('two alarms of a barn share its siren: on while either sounds it, listing both; clearing one leaves it on for the other; clearing both turns it off', async () => {
    const acts = createAlarmActivities({ pool, cloudGraceSeconds: 120, local: { siren } });
    const a = newAlarm();
    const b = newAlarm();
    b.address = { ...a.address, ruleId: 'temp-high' };
    b.raise.raisedAt = new Date(Date.parse(a.raise.raisedAt) + 1000).toISOString();
    const topic = sirenTopic(a.address);
    let live = await relay(a.address);
    try {
      await acts.recordAlarmRaised({ ...a, workflowId: 'alarm/a' });
      await acts.deliverAlarmStep(stepOf(a));
      await until('the siren on for a', 10_000, () => live.messages.length === 1);
      expect(live.messages[0]).toMatchObject({ siren: 'on', alarm_id: a.raise.alarmId, alarm_ids: [a.raise.alarmId], sounding: 1 });

      await acts.recordAlarmRaised({ ...b, workflowId: 'alarm/b' });
      const stepB = await acts.deliverAlarmStep(stepOf(b));
      expect(stepB.local).toEqual([{ channel: 'mqtt_siren', ok: true, detail: `siren on on ${topic} (sounded by 1 other alarm)` }]);
      await until('the siren on for both', 10_000, () => live.messages.length === 2);
      expect(live.messages[1]).toMatchObject({
        siren: 'on',
        alarm_id: b.raise.alarmId,
        rule_id: 'temp-high',
        alarm_ids: [b.raise.alarmId, a.raise.alarmId],
        sounding: 2,
      });

      // The older alarm clears: still on, for the other one only.
      const clearA = await acts.recordAlarmCleared({
        ...a,
        alarm: stepOf(a).alarm,
        clear: { alarmId: a.raise.alarmId, reason: 'condition', at: new Date().toISOString() },
        acknowledged: false,
      });
      expect(clearA).toMatchObject({ recorded: true, siren: { ok: true, detail: `siren on on ${topic} (sounded by 1 other alarm)` } });
      await until('the siren after the first clear', 10_000, () => live.messages.length === 3);
      expect(live.messages[2]).toMatchObject({ siren: 'on', alarm_id: b.raise.alarmId, state: 'raised', alarm_ids: [b.raise.alarmId], sounding: 1 });

      // The other clears too: off.
      const clearB = await acts.recordAlarmCleared({
        ...b,
        alarm: stepOf(b).alarm,
        clear: { alarmId: b.raise.alarmId, reason: 'condition', at: new Date().toISOString() },
        acknowledged: false,
      });
      expect(clearB).toMatchObject({ recorded: true, siren: { ok: true, detail: `siren off on ${topic}` } });
      await until('the siren off', 10_000, () => live.messages.length === 4);
      expect(live.messages[3]).toMatchObject({ siren: 'off', alarm_id: b.raise.alarmId, state: 'cleared', alarm_ids: [], sounding: 0 });

      // Retained: a siren connecting now reads off.
      await live.close();
      live = await relay(a.address);
      await until('the retained siren', 10_000, () => live.messages.length === 1);
      expect(live.messages[0]).toMatchObject({ siren: 'off', alarm_ids: [] });
    } finally {
      await live.close();
    }
  });

  test('acknowledging silences the horn: the siren stays on for an unacknowledged alarm of the barn, off once all are; the clear after that keeps it off', async () => {
    const acts = createAlarmActivities({ pool, cloudGraceSeconds: 120, local: { siren } });
    const a = newAlarm();
    const b = newAlarm();
    b.address = { ...a.address, ruleId: 'temp-high' };
    b.raise.raisedAt = new Date(Date.parse(a.raise.raisedAt) + 1000).toISOString();
    const live = await relay(a.address);
    try {
      for (const x of [a, b]) {
        await acts.recordAlarmRaised({ ...x, workflowId: `alarm/${x.address.ruleId}` });
        await acts.deliverAlarmStep(stepOf(x));
      }
      await until('the siren on for both', 10_000, () => live.messages.length === 2);
      expect(live.messages[1]).toMatchObject({ siren: 'on', alarm_ids: [b.raise.alarmId, a.raise.alarmId] });

      const ack = (x: typeof a) =>
        acts.recordAlarmAcknowledged({
          address: x.address,
          ack: { alarmId: x.raise.alarmId, by: 'ops@farm', at: new Date().toISOString(), source: 'operator_api' },
        });
      expect(await ack(b)).toMatchObject({ recorded: true, siren: { ok: true } });
      await until('the siren after the first acknowledgement', 10_000, () => live.messages.length === 3);
      expect(live.messages[2]).toMatchObject({ siren: 'on', alarm_id: a.raise.alarmId, alarm_ids: [a.raise.alarmId], sounding: 1 });

      expect(await ack(a)).toMatchObject({ recorded: true, siren: { ok: true } });
      await until('the siren silenced', 10_000, () => live.messages.length === 4);
      expect(live.messages[3]).toMatchObject({ siren: 'off', alarm_id: a.raise.alarmId, state: 'acknowledged', alarm_ids: [], sounding: 0 });
      expect((await alarmHistory(pool, a.raise.alarmId)).map((l) => l.what)).toEqual([
        'raised',
        'escalated',
        'delivered_locally',
        'acknowledged',
        'delivered_locally',
      ]);

      await acts.recordAlarmCleared({
        ...a,
        alarm: stepOf(a).alarm,
        clear: { alarmId: a.raise.alarmId, reason: 'condition', at: new Date().toISOString() },
        acknowledged: true,
      });
      await until('the siren after the clear', 10_000, () => live.messages.length === 5);
      expect(live.messages[4]).toMatchObject({ siren: 'off', alarm_id: a.raise.alarmId, state: 'cleared', alarm_ids: [] });
    } finally {
      await live.close();
    }
  });

  test('a failing channel is recorded with its reason and the step goes on; the cloud reachable: local only as the ladder says', async () => {
    webhookStatus = 500;
    const deadSiren = mqttSirenPublisher({ url: 'mqtt://127.0.0.1:1', ...alarmLogin, timeoutMs: 500 });
    try {
      const acts = createAlarmActivities({
        pool,
        cloudGraceSeconds: 120,
        local: { siren: deadSiren, webhook: lanWebhook({ url: webhookUrl, timeoutMs: 3000 }) },
      });
      const a = newAlarm();
      await acts.recordAlarmRaised({ ...a, workflowId: 'alarm/y' });
      const r = await acts.deliverAlarmStep(stepOf(a));
      expect(r.deliveredLocally).toEqual([]);
      expect(r.local.map((o) => [o.channel, o.ok])).toEqual([
        ['mqtt_siren', false],
        ['lan_webhook', false],
      ]);
      expect(r.local[1].detail).toContain('answered 500');
      const lines = await alarmHistory(pool, a.raise.alarmId);
      expect(lines.filter((l) => l.what === 'local_delivery_failed').map((l) => l.detail.split(':')[0])).toEqual(['mqtt_siren', 'lan_webhook']);
      const events = await outbox(a.address.tenantId);
      expect(events[1].envelope.payload).toMatchObject({ step: 0, delivered_locally: [] });

      // Reachable (a fresh ack): no local delivery, unless the ladder says always.
      await pool.query(
        `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, occurred_at, status, acked_at) VALUES ($1, $2, 'telemetry.reading', '{}', now(), 'acked', now())`,
        [randomUUID(), randomUUID()],
      );
      posted.length = 0;
      webhookStatus = 204;
      const b = newAlarm();
      await acts.recordAlarmRaised({ ...b, workflowId: 'alarm/z' });
      expect(await acts.deliverAlarmStep(stepOf(b))).toMatchObject({ cloudReachable: true, local: [] });
      expect(await acts.deliverAlarmStep({ ...stepOf(b, 1), alwaysLocal: ['lan_webhook'] })).toMatchObject({
        cloudReachable: true,
        deliveredLocally: ['lan_webhook'],
      });
      expect(posted.map((p) => p.step)).toEqual([1]);
    } finally {
      await deadSiren.close();
    }
  });
});
