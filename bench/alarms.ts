/**
 * Alarms benchmark (issue 13):  npm run bench -- alarms
 *
 * Every real process of the path: the edge worker (alarm workflows, their activities, the
 * downlink), the cloud HTTP process and the cloud consumers (test/integration/support.ts
 * SyncStack, on databases farmiq_{edge,cloud}_bench_alarms), a private Mosquitto, and the MQTT
 * bridge with its rule evaluator in this process (so the moment each reading commits is seen).
 * Measured in one run:
 *
 *   (a) reading commit → alarm raised: a steady stream of readings (default 2,000/s, inside the
 *       limits) from a device process, and meanwhile, every half second, one reading over the
 *       limit in a barn of its own. From the commit of that reading (the bridge's after-commit
 *       hook) to the alarm.raised row the alarm workflow's first activity commits in the edge
 *       outbox (created_at), p50/p95;
 *   (b) the floor, in the same phase under the same load: an empty workflow
 *       (bench/support/empty-workflow.ts) started as the evaluator starts an alarm
 *       (signalWithStart), to its one no-op activity running, p50/p95. Ratio = p95 ÷ floor p95;
 *   (c) the edge worker with 1,000 alarms open at once: its resident memory and CPU while idle
 *       before, while opening them, and holding them for a minute (timers pending);
 *   (d) downlink round trip: POST /api/v1/alarms/:id/acknowledge as a signed-in operator → the
 *       command applied on the farm server (edge_commands.applied_at, the edge's clock) → its
 *       outcome back in the cloud (recorded_at) → the alarm acknowledged in the cloud (the edge's
 *       alarm.acknowledged event through sync and the consumer), p50/p95, one at a time.
 *
 * Results: bench/results/alarms-<time>.json.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createUser, issueTokenForUser } from '../auth/admin';
import { tokenConfig } from '../auth/tokens';
import { settings } from '../config/settings';
import { telemetryTopic } from '../domain/contracts/topics';
import type { AlarmRuleSpec } from '../domain/downlink/commands';
import { uuidV5 } from '../domain/ids';
import { alarmWorkflowId } from '../domain/temporal/workflow-ids';
import type { AlarmInput } from '../alarms/alarm-contract';
import { defaultRules } from '../alarms/default-rules';
import { temporalConditionSignaller } from '../alarms/evaluator';
import { upsertRule } from '../alarms/rule-store';
import { escalationLadder } from '../alarms/rules';
import { MqttBridge } from '../gateways/mqtt-bridge/bridge';
import { provisionDevice, type ProvisionedDevice } from '../gateways/mqtt-bridge/broker/credentials';
import { openDatabases, SyncStack, type Databases } from '../test/integration/support';
import { startTestBroker, type TestBroker } from '../test/support/broker';
import { repoRoot } from '../test/support/stack';
import { runDeviceProcess } from './support/device-process';
import type { EmptyActivities } from './support/empty-workflow';
import { distribution, machine } from './support/stats';

export interface AlarmsBenchOptions {
  rate: number;
  seconds: number;
  openAlarms: number;
  holdSeconds: number;
  roundTrips: number;
}

const farmId = 'farm-1';
const ruleId = 'bench-temperature-high';
const limitC = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bench's one rule: raise at once over 40 °C, tell the app only, remind every 10 minutes. */
const benchRule: AlarmRuleSpec = {
  rule_id: ruleId,
  farm_id: farmId,
  kind: 'limit',
  enabled: true,
  severity: 'warning',
  metric: 'temperature',
  bound: 'max',
  threshold: limitC,
  raise_delay_seconds: 0,
  clear_delay_seconds: 0,
  hysteresis: 1,
  ladder: { steps: [{ after_seconds: 0, channels: ['in_app'], recipients: ['role:operator'] }], reminder_every_seconds: 600 },
};

