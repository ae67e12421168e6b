/**
 * Alarms end to end, through the real processes (./alarms-support.ts):
 *
 *   the simulator drives a barn over its limit (a climate excursion, +10 °C) → private Mosquitto →
 *   MQTT bridge (ingest, the rule evaluator) → the farmAlarm workflow on the edge worker → edge
 *   alarm tables + outbox → cloud HTTP → RabbitMQ → cloud-alarm-service → the notification queue →
 *   the delivery worker → an email at a real SMTP server for the tenant's manager;
 *
 *   the manager signs in to the cloud API and acknowledges → a downlink command → the edge worker's
 *   downlink pulls and applies it → the workflow is acknowledged and its ladder stops → the cloud
 *   shows the alarm acknowledged by that user and the command applied;
 *
 *   with cloud HTTP stopped, another barn goes over: the alarm is raised on the edge all the same
 *   and delivered on the farm's own channels (the MQTT siren, retained, and the LAN webhook), its
 *   history says so; once cloud HTTP is back, the alarm reaches the cloud under the same id.
 *
 * The rule is set through the edge operator API with a short raise delay and a ladder that emails
 * the managers at once, then every minute; the default temperature rules (the flock's band, the
 * swing) are deleted there too, so the excursion raises this one rule's alarm only.
 */
import mqtt from 'mqtt';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { ensureUser } from '../../auth/admin';
import { excursionAdd } from '../../cli/commands/simulator';
import { loadSettings } from '../../config/settings';
import { alarmStateQuery, type AlarmStatus } from '../../alarms/alarm-contract';
import { cloudReachability } from '../../alarms/cloud-reachability';
import { sirenTopic, type SirenMessage } from '../../alarms/local-channels/mqtt-siren';
import type { AlarmRuleSpec } from '../../domain/downlink/commands';
import { excursionsFileFor } from '../../simulator/excursions';
import { parseFarmDescription } from '../../simulator/farm-description';
import { writeFarmState, type FarmState } from '../../simulator/farm-state';
import { planWindow } from '../../simulator/plan';
import { provisionFarm } from '../../simulator/provision';
import { Simulator } from '../../simulator/simulator';
import { until } from '../support/until';
import { AlarmStack, cloudGraceSeconds } from './alarms-support';

jest.setTimeout(600_000);

const tenant = randomUUID();
const farmId = 'farm-alarms';
const ruleId = 'it-barn-hot';
const seed = 13;
const manager = { email: `manager-${tenant.slice(0, 8)}@alarms.example`, password: `pw-${randomUUID()}` };
/** Steps at 0 s and 60 s, then a reminder every 60 s: step n falls due n minutes after the raise. */
const stepEverySeconds = 60;
/** Default rules deleted for the suite's farm. */
const quietDefaults = ['feed-outage', 'temp-high', 'temp-low', 'temp-rise'];

