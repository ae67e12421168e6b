/**
 * `make up` restarts a FarmIQ process whose configuration changed and leaves the others alone;
 * `make status` tells what each one runs (issue 11, item 3; docs/runtime.md). scripts/apps.sh runs
 * here for real, with a throwaway FARMIQ_HOME and one stand-in process (FARMIQ_APPS) that answers
 * /health with the settings it was started with, on a free port.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../config/settings';
import { repoRoot } from '../support/stack';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-apps-'));
const home = path.join(tmp, 'home');
const keyFile = path.join(tmp, 'edge-key.pem');
const configFile = path.join(tmp, 'edge.env');
const fakeApp = path.join(tmp, 'fake-app.mjs');
let port = 0;

fs.writeFileSync(
  fakeApp,
  `import http from 'node:http';
const seen = { key: process.env.EDGE_SIGNING_KEY_FILE ?? null, logLevel: process.env.LOG_LEVEL ?? null };
http.createServer((req, res) => res.end(JSON.stringify(seen))).listen(Number(process.env.BRIDGE_HEALTH_PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
);

/** Only what the test chooses: PATH (and FARMIQ_NODE if the caller set one), nothing of the caller's settings. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.FARMIQ_NODE ? { FARMIQ_NODE: process.env.FARMIQ_NODE } : {}),
    FARMIQ_HOME: home,
    FARMIQ_APPS: `fake|${fakeApp}|http://127.0.0.1:${port}/health`,
    BRIDGE_HEALTH_PORT: String(port),
    SHUTDOWN_GRACE_SECONDS: '5',
    ...extra,
  };
}

function apps(args: string[], extra: Record<string, string> = {}): string {
  const r = spawnSync('bash', ['scripts/apps.sh', ...args], { cwd: repoRoot, env: env(extra), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apps.sh ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const pidFile = path.join(home, 'pids', 'fake.pid');
const recordFile = path.join(home, 'pids', 'fake.config');
const pid = () => Number(fs.readFileSync(pidFile, 'utf8').trim());
/** Running, not a zombie: the stand-in's parent (apps.sh) has exited, so whoever adopted it may reap it late. */
const alive = (p: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
async function seen(): Promise<{ key: string | null; logLevel: string | null }> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { key: string | null; logLevel: string | null };
}

beforeAll(async () => {
  port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  fs.writeFileSync(keyFile, 'key one\n');
});

afterAll(() => {
  spawnSync('bash', ['scripts/apps.sh', 'stop'], { cwd: repoRoot, env: env(), encoding: 'utf8' });
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the settings apps.sh records are every setting config/settings.ts returns', () => {
  const names = execFileSync('bash', ['-c', 'source scripts/lib.sh && setting_names'], { cwd: repoRoot, env: env(), encoding: 'utf8' }).trim().split('\n');
  const settings = Object.keys(loadSettings({}, { localSecrets: false }));
  expect(settings.length).toBeGreaterThan(90);
  expect(settings.filter((n) => !names.includes(n))).toEqual([]);
  expect(names).toEqual(expect.arrayContaining(['EDGE_SIGNING_KEY_FILE', 'FARMIQ_CONFIG', 'NODE_ENV', 'NODE_OPTIONS']));
});

