/**
 * The whole local stack with the demo farm, started by the project's own `make up` script
 * (scripts/up.sh) and stopped by `make down` (scripts/down.sh) — for the tests that must see what
 * a newcomer sees: the README's two commands, the demo's sign-in, the dashboard in a browser.
 *
 * It runs beside the servers `make test` started, without touching them or their data:
 *   - its own FARMIQ_HOME (a temporary directory): pid files, logs, the demo's accounts and keys;
 *   - its own Mosquitto and S3 server (scripts/services.sh starts and stops them there, on free ports);
 *   - Postgres, RabbitMQ and Temporal are the running ones (FARMIQ_SKIP_…=1), with databases, a
 *     vhost and namespaces of its own, prepared by services.sh itself against the running servers;
 *   - the install's secrets file, so the roles and the broker users have this install's passwords;
 *   - every FarmIQ process on a free port.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { ensureDatabase } from './databases';
import { asAppRole, farmiqHome, localSecrets, repoRoot, stackSetting, temporalCliPath, testCloudDatabaseUrl, testEdgeDatabaseUrl } from './stack';

export interface ScriptRun {
  code: number;
  output: string;
}

export interface DemoAccount {
  role: 'admin' | 'operator' | 'viewer';
  email: string;
  password: string;
}

export interface DemoStack {
  home: string;
  env: Record<string, string>;
  cloudUrl: string;
  edgeOperatorUrl: string;
  edgeDatabaseUrl: string;
  cloudDatabaseUrl: string;
  /** `make up` (scripts/up.sh) in this stack's environment. */
  up(): Promise<ScriptRun>;
  /** `make down` (scripts/down.sh). */
  down(): Promise<ScriptRun>;
  /** The demo's sign-in details ($FARMIQ_HOME/demo/accounts.json), once `up` has run. */
  readonly accounts: { users: DemoAccount[]; edge_operator: { name: string; token: string } };
  /** `make down` if anything still runs, and the temporary FARMIQ_HOME removed. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function renamed(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function runScript(script: string, env: Record<string, string>, timeoutMs: number): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [path.join(repoRoot, 'scripts', script)],
      { cwd: repoRoot, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

function runServices(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile('bash', [path.join(repoRoot, 'scripts', 'services.sh'), ...args], { cwd: repoRoot, env, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

function quiet(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => execFile(file, args, { timeout: 60_000, env }, (_err, stdout) => resolve(stdout)));
}

/** Names of a run's vhost and namespaces start with its database tag's, so leftovers are found per tag. */
const runPrefix = (tag: string) => ({ vhost: `farmiq_${tag}_`, namespace: `farmiq-${tag.replace(/_/g, '-')}-` });

