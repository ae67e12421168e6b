/**
 * Hostile soak (issue: hardening). A steady stream of valid readings (default 2,000/s) runs
 * through the real broker and the real bridge into a fresh edge database while one authenticated
 * device publishes at least 10,000 hostile messages of every kind the bridge handles
 * (test/support/hostile-messages.ts). Before the soak, the same valid stream runs alone: that is
 * this machine's latency floor in the same run, and the soak's latency is reported against it.
 *
 * Writes bench/results/hostile-<timestamp>.json with valid_sent, valid_lost (must be 0),
 * hostile_sent, hostile_unrecorded (must be 0), max_valid_latency_ms (publish → commit of valid
 * readings during the soak) and bridge_disconnects (must be 0), and more.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { Pool } from 'pg';
import { MqttBridge } from '../gateways/mqtt-bridge/bridge';
import { provisionDevice, type ProvisionedDevice } from '../gateways/mqtt-bridge/broker/credentials';
import { startTestBroker, type TestBroker } from '../test/support/broker';
import { repoRoot } from '../test/support/stack';
import { runDeviceProcess } from './support/device-process';
import { cpuSeconds, freshDatabase, latencyHistogram, machine } from './support/stats';

const benchDatabase = 'farmiq_edge_bench_hostile';

type Device = ProvisionedDevice;

export interface HostileBenchOptions {
  databaseUrl: string;
  /** Valid readings per second, in both phases. */
  rate: number;
  soakSeconds: number;
  baselineSeconds: number;
  hostileCount: number;
}

function validStream(broker: TestBroker, d: Device, rate: number, seconds: number) {
  return runDeviceProcess<{ published: number; seconds: number }>('bench/support/publisher.ts', broker.url, d, { count: rate * seconds, rate });
}

function hostileStream(broker: TestBroker, d: Device, count: number, rate: number) {
  type Sent = { published: number; seconds: number; byKind: Record<string, number>; byReason: Record<string, number> };
  return runDeviceProcess<Sent>('bench/support/hostile-publisher.ts', broker.url, d, { count, rate });
}