const farm = parseFarmDescription({
  tenant_id: tenant,
  farm_id: farmId,
  barns: ['barn-1', 'barn-2'].map((barnId, i) => ({
    barn_id: barnId,
    flock: { breed: 'ross-308', head_count: 1000, age_at_placement_days: 0, placed_days_ago: 10 },
    climate_sensors: [`climate-${i + 1}`],
  })),
  live: { climate_interval_s: 2, session_interval_s: 3600, feed_interval_s: 3600, mortality_interval_s: 3600 },
  backfill: { climate_interval_s: 3600, session_interval_s: 43200, feed_interval_s: 21600, mortality_interval_s: 86400 },
  faults: { dropout: 0, broken: 0 },
  weighing: { readings_min: 3, readings_max: 5, images: 0, two_animals: 0, half_on: 0 },
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-alarms-e2e-'));
const farmFile = path.join(dir, 'farm.json');
const stateFile = path.join(dir, 'state.json');
const cliSettings = () => loadSettings({ SIMULATOR_FARM_FILE: farmFile, SIMULATOR_STATE_FILE: stateFile, FARMIQ_HOME: dir }, { localSecrets: false });

let alarms: AlarmStack;
let state: FarmState;
let simulator: Simulator | undefined;
const stopSimulator = new AbortController();
let simulating: Promise<unknown> | undefined;
let threshold = 0;

interface EdgeAlarm {
  alarm_id: string;
  workflow_id: string;
  state: string;
  barn_id: string;
  raised_at: Date;
  acknowledged_by: string | null;
  acknowledged_via: string | null;
  acknowledged_command_id: string | null;
  acknowledgement_note: string | null;
  value: number | null;
  threshold: number | null;
}

const edgeAlarmOf = async (barnId: string): Promise<EdgeAlarm | undefined> =>
  (
    await alarms.db.edge.query<EdgeAlarm>(
      `SELECT alarm_id::text, workflow_id, state, barn_id, raised_at, acknowledged_by, acknowledged_via, acknowledged_command_id::text, acknowledgement_note, value, threshold
         FROM alarms WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND rule_id = $4 ORDER BY raised_at DESC LIMIT 1`,
      [tenant, farmId, barnId, ruleId],
    )
  ).rows[0];

const cloudAlarmOf = async (alarmId: string) =>
  (
    await alarms.db.cloud.query<{ state: string; edge_id: string | null; barn_id: string; last_step: number | null; acknowledged_by: string | null }>(
      'SELECT state, edge_id, barn_id, last_step, acknowledged_by FROM alarms WHERE tenant_id = $1 AND alarm_id = $2',
      [tenant, alarmId],
    )
  ).rows[0];

interface Escalated {
  step: number;
  kind: string;
  channels: string[];
  delivered_locally: string[];
  escalated_at: string;
}

/** The alarm.escalated events the edge appended to its outbox for this alarm, in step order. */
const escalationsOf = async (alarmId: string): Promise<Escalated[]> =>
  (
    await alarms.db.edge.query<{ payload: Escalated }>(
      `SELECT envelope->'payload' AS payload FROM sync_outbox
        WHERE tenant_id = $1 AND event_type = 'alarm.escalated' AND envelope->'payload'->>'alarm_id' = $2`,
      [tenant, alarmId],
    )
  ).rows
    .map((r) => r.payload)
    .sort((a, b) => a.step - b.step);

const historyOf = async (alarmId: string) =>
  (await alarms.db.edge.query<{ what: string; detail: string }>('SELECT what, detail FROM alarm_history WHERE alarm_id = $1 ORDER BY at, id', [alarmId])).rows;

const statusOf = (a: EdgeAlarm): Promise<AlarmStatus> => alarms.stack.temporal.workflow.getHandle(a.workflow_id).query(alarmStateQuery);

/** Runs a step; on failure the processes' logs are printed with the error. */
async function withLogs<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    console.error(`${(err as Error).message}\n${alarms?.logs(60) ?? ''}`);
    throw err;
  }
}

/** What the sensors read without an excursion over the next hour, per barn. */
function normalTemperatures(from: Date): number[] {
  return planWindow(state, seed, farm.live, from, new Date(from.getTime() + 3_600_000))
    .filter((a) => a.kind === 'reading' && a.metric === 'temperature')
    .map((a) => (a.kind === 'reading' ? a.value : NaN));
}

function hotRule(): AlarmRuleSpec {
  return {
    rule_id: ruleId,
    farm_id: farmId,
    kind: 'limit',
    enabled: true,
    severity: 'warning',
    metric: 'temperature',
    bound: 'max',
    threshold,
    raise_delay_seconds: 4,
    clear_delay_seconds: 60,
    hysteresis: 1,
    ladder: {
      steps: [
        { after_seconds: 0, channels: ['email'], recipients: ['role:admin'] },
        { after_seconds: stepEverySeconds, channels: ['email'], recipients: ['role:admin'] },
      ],
      reminder_every_seconds: stepEverySeconds,
    },
  };
}

