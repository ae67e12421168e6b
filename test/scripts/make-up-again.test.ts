/**
 * `make up` with the demo, `make down`, `make up` again (issue 11): the project's own scripts,
 * beside the servers `make test` runs (test/support/demo-stack.ts). The second start creates no
 * second copy of anything — directory rows, devices, flocks, the played history — and the sign-in
 * the first start printed still works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { verifyPassword } from '../../auth/passwords';
import { createDemoStack, type DemoStack, type ScriptRun } from '../support/demo-stack';
import { until } from '../support/until';

jest.setTimeout(15 * 60_000);

const farm = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'demo', 'farm.json'), 'utf8')) as { tenant_id: string };
const tenant = farm.tenant_id;

let stack: DemoStack;
let edge: Pool;
let cloud: Pool;

/** What the demo made, counted on both sides; `before` separates the played history from live data. */
async function demoRows(before: Date): Promise<Record<string, number>> {
  const one = async (pool: Pool, sql: string, args: unknown[] = [tenant]) => Number((await pool.query<{ n: string }>(sql, args)).rows[0].n);
  return {
    cloud_users: await one(cloud, 'SELECT count(*) AS n FROM users WHERE tenant_id = $1'),
    cloud_farms: await one(cloud, 'SELECT count(*) AS n FROM farms WHERE tenant_id = $1'),
    cloud_barns: await one(cloud, 'SELECT count(*) AS n FROM barns WHERE tenant_id = $1'),
    cloud_edge_links: await one(cloud, 'SELECT count(*) AS n FROM edge_tenants WHERE tenant_id = $1'),
    edge_devices: await one(edge, 'SELECT count(*) AS n FROM edge_devices WHERE tenant_id = $1'),
    edge_flocks: await one(edge, 'SELECT count(*) AS n FROM flocks WHERE tenant_id = $1'),
    edge_operators: await one(edge, 'SELECT count(*) AS n FROM edge_operators', []),
    history_readings: await one(edge, 'SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND occurred_at < $2', [tenant, before]),
    history_sessions: await one(edge, 'SELECT count(*) AS n FROM weighvision_sessions WHERE tenant_id = $1 AND started_at < $2', [tenant, before]),
    history_feed: await one(edge, 'SELECT count(*) AS n FROM feed_intake_local WHERE tenant_id = $1 AND dispensed_at < $2', [tenant, before]),
    history_daily_counts: await one(
      edge,
      'SELECT count(*) AS n FROM flock_daily_counts WHERE tenant_id = $1 AND day < ($2::timestamptz AT TIME ZONE $3)::date',
      [tenant, before, 'Asia/Bangkok'],
    ),
  };
}

/** The played history as the cloud has it once sync caught up. */
async function cloudHistory(before: Date): Promise<Record<string, number>> {
  const one = async (sql: string) => Number((await cloud.query<{ n: string }>(sql, [tenant, before])).rows[0].n);
  return {
    readings: await one('SELECT count(*) AS n FROM telemetry_raw WHERE tenant_id = $1 AND occurred_at < $2'),
    sessions: await one('SELECT count(*) AS n FROM weighvision_sessions WHERE tenant_id = $1 AND started_at < $2'),
    feed: await one('SELECT count(*) AS n FROM feed_intake WHERE tenant_id = $1 AND dispensed_at < $2'),
  };
}

/** The sign-in block `make up` prints (farmiq demo sign-in): emails and passwords. */
function printedSignIn(run: ScriptRun): string[] {
  return run.output
    .split('\n')
    .filter((l) => /@demo\.farmiq\.local|operator API token/.test(l))
    .map((l) => l.trim());
}