async function until(probe: () => Promise<number>, target: number, stallMs: number): Promise<number> {
  let last = -1;
  let changed = Date.now();
  for (;;) {
    const n = await probe();
    if (n >= target) return n;
    if (n !== last) [last, changed] = [n, Date.now()];
    else if (Date.now() - changed > stallMs) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Lines of the broker's log that say the bridge's connection ended (Mosquitto logs every one). */
function bridgeDisconnects(broker: TestBroker, ids: string[]): number {
  const log = fs.readFileSync(broker.logFile, 'utf8').split('\n');
  return log.filter((l) => ids.some((id) => l.includes(id)) && /disconnect|closing|socket error|exceeded timeout|already connected/i.test(l)).length;
}

export async function benchHostile(opts: HostileBenchOptions): Promise<void> {
  const databaseUrl = await freshDatabase(opts.databaseUrl, benchDatabase);
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const broker = await startTestBroker({ pool });
  const newDevice = async (deviceId: string): Promise<Device> => {
    const address = { tenantId: randomUUID(), farmId: 'farm-1', barnId: 'barn-1', deviceId };
    return { ...address, ...(await provisionDevice(pool, address)) };
  };
  const baselineDevice = await newDevice('sensor-baseline');
  const soakDevice = await newDevice('sensor-soak');
  const hostileDevice = await newDevice('sensor-broken');
  await broker.reload();
  const machineFacts = machine();

  const clientId = `bench-hostile-bridge-${randomUUID().slice(0, 8)}`;
  const bridge = new MqttBridge(
    {
      databaseUrl,
      mqttUrl: broker.url,
      clientId,
      username: broker.bridge.username,
      password: broker.bridge.password,
      receiveMaximum: 4000,
      edgeId: 'edge-bench',
      batchMax: 1000,
      batchWaitMs: 5,
      commitConcurrency: 2,
      maxPayloadBytes: 64 * 1024,
    },
    pino({ level: 'error' }),
  );
  // Publish → commit of each valid reading, per phase (the publisher stamps `ts` at send time).
  const latency = new Map([
    [baselineDevice.tenantId, latencyHistogram()],
    [soakDevice.tenantId, latencyHistogram()],
  ]);
  const submit = bridge.pipeline.submit.bind(bridge.pipeline);
  bridge.pipeline.submit = (topic, payload) => {
    const histogram = [...latency].find(([tenant]) => topic.includes(tenant))?.[1];
    if (!histogram) return submit(topic, payload);
    const at = payload.indexOf('"ts":"');
    const sentAt = Date.parse(payload.toString('latin1', at + 6, at + 30));
    return submit(topic, payload).then(() => histogram.recordValue(Math.max(1, Date.now() - sentAt)));
  };
  // Health as gateways/mqtt-bridge/main.ts reports it, sampled every 250 ms.
  let unhealthySamples = 0;
  let samples = 0;
  const healthTimer = setInterval(() => {
    const st = bridge.pipeline.status();
    samples++;
    if (st.lastError && !(st.lastResult && st.lastResult.at > st.lastError.at)) unhealthySamples++;
  }, 250);

  const count = async (table: string, tenant: string) =>
    Number((await pool.query(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenant])).rows[0].n);
  let result: Record<string, unknown>;
  await bridge.start();
  try {
    console.log(`baseline: ${opts.rate} valid readings/s for ${opts.baselineSeconds} s, nothing hostile`);
    const baseline = await validStream(broker, baselineDevice, opts.rate, opts.baselineSeconds);
    await until(() => count('telemetry_raw', baselineDevice.tenantId), baseline.published, 30_000);

    const hostileRate = Math.ceil(opts.hostileCount / (opts.soakSeconds * 0.9));
    console.log(`soak: ${opts.rate} valid readings/s for ${opts.soakSeconds} s, and ${opts.hostileCount} hostile messages at ${hostileRate}/s from one device`);
    const before = cpuSeconds();
    const started = Date.now();
    const [valid, hostile] = await Promise.all([
      validStream(broker, soakDevice, opts.rate, opts.soakSeconds),
      hostileStream(broker, hostileDevice, opts.hostileCount, hostileRate),
    ]);
    const validStored = await until(() => count('telemetry_raw', soakDevice.tenantId), valid.published, 30_000);
    const hostileRecorded = await until(() => count('ingress_rejects', hostileDevice.tenantId), hostile.published, 30_000);
    const wall = (Date.now() - started) / 1000;
    const after = cpuSeconds();
    const disconnects = bridgeDisconnects(broker, [clientId, broker.bridge.username]);

    const { rows: reasons } = await pool.query<{ reason: string; n: string }>(
      `SELECT reason, count(*) AS n FROM ingress_rejects WHERE tenant_id = $1 GROUP BY reason ORDER BY reason`,
      [hostileDevice.tenantId],
    );
    const recordedByReason = Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)]));
    const expectedExact = Object.entries(hostile.byReason).filter(([r]) => !r.startsWith('~') && r !== 'any');
    const reasonMismatches = expectedExact
      .filter(([r, n]) => recordedByReason[r] !== n)
      .map(([r, n]) => ({ reason: r, sent: n, recorded: recordedByReason[r] ?? 0 }));
    const soakLatency = latency.get(soakDevice.tenantId)!;
    const floorLatency = latency.get(baselineDevice.tenantId)!;
    result = {
      benchmark: 'hostile',
      at: new Date().toISOString(),
      machine: machineFacts,
      valid_rate_per_second: opts.rate,
      soak_seconds: opts.soakSeconds,
      valid_sent: valid.published,
      valid_lost: valid.published - validStored,
      hostile_sent: hostile.published,
      hostile_unrecorded: Math.max(0, hostile.published - hostileRecorded),
      hostile_reject_rows: hostileRecorded,
      hostile_accepted_as_readings: await count('telemetry_raw', hostileDevice.tenantId),
      hostile_reason_mismatches: reasonMismatches,
      hostile_kinds: hostile.byKind,
      hostile_recorded_by_reason: recordedByReason,
      max_valid_latency_ms: soakLatency.maxValue,
      valid_latency_ms: { p50: soakLatency.getValueAtPercentile(50), p99: soakLatency.getValueAtPercentile(99), max: soakLatency.maxValue },
      floor_latency_ms: {
        p50: floorLatency.getValueAtPercentile(50),
        p99: floorLatency.getValueAtPercentile(99),
        max: floorLatency.maxValue,
        seconds: opts.baselineSeconds,
        valid_sent: baseline.published,
      },
      ratio_p99_to_floor: soakLatency.getValueAtPercentile(99) / floorLatency.getValueAtPercentile(99),
      ratio_max_to_floor: soakLatency.maxValue / floorLatency.maxValue,
      bridge_disconnects: disconnects,
      bridge_unhealthy_samples: unhealthySamples,
      bridge_health_samples: samples,
      cpu_seconds: { wall, bridgeProcess: after.self - before.self, postgres: after.postgres - before.postgres, mosquitto: after.mosquitto - before.mosquitto },
    };
  } finally {
    clearInterval(healthTimer);
    await bridge.stop();
    await broker.stop();
    await pool.end();
  }
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `hostile-${String(result.at).replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const r = result as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  console.log(
    [
      '',
      `valid     : ${r.valid_sent} sent, ${r.valid_lost} lost`,
      `hostile   : ${r.hostile_sent} sent, ${r.hostile_unrecorded} unrecorded, ${r.hostile_accepted_as_readings} accepted as readings, ${r.hostile_reason_mismatches.length} reason mismatches`,
      `latency   : soak p50 ${r.valid_latency_ms.p50} / p99 ${r.valid_latency_ms.p99} / max ${r.max_valid_latency_ms} ms; floor p50 ${r.floor_latency_ms.p50} / p99 ${r.floor_latency_ms.p99} / max ${r.floor_latency_ms.max} ms`,
      `ratio     : p99 ${r.ratio_p99_to_floor.toFixed(2)}×, max ${r.ratio_max_to_floor.toFixed(2)}× the floor`,
      `bridge    : ${r.bridge_disconnects} disconnects, unhealthy in ${r.bridge_unhealthy_samples} of ${r.bridge_health_samples} samples`,
      `written to ${path.relative(repoRoot, file)}`,
    ].join('\n'),
  );
}