beforeAll(async () => {
  alarms = await AlarmStack.create('alarms', tenant);
  await withLogs(async () => {
    await alarms.startAll();
    // The tenant's manager (the cloud's admin role: `role:admin` names the admins) who is emailed and acknowledges.
    await ensureUser(alarms.db.cloud, { tenantId: tenant, email: manager.email, role: 'admin', displayName: 'Farm manager', password: manager.password });

    state = (await provisionFarm(alarms.db.edge, farm)).state;
    fs.writeFileSync(farmFile, JSON.stringify(farm));
    writeFarmState(stateFile, state);
    await alarms.broker.reload();

    // A limit between the barns' normal temperatures and the same + 10 °C.
    const normal = normalTemperatures(new Date());
    const [lo, hi] = [Math.min(...normal), Math.max(...normal)];
    threshold = Math.round((hi + 3) * 10) / 10;
    expect(lo + 10 - 1).toBeGreaterThan(threshold + 2);

    const put = await alarms.operator('PUT', `/api/v1/alarm-rules/${ruleId}?tenant_id=${tenant}`, hotRule());
    expect(put.status).toBe(200);
    // The default temperature rules would judge the same excursion, and feed-outage a farm that
    // has no feed dispenser (its critical ladder sounds the same barn siren).
    for (const id of quietDefaults) {
      expect((await alarms.operator('DELETE', `/api/v1/alarm-rules/${id}?tenant_id=${tenant}&farm_id=${farmId}`)).status).toBe(200);
    }
    const listed = await alarms.operator('GET', `/api/v1/alarm-rules?tenant_id=${tenant}&farm_id=${farmId}`);
    expect(listed.body.rules.map((r: { rule_id: string }) => r.rule_id)).toContain(ruleId);
    expect(listed.body.deleted_defaults.sort()).toEqual([...quietDefaults].sort());

    simulator = new Simulator({
      state,
      seed,
      mqttUrl: alarms.broker.url,
      stationHttpBase: 'http://127.0.0.1:9',
      log: pino({ level: 'silent' }),
      excursionsFile: excursionsFileFor(stateFile),
    });
    simulating = simulator.run({ signal: stopSimulator.signal, tickMs: 200 });
    // The farm plays normally and its readings reach the cloud: the cloud counts as reachable.
    await until('normal readings of both barns in the cloud', 90_000, async () => {
      const r = await alarms.db.cloud.query<{ n: string }>('SELECT count(DISTINCT barn_id) AS n FROM telemetry_raw WHERE tenant_id = $1', [tenant]);
      return Number(r.rows[0].n) === 2;
    });
    expect((await cloudReachability(alarms.db.edge, cloudGraceSeconds)).reachable).toBe(true);
  });
}, 600_000);

