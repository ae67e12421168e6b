/**
 * A private Mosquitto per test file: the project's own template (infra/mosquitto/) rendered into
 * a temp dir with a free port, its own persistence dir and auth files written from the given
 * pool's edge_devices, run as a child process. Tests that kill or restart the broker never
 * disturb the `make up` stack or each other.
 *
 *   const broker = await startTestBroker({ pool });
 *   mqtt.connect(broker.url, { username: broker.bridge.username, password: broker.bridge.password })
 *   await provisionDevice(pool, …); await broker.reload();   // new credentials take effect
 *   await broker.kill(); await broker.restart();              // crash and come back, same data dir
 *   await broker.stop();                                      // SIGTERM, and removes the temp dir
 *
 * Like the farm broker, it replaces every client id by the login (use_username_as_clientid): the
 * clientId a test passes is ignored, and one login has one connection at a time - a second
 * connection with the same credentials (device or bridge) closes the first. Give each concurrent
 * client its own device; run one bridge per broker at a time.
 *
 * Like the farm broker, it loads the subscribe guard (.venv/lib/mosquitto/subscribe_guard.so,
 * built by make setup): only testBridgeCredentials may SUBSCRIBE; every other login is refused in
 * the SUBACK. Subscribe with the bridge's credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Pool } from 'pg';
import { defaultSubscribeGuardPath, writeBrokerAuthFiles, writeMosquittoConf } from '../../gateways/mqtt-bridge/broker/render';

/**
 * The bridge user every test broker accepts (read iot/#, readwrite farmiq/bridge/#). Its session
 * is keyed by this username whatever client id a test sends.
 */
export const testBridgeCredentials = { username: 'farmiq-bridge-test', password: 'farmiq-bridge-test-secret' } as const;

export interface TestBroker {
  url: string;
  port: number;
  /** Temp dir with mosquitto.conf, passwd, acl, data/ and mosquitto.log. */
  dir: string;
  logFile: string;
  bridge: { username: string; password: string };
  /** Rewrites passwd/acl from the pool, SIGHUPs the broker and resolves once the reload took effect. */
  reload(): Promise<void>;
  /** SIGTERM (Mosquitto saves its persistence file) and wait for exit; keeps the temp dir. */
  shutdown(): Promise<void>;
  /** SIGKILL: a crash, nothing saved since the last autosave; keeps the temp dir. */
  kill(): Promise<void>;
  /** Starts the broker again on the same port and data dir (after shutdown() or kill()). */
  restart(): Promise<void>;
  /** Shuts down and removes the temp dir. */
  stop(): Promise<void>;
}

// A test that forgets stop() must not leave a broker running after jest exits.
const liveBrokers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of liveBrokers) proc.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True if the credentials are accepted (CONNACK 0). */
function tryConnect(url: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { username, password, reconnectPeriod: 0, connectTimeout: 2000, clean: true });
    const done = (ok: boolean) => {
      client.end(true);
      resolve(ok);
    };
    client.once('connect', () => done(true));
    client.once('error', () => done(false));
    client.once('close', () => done(false));
  });
}

/** A connect-only login with no topic rights, or with the given `topic write` filters. */
export interface TestBrokerUser {
  username: string;
  password: string;
  write?: string[];
}

export async function startTestBroker(opts: { pool: Pool; port?: number; extraUsers?: TestBrokerUser[] }): Promise<TestBroker> {
  if (!fs.existsSync(defaultSubscribeGuardPath)) {
    throw new Error(`the broker's subscribe guard ${defaultSubscribeGuardPath} is missing: run make setup`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const url = `mqtt://127.0.0.1:${port}`;
  const files = {
    confFile: path.join(dir, 'mosquitto.conf'),
    passwordFile: path.join(dir, 'passwd'),
    aclFile: path.join(dir, 'acl'),
    dataDir: path.join(dir, 'data'),
    pidFile: path.join(dir, 'mosquitto.pid'),
    logFile: path.join(dir, 'mosquitto.log'),
  };
  fs.mkdirSync(files.dataDir);
  await writeMosquittoConf(files.confFile, { port, bridgeUsername: testBridgeCredentials.username, ...files });
  // Reload probe: a connect-only user whose password changes on every reload; once it connects
  // with the new password, the broker has read the new files.
  let probe = { username: 'farmiq-reload-probe', password: crypto.randomBytes(12).toString('hex') };
  const writeAuth = () =>
    writeBrokerAuthFiles(opts.pool, {
      passwordFile: files.passwordFile,
      aclFile: files.aclFile,
      bridgeUsername: testBridgeCredentials.username,
      bridgePassword: testBridgeCredentials.password,
      extraUsers: [probe, ...(opts.extraUsers ?? [])],
    });
  await writeAuth();

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const proc = spawn('mosquitto', ['-c', files.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let gone = false;
    liveBrokers.add(proc);
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        gone = true;
        liveBrokers.delete(proc);
        resolve();
      }),
    );
    proc.once('error', (err) => {
      gone = true;
      stderr += `${err.message}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is mosquitto installed? make setup)' : ''}`;
      liveBrokers.delete(proc);
    });
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (gone || Date.now() > deadline) {
        proc.kill('SIGKILL');
        child = undefined;
        throw new Error(`test mosquitto on port ${port} did not start: ${stderr.trim()}\n${tail(files.logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  await launch();

  return {
    url,
    port,
    dir,
    logFile: files.logFile,
    bridge: { ...testBridgeCredentials },
    async reload() {
      probe = { username: probe.username, password: crypto.randomBytes(12).toString('hex') };
      await writeAuth();
      if (!child) throw new Error('test broker is not running');
      child.kill('SIGHUP');
      const deadline = Date.now() + 10_000;
      while (!(await tryConnect(url, probe.username, probe.password))) {
        if (Date.now() > deadline) throw new Error(`test broker did not reload its credentials:\n${tail(files.logFile)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    shutdown: () => signalAndWait('SIGTERM'),
    kill: () => signalAndWait('SIGKILL'),
    async restart() {
      await signalAndWait('SIGTERM');
      await launch();
    },
    async stop() {
      await signalAndWait('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