async function processesRunning(): Promise<string[]> {
  const dir = path.join(stack.home, 'pids');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .filter((f) => {
      const pid = Number(fs.readFileSync(path.join(dir, f), 'utf8').trim());
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
}

beforeAll(async () => {
  stack = await createDemoStack({ historyDays: 2 });
  edge = new Pool({ connectionString: stack.edgeDatabaseUrl, max: 2 });
  cloud = new Pool({ connectionString: stack.cloudDatabaseUrl, max: 2 });
});

afterAll(async () => {
  await edge?.end();
  await cloud?.end();
  await stack?.dispose();
});

test('make up, make down, make up: nothing twice, the same sign-in', async () => {
  const started = new Date();
  const first = await stack.up();
  expect({ code: first.code, tail: first.code === 0 ? '' : first.output.slice(-3000) }).toEqual({ code: 0, tail: '' });
  expect(first.output).toContain('FarmIQ is up.');
  const accounts = stack.accounts;
  const signIn = printedSignIn(first);
  for (const u of accounts.users) expect(signIn.join('\n')).toContain(`${u.email}`);
  for (const u of accounts.users) expect(signIn.join('\n')).toContain(u.password);

  // The history was sent when make up returned; the farm server has stored all of it shortly after.
  const played = JSON.parse(fs.readFileSync(path.join(stack.home, 'demo', 'backfill.json'), 'utf8')) as { barns: { sessions: number; feed: number }[] };
  const sent = { sessions: played.barns.reduce((a, b) => a + b.sessions, 0), feed: played.barns.reduce((a, b) => a + b.feed, 0) };
  expect(sent.sessions).toBeGreaterThan(0);
  // The history ends where the live run took over (simulator/handover.ts), a little after make up began.
  const handover = JSON.parse(fs.readFileSync(path.join(stack.home, 'simulator', 'handover.json'), 'utf8')) as { backfill_until: string };
  const historyEnd = new Date(handover.backfill_until);
  expect(historyEnd.getTime()).toBeGreaterThanOrEqual(started.getTime());
  await until(
    'the played history on the farm server',
    120_000,
    async () => {
      const rows = await demoRows(historyEnd);
      return rows.history_sessions === sent.sessions && rows.history_feed === sent.feed;
    },
    500,
  );
  const afterFirst = await demoRows(historyEnd);
  expect(afterFirst).toMatchObject({ cloud_users: 3, cloud_farms: 1, cloud_barns: 2, cloud_edge_links: 1, edge_devices: 9, edge_flocks: 2, edge_operators: 1 });
  // Two days of history for two barns: readings, weighings and feed of both, daily counts.
  expect(afterFirst.history_readings).toBeGreaterThan(100);
  expect(afterFirst.history_sessions).toBeGreaterThan(0);
  expect(afterFirst.history_feed).toBeGreaterThan(0);
  expect(afterFirst.history_daily_counts).toBeGreaterThanOrEqual(2);
  // The history reaches the cloud through sync, complete.
  const edgeHistory = { readings: afterFirst.history_readings, sessions: afterFirst.history_sessions, feed: afterFirst.history_feed };
  await until('the played history in the cloud', 180_000, async () => JSON.stringify(await cloudHistory(historyEnd)) === JSON.stringify(edgeHistory), 1000);

  const down = await stack.down();
  expect(down.code).toBe(0);
  expect(down.output).toContain('FarmIQ is down');
  expect(await processesRunning()).toEqual([]);
  await expect(fetch(`${stack.cloudUrl}/health`)).rejects.toThrow();

  const second = await stack.up();
  expect({ code: second.code, tail: second.code === 0 ? '' : second.output.slice(-3000) }).toEqual({ code: 0, tail: '' });
  expect(printedSignIn(second)).toEqual(signIn);
  expect(stack.accounts).toEqual(accounts);
  expect(fs.readFileSync(path.join(stack.home, 'logs', 'demo.log'), 'utf8')).toMatch(/history already played/);

  const afterSecond = await demoRows(historyEnd);
  expect(afterSecond).toEqual(afterFirst);
  expect(await cloudHistory(historyEnd)).toEqual(edgeHistory);

  // The same sign-in works: the printed passwords are the users' passwords, and the printed
  // operator token opens the farm server's operator API.
  for (const u of accounts.users) {
    const row = await cloud.query<{ password_hash: string; role: string }>(
      'SELECT password_hash, role FROM users WHERE tenant_id = $1 AND lower(email) = lower($2)',
      [tenant, u.email],
    );
    expect(row.rows[0]?.role).toBe(u.role);
    expect(await verifyPassword(u.password, row.rows[0].password_hash)).toBe(true);
  }
  for (const u of accounts.users) {
    const signedIn = await fetch(`${stack.cloudUrl}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: u.email, password: u.password }),
    });
    const body = (await signedIn.json()) as { access_token?: string; user?: { role: string; email: string } };
    expect([u.email, signedIn.status, body.user?.role]).toEqual([u.email, 200, u.role]);
    const me = await fetch(`${stack.cloudUrl}/api/v1/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(me.status).toBe(200);
  }
  const rejects = await fetch(`${stack.edgeOperatorUrl}/api/v1/ingress/rejects/summary`, {
    headers: { authorization: `Bearer ${accounts.edge_operator.token}` },
  });
  expect(rejects.status).toBe(200);
  const refused = await fetch(`${stack.edgeOperatorUrl}/api/v1/ingress/rejects/summary`, { headers: { authorization: 'Bearer fiqop_not-the-token' } });
  expect(refused.status).toBe(401);
});
