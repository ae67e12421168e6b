/**
 * `farmiq demo` on the real databases (the CLI tests' own) and a FARMIQ_HOME of its own: the
 * demo provisions its cloud tenant, users, farm, barns and edge registration and the farm
 * server's flocks and devices; provisioning again (what every `make up` does) creates nothing
 * twice and the same sign-in works; remove deletes every row of the demo tenant on both sides and
 * leaves a marker `make up` reads; provision brings it back.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { verifyPassword } from '../../auth/passwords';
import { cliDatabases, cliHome, cloudPool, edgePool, farmiq } from './support';

const tenant = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'demo', 'farm.json'), 'utf8')).tenant_id as string;
// A farm server id of this run's own: the edge registration outlives a removal (it may serve others).
const edgeId = `edge-demo-cli-${randomUUID().slice(0, 8)}`;
const env = { EDGE_ID: edgeId };

interface Provisioned {
  tenant_id: string;
  farm_id: string;
  barns: string[];
  devices_provisioned: number;
  flocks_placed: number;
  edge_registration: string;
  users: { role: string; email: string; password: string }[];
  edge_key_file: string;
}

let edge: Pool;
let cloud: Pool;
beforeAll(async () => {
  await cliDatabases();
  edge = edgePool();
  cloud = cloudPool();
  await farmiq(['--json', 'demo', 'remove'], env); // a leftover of an earlier run
});
afterAll(async () => {
  await edge.end();
  await cloud.end();
});

const run = (...args: string[]) => farmiqJsonWith<Provisioned>(args);
async function farmiqJsonWith<T>(args: string[]): Promise<T> {
  const r = await farmiq(['--json', ...args], env);
  if (r.code !== 0) throw new Error(`farmiq ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const count = async (pool: Pool, table: string) => Number((await pool.query(`SELECT count(*) FROM ${table} WHERE tenant_id = $1`, [tenant])).rows[0].count);
async function rowCounts() {
  return {
    users: await count(cloud, 'users'),
    farms: await count(cloud, 'farms'),
    barns: await count(cloud, 'barns'),
    edgeTenants: await count(cloud, 'edge_tenants'),
    flocks: await count(edge, 'flocks'),
    devices: await count(edge, 'edge_devices'),
    outbox: await count(edge, 'sync_outbox'),
  };
}

test('provision twice: one demo, the same sign-in; remove deletes it on both sides; provision brings it back', async () => {
  const first = await run('demo', 'provision');
  // demo/farm.json: a broiler house and a pig finisher, each with its flock; climate sensors 2 + 1,
  // and one WeighVision station, feed dispenser and mortality counter per barn: 3 + 3 + 3 = 9 devices.
  expect(first).toMatchObject({
    tenant_id: tenant,
    barns: ['broiler-house-1', 'pig-finisher-1'],
    devices_provisioned: 9,
    flocks_placed: 2,
    edge_registration: 'new',
  });
  expect(first.users.map((u) => u.role)).toEqual(['admin', 'operator', 'viewer']);
  expect(fs.statSync(first.edge_key_file).mode & 0o777).toBe(0o600);
  const after = await rowCounts();
  // Each placement appended its flock.placed to the outbox: 2 events.
  expect(after).toEqual({ users: 3, farms: 1, barns: 2, edgeTenants: 1, flocks: 2, devices: 9, outbox: 2 });

  const second = await run('demo', 'provision');
  expect(second).toMatchObject({ devices_provisioned: 0, flocks_placed: 0, edge_registration: 'existing' });
  expect(second.users).toEqual(first.users);
  expect(await rowCounts()).toEqual(after);
  // The printed password is the one stored (as a hash) for that user.
  for (const u of second.users) {
    const row = (await cloud.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE tenant_id = $1 AND email = $2', [tenant, u.email]))
      .rows[0];
    expect(await verifyPassword(u.password, row.password_hash)).toBe(true);
    expect(await verifyPassword(`${u.password}x`, row.password_hash)).toBe(false);
  }

  const removed = await farmiqJsonWith<{ edge_rows: number; cloud_rows: number }>(['demo', 'remove']);
  expect(removed.edge_rows).toBeGreaterThanOrEqual(2 + 9 + 2); // flocks, devices, outbox (and their day rows)
  expect(await rowCounts()).toEqual({ users: 0, farms: 0, barns: 0, edgeTenants: 0, flocks: 0, devices: 0, outbox: 0 });
  expect((await cloud.query('SELECT 1 FROM tenants WHERE id = $1', [tenant])).rowCount).toBe(0);
  expect(fs.existsSync(path.join(cliHome, 'demo-removed'))).toBe(true);
  expect(fs.existsSync(path.join(cliHome, 'demo'))).toBe(false);
  // The broker's password file no longer holds a demo device.
  expect(fs.readFileSync(path.join(cliHome, 'mosquitto', 'passwd'), 'utf8')).not.toMatch(/broiler-house-1|pig-finisher-1/);

  const back = await run('demo', 'provision');
  // The edge stays registered; its key file went with the demo's files, so it gets a new key.
  expect(back).toMatchObject({ devices_provisioned: 9, flocks_placed: 2, edge_registration: 'key_rotated' });
  expect(fs.existsSync(path.join(cliHome, 'demo-removed'))).toBe(false);
  expect(await rowCounts()).toEqual(after);
});