describe('scripts/apps.sh start: restart on a changed configuration', () => {
  let first = 0;
  let second = 0;

  test('the first start records what the process runs with; a second start with the same settings leaves it alone', () => {
    expect(apps(['start'])).toContain('fake: healthy');
    first = pid();
    expect(alive(first)).toBe(true);
    const record = fs.readFileSync(recordFile, 'utf8');
    expect((fs.statSync(recordFile).mode & 0o777).toString(8)).toBe('600');
    // Values are kept hashed: sha256 of the port's digits, first 16 hex digits.
    const portHash = createHash('sha256').update(String(port)).digest('hex').slice(0, 16);
    expect(record).toContain(`fp env BRIDGE_HEALTH_PORT ${portHash}\n`);
    expect(record).not.toContain(`BRIDGE_HEALTH_PORT ${port}`);

    const again = apps(['start']);
    expect(again).toContain(`fake: already running (pid ${first}), configuration unchanged`);
    expect(pid()).toBe(first);
  });

  test('a setting given in the environment restarts it, naming the setting, and the new process has it', async () => {
    const out = apps(['start'], { EDGE_SIGNING_KEY_FILE: keyFile });
    expect(out).toContain(`fake: restarting (pid ${first}): EDGE_SIGNING_KEY_FILE set`);
    second = pid();
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(await seen()).toEqual({ key: keyFile, logLevel: null });
  });

  test('status: running, pid, code version, Node, files read, current; then stale once the key file is edited', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const node = execFileSync('bash', ['-c', 'source scripts/lib.sh && node --version'], { cwd: repoRoot, env: env(), encoding: 'utf8' }).trim();
    const status = apps(['status'], { EDGE_SIGNING_KEY_FILE: keyFile });
    expect(status).toContain(`fake         running, pid ${second}, since `);
    expect(status).toContain(`code ${head.slice(0, 9)}`);
    expect(status).toContain(`node ${node} `);
    expect(status).toContain(`configuration current, read: ${keyFile}, ${path.join(home, 'secrets.env')}`);

    fs.writeFileSync(keyFile, 'key two\n');
    expect(apps(['status'], { EDGE_SIGNING_KEY_FILE: keyFile })).toContain(`configuration stale (${keyFile} edited; make up restarts it)`);
    // Without the variable, status judges against what make up would start now.
    expect(apps(['status'])).toContain('configuration stale (EDGE_SIGNING_KEY_FILE unset; make up restarts it)');
    expect(pid()).toBe(second); // status restarts nothing
  });

  test('FARMIQ_CONFIG: a changed value restarts it, an added comment does not', async () => {
    fs.writeFileSync(configFile, '# farm server settings\nLOG_LEVEL=debug\n');
    const withConfig = { EDGE_SIGNING_KEY_FILE: keyFile, FARMIQ_CONFIG: configFile };
    const out = apps(['start'], withConfig);
    // Three changes since the last start: the key file's contents, and two settings now set.
    const reasons = /fake: restarting \(pid \d+\): (.*)\n/.exec(out)?.[1].split(', ');
    expect(reasons?.sort()).toEqual([`${keyFile} edited`, 'FARMIQ_CONFIG set', 'LOG_LEVEL set'].sort());
    const third = pid();
    expect(await seen()).toEqual({ key: keyFile, logLevel: 'debug' });

    fs.appendFileSync(configFile, '# a note, no setting\n');
    expect(apps(['start'], withConfig)).toContain(`fake: already running (pid ${third}), configuration unchanged`);
    expect(apps(['status'], withConfig)).toContain(`read: ${keyFile}, ${configFile}, ${path.join(home, 'secrets.env')}`);

    fs.writeFileSync(configFile, 'LOG_LEVEL=warn\n');
    expect(apps(['start'], withConfig)).toContain(`fake: restarting (pid ${third}): LOG_LEVEL changed`);
    expect(await seen()).toEqual({ key: keyFile, logLevel: 'warn' });
  });

  test('a process started from another commit or Node, or without a record, is restarted', () => {
    const withConfig = { EDGE_SIGNING_KEY_FILE: keyFile, FARMIQ_CONFIG: configFile };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const record = fs.readFileSync(recordFile, 'utf8');
    // As if it had been started from commit 0000… under Node v20.0.0.
    fs.writeFileSync(
      recordFile,
      record.replace(`fp code HEAD ${head}`, `fp code HEAD ${'0'.repeat(40)}`).replace(/^fp node version .*$/m, 'fp node version v20.0.0'),
    );
    const node = execFileSync('bash', ['-c', 'source scripts/lib.sh && node --version'], { cwd: repoRoot, env: env(), encoding: 'utf8' }).trim();
    const before = pid();
    const out = apps(['start'], withConfig);
    expect(out).toContain(`fake: restarting (pid ${before}): `);
    expect(out).toContain(`code 000000000 -> ${head.slice(0, 9)}`);
    expect(out).toContain(`node v20.0.0 -> ${node}`);

    fs.rmSync(recordFile);
    const last = pid();
    expect(apps(['status'], withConfig)).toContain('configuration stale (no record of the configuration it was started with; make up restarts it)');
    expect(apps(['start'], withConfig)).toContain(`fake: restarting (pid ${last}): no record of the configuration it was started with`);
    expect(fs.existsSync(recordFile)).toBe(true);
  });

  test('stop ends the process and removes its pid file and record', () => {
    const last = pid();
    apps(['stop']);
    expect(alive(last)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(recordFile)).toBe(false);
    expect(apps(['status'])).toContain('fake         stopped');
  });
});
