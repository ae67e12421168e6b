/**
 * `farmiq devices` and `farmiq operators` against the real edge database: credentials printed once
 * and stored only as hashes, the broker's password file and ACL rewritten on every change, a bulk
 * import from CSV, and the main refusals (a username of another device, an unknown device or
 * operator, a name the table cannot hold).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { hashOperatorToken } from '../../gateways/http/operator-credentials';
import { cliDatabases, cliHome, edgePool, farmiqError, farmiqJson } from './support';

let pool: Pool;
const tenant = randomUUID();
const passwdFile = path.join(cliHome, 'mosquitto', 'passwd');
const aclFile = path.join(cliHome, 'mosquitto', 'acl');

beforeAll(async () => {
  await cliDatabases();
  pool = edgePool();
});
afterAll(() => pool.end());

interface Device {
  username: string;
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
  kind: string;
  revoked_at: string | null;
}

describe('farmiq devices', () => {
  test('add prints the password once, stores its hash and rewrites the broker files; list shows it; revoke removes it', async () => {
    const added = await farmiqJson<{ username: string; password: string }>(
      'devices',
      'add',
      '--tenant',
      tenant,
      '--farm',
      'farm-1',
      '--barn',
      'barn-1',
      '--device',
      'sensor-01',
      '--kind',
      'sensor',
    );
    // The default username is the device's address: <tenant>/<farm>/<barn>/<device>.
    expect(added.username).toBe(`${tenant}/farm-1/barn-1/sensor-01`);
    expect(added.password.length).toBeGreaterThanOrEqual(20);
    const { rows } = await pool.query<{ password_hash: string }>('SELECT password_hash FROM edge_devices WHERE username = $1', [added.username]);
    expect(rows[0].password_hash).toMatch(/^\$7\$/);
    expect(rows[0].password_hash).not.toContain(added.password);
    expect(fs.readFileSync(passwdFile, 'utf8')).toContain(`${added.username}:$7$`);
    expect(fs.readFileSync(aclFile, 'utf8')).toContain(`user ${added.username}`);

    const listed = await farmiqJson<Device[]>('devices', 'list');
    expect(listed.find((d) => d.username === added.username)).toMatchObject({
      tenant_id: tenant,
      farm_id: 'farm-1',
      barn_id: 'barn-1',
      device_id: 'sensor-01',
      kind: 'sensor',
      revoked_at: null,
    });

    expect(await farmiqJson('devices', 'revoke', added.username)).toEqual({ username: added.username, revoked: true });
    expect((await farmiqJson<Device[]>('devices', 'list')).map((d) => d.username)).not.toContain(added.username);
    const all = await farmiqJson<Device[]>('devices', 'list', '--all');
    expect(all.find((d) => d.username === added.username)?.revoked_at).toEqual(expect.any(String));
    expect(fs.readFileSync(passwdFile, 'utf8')).not.toContain(`${added.username}:`);
  });

  test('refusals: a username that belongs to another device (conflict), revoking an unknown device (not_found)', async () => {
    const username = `station-${Date.now().toString(36)}`;
    await farmiqJson('devices', 'add', '--tenant', tenant, '--farm', 'farm-1', '--barn', 'barn-2', '--device', 'scale-01', '--username', username);
    const [taken, unknown] = await Promise.all([
      farmiqError('devices', 'add', '--tenant', tenant, '--farm', 'farm-1', '--barn', 'barn-2', '--device', 'scale-02', '--username', username),
      farmiqError('devices', 'revoke', 'nobody-at-all'),
    ]);
    expect(taken).toMatchObject({ code: 1, error: { code: 'conflict' } });
    expect(taken.error.message).toContain(`username "${username}" already belongs to device ${tenant}/farm-1/barn-2/scale-01`);
    expect(unknown).toMatchObject({ code: 1, error: { code: 'not_found', message: 'no active device with username "nobody-at-all"' } });
  });

  test('import provisions every row of a CSV and prints each password; a bad row refuses the file before any write', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-cli-import-'));
    const csv = path.join(dir, 'devices.csv');
    fs.writeFileSync(
      csv,
      `tenant,farm,barn,device,kind\n${tenant},farm-9,house-1,t-01,sensor\n${tenant},farm-9,house-1,scale-01,weighvision-station\n${tenant},farm-9,house-2,feed-01,feed-dispenser\n`,
    );
    const imported = await farmiqJson<(Device & { password: string })[]>('devices', 'import', csv);
    expect(imported.map((d) => [d.username, d.kind])).toEqual([
      [`${tenant}/farm-9/house-1/t-01`, 'sensor'],
      [`${tenant}/farm-9/house-1/scale-01`, 'weighvision-station'],
      [`${tenant}/farm-9/house-2/feed-01`, 'feed-dispenser'],
    ]);
    expect(new Set(imported.map((d) => d.password)).size).toBe(3);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM edge_devices WHERE tenant_id = $1 AND farm_id = $2', [tenant, 'farm-9']);
    expect(rows[0].n).toBe(3);

    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, `tenant,farm,barn,device,kind\n${tenant},farm-8,h1,ok-01,sensor\n${tenant},farm-8,h1,x-02,toaster\n`);
    const refused = await farmiqError('devices', 'import', bad);
    expect(refused).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
    expect(refused.error.message).toContain('line 3: kind must be one of');
    const none = await pool.query('SELECT count(*)::int AS n FROM edge_devices WHERE tenant_id = $1 AND farm_id = $2', [tenant, 'farm-8']);
    expect(none.rows[0].n).toBe(0);
  });

  test('render writes mosquitto.conf with the port asked for, passwd and acl (what scripts/services.sh runs)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-cli-render-'));
    const r = await farmiqJson<{ conf_file: string; port: number; reloaded: boolean; active_devices: number }>(
      'devices',
      'render',
      '--out-dir',
      out,
      '--port',
      '18830',
      '--no-reload',
    );
    expect(r).toMatchObject({ conf_file: path.join(out, 'mosquitto.conf'), port: 18830, reloaded: false });
    expect(fs.readFileSync(path.join(out, 'mosquitto.conf'), 'utf8')).toMatch(/^listener 18830 127\.0\.0\.1$/m);
    const active = await pool.query('SELECT count(*)::int AS n FROM edge_devices WHERE revoked_at IS NULL');
    expect(r.active_devices).toBe(active.rows[0].n);
    expect(fs.readFileSync(path.join(out, 'passwd'), 'utf8').trim().split('\n')).toHaveLength(active.rows[0].n + 2); // + the bridge user and the alarm siren publisher
    expect(fs.readFileSync(path.join(out, 'passwd'), 'utf8')).toMatch(/^farmiq-alarms:\$7\$/m);
    const refused = await farmiqError('devices', 'render', '--out-dir', out, '--port', '70000', '--no-reload');
    expect(refused).toMatchObject({ code: 1, error: { code: 'invalid_input', message: '--port must be 1-65535, got 70000' } });
  });
});

describe('farmiq operators', () => {
  const name = `cli-${Date.now().toString(36)}`;

  test('add prints a token once and stores only its hash; again a new token; revoke; list', async () => {
    const first = await farmiqJson<{ name: string; token: string }>('operators', 'add', '--name', name);
    expect(first.name).toBe(name);
    expect(first.token).toMatch(/^fiqop_[A-Za-z0-9_-]{43}$/);
    const stored = await pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM edge_operators WHERE name = $1', [name]);
    expect(Buffer.compare(stored.rows[0].token_hash, hashOperatorToken(first.token))).toBe(0);

    const second = await farmiqJson<{ token: string }>('operators', 'add', '--name', name);
    expect(second.token).not.toBe(first.token);
    const rotated = await pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM edge_operators WHERE name = $1', [name]);
    expect(Buffer.compare(rotated.rows[0].token_hash, hashOperatorToken(second.token))).toBe(0);

    const listed = await farmiqJson<{ name: string; rotated_at: string | null; revoked_at: string | null }[]>('operators', 'list');
    expect(listed.find((o) => o.name === name)).toMatchObject({ rotated_at: expect.any(String), revoked_at: null });
    expect(await farmiqJson('operators', 'revoke', name)).toEqual({ name, revoked: true });
    expect((await farmiqJson<{ name: string }[]>('operators', 'list')).map((o) => o.name)).not.toContain(name);
  });

  test('refusals: a name the table cannot hold (invalid_input), revoking an unknown operator (not_found)', async () => {
    const [badName, unknown] = await Promise.all([farmiqError('operators', 'add', '--name', 'two words'), farmiqError('operators', 'revoke', 'nobody-here')]);
    expect(badName).toMatchObject({ code: 1, error: { code: 'invalid_input' } });
    expect(badName.error.message).toContain('operator name must be');
    expect(unknown).toMatchObject({ code: 1, error: { code: 'not_found', message: 'no active operator named "nobody-here"' } });
  });
});