/** Resident memory (MiB) and CPU seconds so far of one process, from /proc. */
function processFacts(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rssMiB: Math.round((rssKb / 1024) * 10) / 10, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const count = async (db: Databases['edge'], sql: string, params: unknown[]) => Number((await db.query<{ n: string }>(sql, params)).rows[0].n);

/** (b): the empty workflow on its own worker in this process, started every `everyMs` while `running()`. */
async function floorSampler(address: string, namespace: string) {
  const taskQueue = `bench-alarms-floor-${randomUUID().slice(0, 8)}`;
  const ran = new Map<string, number>();
  const activities: EmptyActivities = {
    async emptyStep(id) {
      ran.set(id, Date.now());
    },
  };
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    activities,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./support/empty-workflow'), logger: new DefaultLogger('ERROR') }),
  });
  const running = worker.run();
  const samples: number[] = [];
  return {
    async sample(client: SyncStack['temporal']) {
      const id = `bench-alarms-floor/${randomUUID()}`;
      const started = Date.now();
      await client.workflow.signalWithStart('emptyAlarm', { workflowId: id, taskQueue, args: [id], signal: 'raise', signalArgs: [id] });
      const at = await until('the empty workflow', 60_000, async () => ran.get(id), 2);
      samples.push(at - started);
    },
    samples,
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export async function benchAlarms(opts: AlarmsBenchOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const s = settings();
  const facts = machine();
  const tenant = randomUUID();
  const db = await openDatabases('bench-alarms', { edge: 'farmiq_edge_bench_alarms', cloud: 'farmiq_cloud_bench_alarms' });
  const stack = await SyncStack.create({ label: 'alarms', db, tenants: [tenant], edgeEnv: { LOG_LEVEL: 'error' } });
  let broker: TestBroker | undefined;
  let bridge: MqttBridge | undefined;
  let floor: Awaited<ReturnType<typeof floorSampler>> | undefined;
  const clients: mqtt.MqttClient[] = [];
  try {
    // Only the bench's rule judges: the farm's defaults are stored disabled.
    for (const rule of defaultRules(farmId)) await upsertRule(db.edge, tenant, { ...rule, enabled: false }, { updatedBy: 'bench', source: 'operator_api' });
    await upsertRule(db.edge, tenant, benchRule, { updatedBy: 'bench', source: 'operator_api' });

    broker = await startTestBroker({ pool: db.edge });
    const steady = { tenantId: tenant, farmId, barnId: 'barn-steady', deviceId: 'sensor-steady' };
    const steadyDevice: ProvisionedDevice = { ...steady, ...(await provisionDevice(db.edge, steady)) };
    const hotCount = Math.ceil(opts.seconds * 2);
    const hot: ProvisionedDevice[] = [];
    for (let i = 0; i < hotCount; i++) {
      const a = { tenantId: tenant, farmId, barnId: `barn-hot-${i}`, deviceId: `sensor-hot-${i}` };
      hot.push({ ...a, ...(await provisionDevice(db.edge, a)) });
    }
    await broker.reload();

    await stack.startAll();
    // When the evaluator hands each raise to Temporal: splits commit → raised into the evaluator's
    // part and the workflow's.
    const signalledAt = new Map<string, number>();
    const temporalSignaller = temporalConditionSignaller(stack.temporal, stack.taskQueue);
    const timedSignaller: typeof temporalSignaller = {
      raise: (workflowId, input) => {
        if (input.barnId) signalledAt.set(input.barnId, Date.now());
        return temporalSignaller.raise(workflowId, input);
      },
      clear: (workflowId, clear) => temporalSignaller.clear(workflowId, clear),
    };
    bridge = new MqttBridge(
      {
        databaseUrl: db.edgeUrl,
        mqttUrl: broker.url,
        clientId: `bench-alarms-bridge-${randomUUID().slice(0, 8)}`,
        username: broker.bridge.username,
        password: broker.bridge.password,
        receiveMaximum: 4000,
        edgeId: stack.edgeId,
        batchMax: 1000,
        batchWaitMs: 5,
        commitConcurrency: 2,
        maxPayloadBytes: 64 * 1024,
        alarms: { signaller: timedSignaller, liveWindowSeconds: 600 },
      },
      pino({ level: 'error' }),
    );
    // The commit of each over-limit reading, seen where the evaluator is handed it.
    const hotEvents = new Map<string, string>();
    const committedAt = new Map<string, number>();
    const evaluate = bridge.pipeline.afterCommit!;
    bridge.pipeline.afterCommit = (rows) => {
      const now = Date.now();
      for (const r of rows) {
        const barn = hotEvents.get(r.event.event_id);
        if (barn) committedAt.set(barn, now);
      }
      evaluate(rows);
    };
    await bridge.start();
    floor = await floorSampler(s.TEMPORAL_ADDRESS, s.TEMPORAL_EDGE_NAMESPACE);
    for (let i = 0; i < 5; i++) await floor.sample(stack.temporal); // warm-up
    floor.samples.length = 0;

    // (a) + (b)
    for (const d of hot) {
      clients.push(await mqtt.connectAsync(broker.url, { clientId: `bench-${d.deviceId}`, username: d.username, password: d.password, protocolVersion: 5 }));
    }
    console.log(
      `(a) ${opts.rate} readings/s for ${opts.seconds} s inside the limits, and ${hotCount} readings over ${limitC} °C, one every 0.5 s in barns of their own`,
    );
    const stream = runDeviceProcess<{ published: number; seconds: number; rate: number }>('bench/support/publisher.ts', broker.url, steadyDevice, {
      count: opts.rate * opts.seconds,
      rate: opts.rate,
    });
    const streamStarted = Date.now();
    for (let i = 0; i < hot.length; i++) {
      const due = streamStarted + 1000 + i * 500;
      if (due > Date.now()) await sleep(due - Date.now());
      const d = hot[i];
      const eventId = randomUUID();
      hotEvents.set(eventId, d.barnId);
      const body = JSON.stringify({
        schema_version: '1.0',
        event_id: eventId,
        trace_id: `bench-hot-${i}`,
        event_type: 'telemetry.reading',
        tenant_id: tenant,
        device_id: d.deviceId,
        ts: new Date().toISOString(),
        payload: { metric: 'temperature', value: limitC + 5, unit: 'C' },
      });
      await clients[i].publishAsync(telemetryTopic(d, 'temperature'), body, { qos: 1 });
      await floor.sample(stack.temporal);
    }
    const streamed = await stream;
    const raisedRows = await until('every hot barn raised', 120_000, async () => {
      const r = await db.edge.query<{ barn: string; at: Date }>(
        `SELECT envelope->'payload'->>'barn_id' AS barn, created_at AS at FROM sync_outbox WHERE tenant_id = $1 AND event_type = 'alarm.raised' AND envelope->'payload'->>'barn_id' LIKE 'barn-hot-%'`,
        [tenant],
      );
      return r.rowCount === hotCount ? r.rows : undefined;
    });
    const raiseMs = raisedRows.map((r) => r.at.getTime() - committedAt.get(r.barn)!);
    const toSignalMs = raisedRows.map((r) => signalledAt.get(r.barn)! - committedAt.get(r.barn)!);
    const signalToRaisedMs = raisedRows.map((r) => r.at.getTime() - signalledAt.get(r.barn)!);
    const steadyStored = await count(db.edge, `SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND device_id = 'sensor-steady'`, [tenant]);
    const raise = distribution(raiseMs);
    const toSignal = distribution(toSignalMs);
    const signalToRaised = distribution(signalToRaisedMs);
    const floorMs = distribution(floor.samples);
    console.log(
      `    commit → raised p50 ${raise.p50} ms, p95 ${raise.p95} ms (n ${raise.n}); floor (empty workflow) p50 ${floorMs.p50} ms, p95 ${floorMs.p95} ms; ratio p95 ${(raise.p95 / floorMs.p95).toFixed(2)}; steady stream ${streamed.rate.toFixed(0)}/s, ${steadyStored} of ${streamed.published} stored`,
    );
    console.log(
      `    of which commit → handed to Temporal by the evaluator p50 ${toSignal.p50} ms, p95 ${toSignal.p95} ms; → alarm.raised committed by the workflow p50 ${signalToRaised.p50} ms, p95 ${signalToRaised.p95} ms`,
    );

    // (c) 1,000 alarms open at once, once the stream has reached the cloud (its drain is not the alarms' cost)
    await until(
      'the steady stream synced',
      600_000,
      async () => ((await count(db.edge, `SELECT count(*) AS n FROM sync_outbox WHERE status NOT IN ('acked', 'dlq', 'failed')`, [])) === 0 ? true : undefined),
      1000,
    );
    const pid = stack.edgeWorker.pid!;
    await sleep(15_000);
    const idleStart = processFacts(pid);
    await sleep(20_000);
    const idleEnd = processFacts(pid);
    console.log(`(c) opening ${opts.openAlarms} alarms at once (signalWithStart as the evaluator does)`);
    const signaller = temporalConditionSignaller(stack.temporal, stack.taskQueue);
    const openStarted = Date.now();
    const ladder = escalationLadder(benchRule);
    const inputs: AlarmInput[] = Array.from({ length: opts.openAlarms }, (_, i) => {
      const barnId = `barn-open-${i}`;
      const wfId = alarmWorkflowId(tenant, farmId, barnId, ruleId);
      const at = new Date().toISOString();
      return {
        tenantId: tenant,
        farmId,
        barnId,
        ruleId,
        raise: {
          alarmId: uuidV5(`${wfId}|${at}`),
          ruleKind: 'limit',
          severity: 'warning',
          metric: 'temperature',
          value: limitC + 5,
          threshold: limitC,
          unit: 'C',
          conditionSince: at,
          raisedAt: at,
          summary: `${barnId} temperature ${limitC + 5} C above ${limitC} C`,
          ladder,
        },
      };
    });
    for (let i = 0; i < inputs.length; i += 20) {
      await Promise.all(inputs.slice(i, i + 20).map((input) => signaller.raise(alarmWorkflowId(tenant, farmId, input.barnId, ruleId), input)));
    }
    await until(
      `${opts.openAlarms} alarms raised and told (step 0)`,
      600_000,
      async () => {
        const n = await count(
          db.edge,
          `SELECT count(*) AS n FROM alarm_history h JOIN alarms a USING (alarm_id) WHERE a.tenant_id = $1 AND a.barn_id LIKE 'barn-open-%' AND h.what = 'escalated'`,
          [tenant],
        );
        return n >= opts.openAlarms ? n : undefined;
      },
      250,
    );
    const openSeconds = (Date.now() - openStarted) / 1000;
    const opened = processFacts(pid);
    await sleep(opts.holdSeconds * 1000);
    const held = processFacts(pid);
    const open = await count(db.edge, `SELECT count(*) AS n FROM alarms WHERE tenant_id = $1 AND state <> 'cleared'`, [tenant]);
    const worker = {
      idle: { rssMiB: idleEnd.rssMiB, cpuPercent: Math.round(((idleEnd.cpuSeconds - idleStart.cpuSeconds) / 20) * 1000) / 10 },
      opening: {
        seconds: Math.round(openSeconds * 10) / 10,
        cpuSeconds: Math.round((opened.cpuSeconds - idleEnd.cpuSeconds) * 10) / 10,
        rssMiB: opened.rssMiB,
      },
      holding: {
        openAlarms: open,
        rssMiB: held.rssMiB,
        cpuPercent: Math.round(((held.cpuSeconds - opened.cpuSeconds) / opts.holdSeconds) * 1000) / 10,
        seconds: opts.holdSeconds,
      },
    };
    console.log(
      `    idle ${worker.idle.rssMiB} MiB, ${worker.idle.cpuPercent} % CPU; opening took ${worker.opening.seconds} s and ${worker.opening.cpuSeconds} CPU s; holding ${open} open: ${worker.holding.rssMiB} MiB, ${worker.holding.cpuPercent} % CPU over ${opts.holdSeconds} s`,
    );

    // (d) downlink round trip
    console.log(`(d) ${opts.roundTrips} acknowledgements through the cloud API, one at a time`);
    const operator = await createUser(db.cloud, { tenantId: tenant, email: `operator-${tenant.slice(0, 8)}@bench.example`, role: 'operator' });
    const { token } = await issueTokenForUser(db.cloud, operator.id, tokenConfig(s));
    const targets = await until(
      'the open alarms in the cloud',
      600_000,
      async () => {
        const r = await db.cloud.query<{ alarm_id: string }>(
          `SELECT alarm_id FROM alarms WHERE tenant_id = $1 AND state = 'raised' AND summary IS NOT NULL AND barn_id LIKE 'barn-open-%' ORDER BY barn_id LIMIT $2`,
          [tenant, opts.roundTrips],
        );
        return r.rowCount === opts.roundTrips ? r.rows.map((x) => x.alarm_id) : undefined;
      },
      500,
    );
    const applied: number[] = [];
    const recorded: number[] = [];
    const acknowledged: number[] = [];
    for (const alarmId of targets) {
      const started = Date.now();
      const res = await fetch(`${stack.cloudUrl}/api/v1/alarms/${alarmId}/acknowledge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'bench' }),
      });
      if (res.status !== 202) throw new Error(`acknowledge answered ${res.status}: ${await res.text()}`);
      const { command_id: commandId } = (await res.json()) as { command_id: string };
      const row = await until(
        'the outcome in the cloud',
        120_000,
        async () =>
          (
            await db.cloud.query<{ applied_at: Date; recorded_at: Date }>(
              'SELECT applied_at, recorded_at FROM edge_commands WHERE command_id = $1 AND recorded_at IS NOT NULL',
              [commandId],
            )
          ).rows[0],
        5,
      );
      applied.push(row.applied_at.getTime() - started);
      recorded.push(row.recorded_at.getTime() - started);
      await until(
        'the alarm acknowledged in the cloud',
        120_000,
        async () => (await db.cloud.query(`SELECT 1 FROM alarms WHERE tenant_id = $1 AND alarm_id = $2 AND state = 'acknowledged'`, [tenant, alarmId])).rows[0],
        5,
      );
      acknowledged.push(Date.now() - started);
    }
    const trip = { applied: distribution(applied), outcomeRecorded: distribution(recorded), alarmAcknowledged: distribution(acknowledged) };
    console.log(
      `    → applied on the edge p50 ${trip.applied.p50} ms, p95 ${trip.applied.p95} ms; → outcome in the cloud p50 ${trip.outcomeRecorded.p50} ms, p95 ${trip.outcomeRecorded.p95} ms; → alarm acknowledged in the cloud p50 ${trip.alarmAcknowledged.p50} ms, p95 ${trip.alarmAcknowledged.p95} ms; floor p95 ${floorMs.p95} ms`,
    );

    const result = {
      benchmark: 'alarms',
      at: new Date().toISOString(),
      machine: facts,
      options: opts,
      commitToRaisedMs: raise,
      commitToSignalledMs: toSignal,
      signalledToRaisedMs: signalToRaised,
      floorEmptyWorkflowMs: floorMs,
      ratioP95: Math.round((raise.p95 / floorMs.p95) * 100) / 100,
      steadyStream: { ...streamed, stored: steadyStored },
      edgeWorker: worker,
      downlinkRoundTripMs: trip,
      downlinkRatioP95: Math.round((trip.outcomeRecorded.p95 / floorMs.p95) * 100) / 100,
    };
    const out = path.join(repoRoot, 'bench', 'results', `alarms-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2));
    console.log(`results: ${path.relative(repoRoot, out)}`);
  } catch (err) {
    console.error(stack.logs());
    throw err;
  } finally {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await bridge?.stop().catch(() => undefined);
    await floor?.close().catch(() => undefined);
    for await (const run of stack.temporal.workflow.list({ query: `WorkflowId STARTS_WITH 'alarm/${tenant}/' AND ExecutionStatus = 'Running'` })) {
      await stack.temporal.workflow
        .getHandle(run.workflowId)
        .terminate('bench over')
        .catch(() => undefined);
    }
    await stack.cleanup();
    await broker?.shutdown().catch(() => undefined);
    await db.close();
  }
}