afterAll(async () => {
  stopSimulator.abort();
  await simulating?.catch(() => undefined);
  await simulator?.close().catch(() => undefined);
  await alarms?.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);

let raised: EdgeAlarm;

test('the simulator drives barn-1 over its limit: the alarm is raised on the edge, synced, and the manager gets an email', () =>
  withLogs(async () => {
    const started = Date.now();
    excursionAdd(cliSettings(), { barn: 'barn-1', metric: 'temperature', add: 10, minutes: 30 });

    raised = await until('the alarm on the edge', 90_000, () => edgeAlarmOf('barn-1'));
    expect(raised.state).toBe('raised');
    expect(raised.raised_at.getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(raised.threshold).toBe(threshold);
    expect(raised.value).toBeGreaterThan(threshold);
    const status = await statusOf(raised);
    expect(status).toMatchObject({ alarmId: raised.alarm_id, state: 'raised', tenantId: tenant, farmId, barnId: 'barn-1', ruleId });
    // Only this barn: barn-2 plays on normally.
    expect(await edgeAlarmOf('barn-2')).toBeUndefined();

    // Step 0 by email, with the cloud there: nothing delivered locally.
    const [step0] = await until(
      'step 0 in the outbox',
      60_000,
      async () => (await escalationsOf(raised.alarm_id)).length > 0 && escalationsOf(raised.alarm_id),
    );
    expect(step0).toMatchObject({ step: 0, kind: 'step', channels: ['email'], delivered_locally: [] });

    const cloud = await until('the alarm in the cloud', 120_000, async () => {
      const a = await cloudAlarmOf(raised.alarm_id);
      return a?.last_step === 0 && a;
    });
    expect(cloud).toMatchObject({ state: 'raised', edge_id: alarms.stack.edgeId, barn_id: 'barn-1' });

    const mail = await until('the email at the SMTP server', 120_000, () => alarms.smtp.mails.find((m) => m.to.includes(manager.email)));
    expect(mail.raw).toContain(ruleId);
    expect(mail.raw).toContain('barn-1');
  }));

test('acknowledged through the cloud API: the command reaches the edge, the ladder stops, the cloud shows who and the command applied', () =>
  withLogs(async () => {
    expect(raised).toBeDefined();
    const signIn = await alarms.cloud('POST', '/api/v1/auth/sign-in', undefined, { email: manager.email, password: manager.password });
    expect(signIn.status).toBe(200);
    const token = signIn.body.access_token as string;

    const ack = await alarms.cloud('POST', `/api/v1/alarms/${raised.alarm_id}/acknowledge`, token, { note: 'on my way' });
    expect(ack.status).toBe(202);
    expect(ack.body).toMatchObject({ command_id: expect.any(String), status: 'pending' });
    const commandId = ack.body.command_id as string;

    // The edge recorded the command, applied it and ran its effect (the signal).
    const commandOnEdge = async () =>
      (
        await alarms.db.edge.query<{ type: string; status: string; result: string; effect_done_at: Date | null }>(
          'SELECT type, status, result, effect_done_at FROM downlink_commands WHERE command_id = $1',
          [commandId],
        )
      ).rows[0];
    expect(await until('the command on the edge', 90_000, commandOnEdge)).toMatchObject({ type: 'alarm.acknowledge', status: 'applied' });
    await until('the effect of the command done on the edge', 60_000, async () => (await commandOnEdge()).effect_done_at);

    const acked = await until('the workflow acknowledged', 60_000, async () => {
      const s = await statusOf(raised);
      return s.state === 'acknowledged' && s;
    });
    expect(acked.acknowledgedBy).toBe(manager.email);
    const onEdge = await until('the edge row acknowledged', 30_000, async () => {
      const a = await edgeAlarmOf('barn-1');
      return a?.state === 'acknowledged' && a;
    });
    expect(onEdge).toMatchObject({
      alarm_id: raised.alarm_id,
      acknowledged_by: manager.email,
      acknowledged_via: 'dashboard',
      acknowledged_command_id: commandId,
      acknowledgement_note: 'on my way',
    });

    // The cloud: acknowledged by the manager (once the edge's alarm.acknowledged came back), the command applied.
    const detail = await until('the cloud alarm acknowledged', 120_000, async () => {
      const r = await alarms.cloud('GET', `/api/v1/alarms/${raised.alarm_id}`, token);
      return r.status === 200 && r.body.alarm.state === 'acknowledged' && r.body;
    });
    expect(detail.alarm).toMatchObject({ alarm_id: raised.alarm_id, acknowledged_by: manager.email, pending_acknowledgement: null });
    expect(detail.history.map((h: { what: string }) => h.what)).toEqual(expect.arrayContaining(['raised', 'escalated', 'acknowledged']));
    const commands = await until('the command applied in the cloud', 120_000, async () => {
      const r = await alarms.cloud('GET', `/api/v1/edges/${alarms.stack.edgeId}/commands`, token);
      const item = r.status === 200 && (r.body.items as { command_id: string; status: string }[]).find((c) => c.command_id === commandId);
      return item && item.status === 'applied' && item;
    });
    expect(commands).toMatchObject({ type: 'alarm.acknowledge', applied_at: expect.any(String), created_by: manager.email });

    // The ladder stopped: wait past the time its next step would have fallen due; no step came.
    const stepsAtAck = acked.nextStep;
    const nextDue = raised.raised_at.getTime() + stepsAtAck * stepEverySeconds * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, nextDue - Date.now()) + 15_000));
    const after = await statusOf(raised);
    expect(after.state).toBe('acknowledged');
    expect(after.nextStep).toBe(stepsAtAck);
    const escalations = await escalationsOf(raised.alarm_id);
    expect(escalations.map((e) => e.step)).toEqual([...Array(stepsAtAck).keys()]);
    const ackedAt = Date.parse(acked.history.find((h) => h.what === 'acknowledged')!.at);
    for (const e of escalations) expect(Date.parse(e.escalated_at)).toBeLessThanOrEqual(ackedAt);
    // Nothing more was emailed after the acknowledgement than the steps before it.
    const mails = alarms.smtp.mails.filter((m) => m.to.includes(manager.email)).length;
    expect(mails).toBeGreaterThanOrEqual(1);
    expect(mails).toBeLessThanOrEqual(stepsAtAck);
  }));