/** rabbitmqctl against the running node of `make test` (its Erlang cookie is under FARMIQ_HOME, as services.sh keeps it). */
function rabbitmqctl(args: string[]): Promise<string> {
  const port = new URL(stackSetting('AMQP_URL', 'amqp://farmiq:farmiq@127.0.0.1:5672/farmiq')).port || '5672';
  return quiet('/usr/lib/rabbitmq/bin/rabbitmqctl', ['-n', `farmiq-${port}@localhost`, '-q', ...args], {
    ...process.env,
    HOME: path.join(farmiqHome, 'rabbitmq'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  });
}

/**
 * Removes what a run left on the shared servers: its vhost (queues with that run's messages) and
 * its Temporal namespaces (closed workflows whose ids a new run reuses would refuse to start).
 * Without a name, every harness leftover (a run that crashed before it cleaned up).
 */
async function removeRunState(address: string, tag: string, run?: { vhost: string; namespaces: string[] }): Promise<void> {
  const prefix = runPrefix(tag);
  const vhosts = run ? [run.vhost] : (await rabbitmqctl(['list_vhosts'])).split('\n').filter((v) => v.startsWith(prefix.vhost));
  for (const v of vhosts) await rabbitmqctl(['delete_vhost', v]);
  let namespaces = run?.namespaces;
  if (!namespaces) {
    const listed = await quiet(temporalCliPath, ['operator', 'namespace', 'list', '--address', address, '-o', 'json']);
    try {
      namespaces = (JSON.parse(listed) as { namespaceInfo?: { name?: string } }[])
        .map((n) => n.namespaceInfo?.name ?? '')
        .filter((n) => n.startsWith(prefix.namespace));
    } catch {
      namespaces = [];
    }
  }
  for (const ns of namespaces) await quiet(temporalCliPath, ['operator', 'namespace', 'delete', '--address', address, '-n', ns, '--yes']);
}

/** Drops a database this harness owns (never one of make up's or the other tests'). */
async function dropDatabase(url: string, tag: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!name.endsWith(`_${tag}`) || !tag.startsWith('demo_')) throw new Error(`refusing to drop ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export interface DemoStackOptions {
  /** FARMIQ_DEMO_HISTORY_DAYS: the past days the first `make up` plays (default 2, to keep it short). */
  historyDays?: number;
  /** Names its databases farmiq_edge_<tag> and farmiq_cloud_<tag> (default demo_test; a benchmark uses its own). */
  databaseTag?: `demo_${string}`;
}

/**
 * A fresh demo stack (empty databases, vhost and namespaces of its own), not yet started: call
 * up(). One per databaseTag at a time.
 */
export async function createDemoStack(opts: DemoStackOptions = {}): Promise<DemoStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-demo-stack-'));
  const tag = opts.databaseTag ?? 'demo_test';
  const edgeDatabaseUrl = renamed(testEdgeDatabaseUrl, `farmiq_edge_${tag}`);
  const cloudDatabaseUrl = renamed(testCloudDatabaseUrl, `farmiq_cloud_${tag}`);
  const amqp = new URL(stackSetting('AMQP_URL', 'amqp://farmiq:farmiq@127.0.0.1:5672/farmiq'));
  // Names of this run's own: a vhost and namespaces are removed at dispose (and leftovers at the next start).
  const run = Math.random().toString(36).slice(2, 8);
  amqp.pathname = `/${runPrefix(tag).vhost}${run}`;
  const ports = Object.fromEntries(
    await Promise.all(
      [
        'EDGE_HTTP_PORT',
        'EDGE_STATION_HTTP_PORT',
        'CLOUD_HTTP_PORT',
        'BRIDGE_HEALTH_PORT',
        'SIMULATOR_HEALTH_PORT',
        'EDGE_WORKER_HEALTH_PORT',
        'CLOUD_WORKER_HEALTH_PORT',
        'CLOUD_CONSUMERS_HEALTH_PORT',
        'NOTIFICATIONS_HEALTH_PORT',
        'MQTT',
        'S3',
        'SMTP',
      ].map(async (name) => [name, String(await freePort())] as const),
    ),
  );
  const secretsFile = process.env.FARMIQ_SECRETS_FILE || path.join(farmiqHome, 'secrets.env');
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(FARMIQ_|EDGE_|CLOUD_|SIMULATOR_|TEMPORAL_|MQTT_|AMQP_|S3_|SMTP_|JEST_)/.test(k)),
  ) as Record<string, string>;
  const namespaces = { TEMPORAL_EDGE_NAMESPACE: `${runPrefix(tag).namespace}edge-${run}`, TEMPORAL_CLOUD_NAMESPACE: `${runPrefix(tag).namespace}cloud-${run}` };
  const temporalAddress = stackSetting('TEMPORAL_ADDRESS', '127.0.0.1:7233');
  const env: Record<string, string> = {
    ...inherited,
    FARMIQ_HOME: home,
    FARMIQ_CONFIG: '',
    FARMIQ_SECRETS_FILE: secretsFile,
    FARMIQ_SKIP_POSTGRES: '1',
    FARMIQ_SKIP_RABBITMQ: '1',
    FARMIQ_SKIP_TEMPORAL: '1',
    FARMIQ_DEMO_HISTORY_DAYS: String(opts.historyDays ?? 2),
    EDGE_DATABASE_URL: edgeDatabaseUrl,
    CLOUD_DATABASE_URL: cloudDatabaseUrl,
    CLOUD_APP_DATABASE_URL: asAppRole(cloudDatabaseUrl),
    AMQP_URL: amqp.toString(),
    ...namespaces,
    TEMPORAL_ADDRESS: temporalAddress,
    MQTT_URL: `mqtt://127.0.0.1:${ports.MQTT}`,
    S3_ENDPOINT: `http://127.0.0.1:${ports.S3}`,
    SMTP_URL: `smtp://127.0.0.1:${ports.SMTP}`,
    CLOUD_INGEST_URL: `http://127.0.0.1:${ports.CLOUD_HTTP_PORT}`,
    ...Object.fromEntries(Object.entries(ports).filter(([k]) => k.endsWith('_PORT'))),
    LOG_LEVEL: 'info',
  };
  if (!localSecrets.EDGE_DATABASE_URL && !fs.existsSync(secretsFile)) throw new Error(`no secrets file at ${secretsFile}: run make services first`);

  // A clean start: the harness's own databases dropped and created again, then the running
  // servers asked (by services.sh, as make services would) for the vhost, the namespaces with
  // their search attributes, and the migrations.
  await removeRunState(temporalAddress, tag);
  await dropDatabase(edgeDatabaseUrl, tag);
  await dropDatabase(cloudDatabaseUrl, tag);
  await ensureDatabase(edgeDatabaseUrl);
  await ensureDatabase(cloudDatabaseUrl);
  const prepareEnv = { ...inherited, FARMIQ_HOME: farmiqHome, FARMIQ_CONFIG: '', FARMIQ_SECRETS_FILE: secretsFile, AMQP_URL: env.AMQP_URL, ...namespaces };
  const prepared = await runServices(['start', 'rabbitmq', 'temporal'], prepareEnv);
  if (prepared.code !== 0) throw new Error(`preparing the vhost and namespaces failed:\n${prepared.output}`);

  let upRan = false;
  const stack: DemoStack = {
    home,
    env,
    cloudUrl: `http://127.0.0.1:${ports.CLOUD_HTTP_PORT}`,
    edgeOperatorUrl: `http://127.0.0.1:${ports.EDGE_HTTP_PORT}`,
    edgeDatabaseUrl,
    cloudDatabaseUrl,
    async up() {
      upRan = true;
      return runScript('up.sh', env, 600_000);
    },
    down: () => runScript('down.sh', env, 180_000),
    get accounts() {
      return JSON.parse(fs.readFileSync(path.join(home, 'demo', 'accounts.json'), 'utf8')) as DemoStack['accounts'];
    },
    async dispose() {
      if (upRan) await runScript('down.sh', env, 180_000);
      await removeRunState(temporalAddress, tag, { vhost: amqp.pathname.slice(1), namespaces: Object.values(namespaces) });
      if (!process.env.FARMIQ_KEEP_DEMO_STACK) fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return stack;
}

/** createDemoStack() and its first `make up`, which must succeed. */
export async function startDemoStack(opts: DemoStackOptions = {}): Promise<DemoStack> {
  const stack = await createDemoStack(opts);
  const first = await stack.up();
  if (first.code !== 0) {
    const logs = fs.existsSync(path.join(stack.home, 'logs')) ? fs.readdirSync(path.join(stack.home, 'logs')) : [];
    await stack.dispose();
    throw new Error(`make up failed (${first.code}):\n${first.output.slice(-4000)}\nlogs: ${logs.join(', ')}`);
  }
  return stack;
}
