/**
 * Runs the real MQTT bridge for tests: in-process (fast, metrics readable) or as a child process
 * running gateways/mqtt-bridge/main.ts exactly as systemd would (so it can be kill -9ed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import type { Pool } from 'pg';
import { MqttBridge } from '../../gateways/mqtt-bridge/bridge';
import { repoRoot, testEdgeDatabaseUrl } from './stack';
import { freePort, type TestBroker } from './broker';

export function bridgeOptions(broker: TestBroker, clientId = `farmiq-test-bridge-${randomUUID().slice(0, 8)}`) {
  return {
    databaseUrl: testEdgeDatabaseUrl,
    mqttUrl: broker.url,
    clientId,
    username: broker.bridge.username,
    password: broker.bridge.password,
    receiveMaximum: 4000,
    edgeId: 'edge-test',
    batchMax: 1000,
    batchWaitMs: 5,
    commitConcurrency: 2,
    maxPayloadBytes: 64 * 1024,
  };
}

export async function startInProcessBridge(broker: TestBroker): Promise<MqttBridge> {
  const bridge = new MqttBridge(bridgeOptions(broker), pino({ level: 'silent' }));
  await bridge.start();
  return bridge;
}

export interface BridgeProcess {
  child: ChildProcess;
  healthUrl: string;
  exited: Promise<number | null>;
  output(): string;
}

/** Starts gateways/mqtt-bridge/main.ts as its own process and waits for /health to say ok. */
export async function spawnBridgeProcess(broker: TestBroker, clientId: string): Promise<BridgeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'gateways/mqtt-bridge/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      EDGE_DATABASE_URL: testEdgeDatabaseUrl,
      MQTT_URL: broker.url,
      MQTT_BRIDGE_USERNAME: broker.bridge.username,
      MQTT_BRIDGE_PASSWORD: broker.bridge.password,
      MQTT_BRIDGE_CLIENT_ID: clientId,
      BRIDGE_HEALTH_PORT: String(port),
      LOG_LEVEL: 'warn',
      FARMIQ_CONFIG: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const healthUrl = `http://127.0.0.1:${port}/health`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bridge exited at start: ${out}`);
    const ok = await fetch(healthUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bridge did not become healthy: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, healthUrl, exited, output: () => out };
}

/** Polls until `count()` reaches `target` (or stops growing for `stallMs`), returning the last value. */
export async function waitForCount(count: () => Promise<number>, target: number, stallMs = 15_000): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await count();
    if (n >= target) return n;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      return n;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function countRows(pool: Pool, table: string, tenantId: string, extra = ''): Promise<number> {
  const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1 ${extra}`, [tenantId]);
  return Number(r.rows[0].n);
}