test('with the cloud stopped, barn-2 goes over: raised on the edge, delivered on the siren and the LAN webhook, in the cloud once it is back', () =>
  withLogs(async () => {
    await alarms.stack.cloudHttp.stop();
    await until(
      'the cloud counted unreachable',
      (cloudGraceSeconds + 60) * 1000,
      async () => !(await cloudReachability(alarms.db.edge, cloudGraceSeconds)).reachable,
    );

    excursionAdd(cliSettings(), { barn: 'barn-2', metric: 'temperature', add: 10, minutes: 30 });
    const offline = await until('the barn-2 alarm on the edge', 90_000, () => edgeAlarmOf('barn-2'));
    expect(offline.alarm_id).not.toBe(raised.alarm_id);
    expect((await statusOf(offline)).state).toBe('raised');

    // Step 0 on the farm's own channels, and its history says so.
    const local = (h: { what: string }) => h.what === 'delivered_locally' || h.what === 'local_delivery_failed';
    const history = await until('step 0 on both local channels', 60_000, async () => {
      const h = await historyOf(offline.alarm_id);
      return h.filter(local).length >= 2 && h;
    });
    expect(history.filter(local).map((e) => `${e.what} ${e.detail.split(':')[0]}`)).toEqual(['delivered_locally mqtt_siren', 'delivered_locally lan_webhook']);
    const [step0] = await escalationsOf(offline.alarm_id);
    expect(step0).toMatchObject({ step: 0, delivered_locally: ['mqtt_siren', 'lan_webhook'] });
    const hook = alarms.lanWebhook.requests.find((r) => r.body?.alarm_id === offline.alarm_id);
    expect(hook?.body).toMatchObject({ tenant_id: tenant, farm_id: farmId, barn_id: 'barn-2', rule_id: ruleId, siren: 'on', step: 0 });

    // The siren is retained: a siren relay of the farm that subscribes now, with its own device
    // login, reads it (the bridge keeps running).
    const relay = await alarms.sirenDevice(farmId);
    const siren = await mqtt.connectAsync(alarms.broker.url, { username: relay.username, password: relay.password, protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const topic = sirenTopic({ tenantId: tenant, farmId, barnId: 'barn-2' });
      const received = new Promise<{ message: SirenMessage; retain: boolean }>((resolve) =>
        siren.on('message', (t, payload, packet) => {
          if (t === topic) resolve({ message: JSON.parse(payload.toString()) as SirenMessage, retain: packet.retain });
        }),
      );
      await siren.subscribeAsync(topic, { qos: 1 });
      const { message, retain } = await until('the siren message', 20_000, () =>
        Promise.race([received, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]),
      );
      expect(retain).toBe(true);
      expect(message).toMatchObject({ alarm_id: offline.alarm_id, rule_id: ruleId, severity: 'warning', siren: 'on', state: 'raised' });
    } finally {
      await siren.endAsync();
    }

    // Nothing of it in the cloud while it is away; once it is back, the same alarm.
    expect(await cloudAlarmOf(offline.alarm_id)).toBeUndefined();
    await alarms.stack.cloudHttp.start();
    const cloud = await until('the offline alarm in the cloud', 240_000, async () => {
      const a = await cloudAlarmOf(offline.alarm_id);
      return a?.last_step === 0 && a;
    });
    expect(cloud).toMatchObject({ state: 'raised', edge_id: alarms.stack.edgeId, barn_id: 'barn-2' });
  }));
