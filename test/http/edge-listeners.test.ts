/**
 * The farm server's two audiences (issue 8, part 4), against the real edge test database over real
 * HTTP:
 *
 *   - operator listener: every route but /health and /metrics answers 401 without a credential, to
 *     a station's own (valid) device credentials, to a device password sent as a bearer token, to a
 *     garbage or revoked token — and works with an operator token; unknown paths say nothing either
 *   - station listener: the media routes with device credentials, none of the operator routes, and
 *     an operator token is no device credential there
 *   - both: /health and /metrics open; a charset other than UTF-8 → 415 unsupported_charset on every
 *     route, kept in ingress_rejects on the station listener
 *   - edge-main.ts as a real process: stations reach their listener on a non-loopback address, the
 *     operator listener is not reachable there
 *   - `farmiq operators`: a token printed once, stored only as its hash, rotated by `add`, refused
 *     after `revoke`
 *
 * Routes are read from the apps' own router stacks, so a route added later is swept without
 * touching this file.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import pino from 'pino';
import { createPool } from '../../db/pool';
import { createEdgeOperatorApp, createEdgeStationApp } from '../../gateways/http/edge-app';
import { hashOperatorToken, newOperatorToken } from '../../gateways/http/operator-credentials';
import { freePort } from '../support/broker';
import { FarmiqProcess } from '../support/processes';
import { repoRoot, testEdgeDatabaseUrl } from '../support/stack';
import {
  basic,
  bearer,
  emptyObjectStore,
  fakeSyncControl,
  memorySessions,
  newOperator,
  newStation,
  publicRoutes,
  request,
  routeKey,
  routesOf,
  serve,
  type Served,
  type SweptRoute,
  type TestStation,
} from './support';

const log = pino({ level: 'silent' });
const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const badCharsets = ['latin1', 'ISO-8859-1', 'utf-16', 'utf8', 'us-ascii', '"windows-1252"'];

let pool: Pool;
let station: TestStation;
let operator: { name: string; token: string };
let revoked: { name: string; token: string };
let operatorApp: ReturnType<typeof createEdgeOperatorApp>;
let stationApp: ReturnType<typeof createEdgeStationApp>;
let operatorSrv: Served;
let stationSrv: Served;
const sessions = new Set<string>(['sweep-session-1']);
const operatorNames: string[] = [];
const control = fakeSyncControl();

/** A path with its parameters filled (outbox row ids are numbers). */
const fill = (path: string) => path.replace(/:(\w+)/g, '1');

beforeAll(async () => {
  pool = createPool(testEdgeDatabaseUrl, { applicationName: 'farmiq-test-edge-listeners' });
  station = await newStation(pool);
  operator = await newOperator(pool, 'listeners');
  revoked = await newOperator(pool, 'listeners-revoked');
  operatorNames.push(operator.name, revoked.name);
  await pool.query('UPDATE edge_operators SET revoked_at = now() WHERE name = $1', [revoked.name]);
  operatorApp = createEdgeOperatorApp({ pool, log, syncControl: control, edgeId: 'edge-sweep' });
  stationApp = createEdgeStationApp({ pool, log, sessions: memorySessions(station, sessions), objectStore: emptyObjectStore(), sessionWaitMs: 0 });
  operatorSrv = await serve(operatorApp);
  stationSrv = await serve(stationApp);
});

afterAll(async () => {
  await operatorSrv?.close();
  await stationSrv?.close();
  await pool.query('DELETE FROM edge_operators WHERE name = ANY($1)', [operatorNames]);
  await pool.query('DELETE FROM media_objects WHERE tenant_id = $1', [station.tenantId]);
  await pool.query('DELETE FROM ingress_rejects WHERE detail LIKE $1', [`%${station.username}%`]);
  await pool.query('DELETE FROM edge_devices WHERE tenant_id = $1', [station.tenantId]);
  await pool.end();
});

const operatorRoutes = () => routesOf(operatorApp).filter((r) => !publicRoutes.has(routeKey(r)));
const stationRoutes = () => routesOf(stationApp).filter((r) => !publicRoutes.has(routeKey(r)));

function send(base: string, r: SweptRoute, headers: Record<string, string>, body?: string) {
  const withBody = mutating.has(r.method);
  return request(base, r.method, fill(r.path), {
    headers: { ...(withBody ? { 'content-type': 'application/json' } : {}), ...headers },
    body: withBody ? (body ?? '{}') : undefined,
  });
}

describe('the operator listener', () => {
  test('the walk finds the operator routes', () => {
    expect(routesOf(operatorApp).map(routeKey)).toEqual(
      expect.arrayContaining([
        'GET /health',
        'GET /metrics',
        'GET /api/v1/ingress/rejects',
        'GET /api/v1/ingress/rejects/summary',
        'GET /api/v1/sync/status',
        'POST /api/v1/sync/pause',
        'POST /api/v1/sync/resume',
        'POST /api/v1/sync/retry-now',
        'GET /api/v1/sync/dlq',
        'GET /api/v1/sync/dlq/:id',
        'POST /api/v1/sync/dlq/requeue',
      ]),
    );
  });

  test('every route but /health and /metrics is 401 without an operator credential, and with device credentials', async () => {
    const attempts: Array<[string, Record<string, string>]> = [
      ['no credential', {}],
      ["a station's own valid Basic credentials", basic(station.username, station.password)],
      ["a station's password as a bearer token", bearer(station.password)],
      ["a station's username:password as a bearer token", bearer(`${station.username}:${station.password}`)],
      ['a garbage bearer token', bearer('garbage.token.value')],
      ['a well-formed token nobody holds', bearer(newOperatorToken())],
      ['a revoked operator token', bearer(revoked.token)],
      ['the token in another scheme', { authorization: `Token ${operator.token}` }],
      ['the token without a scheme', { authorization: operator.token }],
    ];
    const wrong: string[] = [];
    for (const r of operatorRoutes()) {
      for (const [what, headers] of attempts) {
        const res = await send(operatorSrv.url, r, headers);
        if (res.status !== 401 || res.body?.error?.code !== 'operator_unauthenticated' || !/^Bearer /.test(res.headers.get('www-authenticate') ?? '')) {
          wrong.push(`${routeKey(r)} with ${what} → ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(operatorRoutes().length).toBeGreaterThanOrEqual(9);
  });

  test('nothing about the API is answered without a token: an unknown path is 401 too, and 404 only with one', async () => {
    expect((await request(operatorSrv.url, 'GET', '/api/v1/nothing-here')).status).toBe(401);
    expect((await request(operatorSrv.url, 'GET', '/api/v1/media/images/presign', { headers: basic(station.username, station.password) })).status).toBe(401);
    const known = await request(operatorSrv.url, 'GET', '/api/v1/nothing-here', { headers: bearer(operator.token) });
    expect(known).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  test('with an operator token every route answers (no 401/403, no 5xx), and the operator is named in what it does', async () => {
    const wrong: string[] = [];
    for (const r of operatorRoutes()) {
      const res = await send(operatorSrv.url, r, bearer(operator.token));
      if (res.status === 401 || res.status === 403 || res.status >= 500) wrong.push(`${routeKey(r)} → ${res.status} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    const paused = await request(operatorSrv.url, 'POST', '/api/v1/sync/pause', {
      headers: { 'content-type': 'application/json', ...bearer(operator.token) },
      body: JSON.stringify({ reason: 'vet visit', by: 'someone else' }),
    });
    expect(paused.status).toBe(202);
    expect(control.pauses.at(-1)).toEqual({ reason: 'vet visit', by: `someone else (operator ${operator.name})` });
  });

  test('/health and /metrics answer without a credential', async () => {
    expect((await request(operatorSrv.url, 'GET', '/health')).status).toBe(200);
    expect((await request(operatorSrv.url, 'GET', '/metrics')).status).toBe(200);
  });

  test('a body in a charset other than UTF-8 is 415 unsupported_charset on every route', async () => {
    const wrong: string[] = [];
    for (const r of operatorRoutes()) {
      for (const charset of badCharsets) {
        const res = await send(operatorSrv.url, r, { ...bearer(operator.token), 'content-type': `application/json; charset=${charset}` });
        if (res.status !== 415 || res.body?.error?.code !== 'unsupported_charset')
          wrong.push(`${routeKey(r)} charset=${charset} → ${res.status} ${res.text.slice(0, 120)}`);
      }
      const ok = await send(operatorSrv.url, r, { ...bearer(operator.token), 'content-type': 'application/json; charset=UTF-8' });
      if (ok.status === 415 || ok.status >= 500) wrong.push(`${routeKey(r)} charset=UTF-8 → ${ok.status}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('the station listener', () => {
  test('serves the media routes and none of the operator routes', async () => {
    expect(stationRoutes().map(routeKey).sort()).toEqual(['POST /api/v1/media/images/complete', 'POST /api/v1/media/images/presign']);
    const wrong: string[] = [];
    for (const r of operatorRoutes()) {
      for (const headers of [{}, bearer(operator.token), basic(station.username, station.password)]) {
        const res = await send(stationSrv.url, r, headers);
        if (res.status !== 404) wrong.push(`${routeKey(r)} on the station listener → ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('a station uploads with its device credentials; an operator token is no device credential', async () => {
    const body = JSON.stringify({ session_id: 'sweep-session-1', content_type: 'image/jpeg', size_bytes: 1000 });
    const presign = (headers: Record<string, string>) =>
      request(stationSrv.url, 'POST', '/api/v1/media/images/presign', { headers: { 'content-type': 'application/json', ...headers }, body });
    const ok = await presign(basic(station.username, station.password));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ method: 'PUT', media_id: expect.any(String) });
    for (const headers of [{}, bearer(operator.token)]) {
      expect(await presign(headers)).toMatchObject({ status: 401, body: { error: { code: 'device_unauthenticated' } } });
    }
  });

  test('/health and /metrics answer without a credential', async () => {
    expect(await request(stationSrv.url, 'GET', '/health')).toMatchObject({ status: 200, body: { component: 'edge-http-station', status: 'ok' } });
    expect((await request(stationSrv.url, 'GET', '/metrics')).status).toBe(200);
  });

  test('a body in a charset other than UTF-8 is 415 unsupported_charset on every route, kept in ingress_rejects', async () => {
    const wrong: string[] = [];
    const before = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ingress_rejects WHERE reason = 'unsupported_charset' AND detail LIKE $1`, [
      `%${station.username}%`,
    ]);
    let sent = 0;
    for (const r of stationRoutes()) {
      for (const charset of badCharsets) {
        const res = await send(stationSrv.url, r, { ...basic(station.username, station.password), 'content-type': `application/json; charset=${charset}` });
        sent++;
        if (res.status !== 415 || res.body?.error?.code !== 'unsupported_charset')
          wrong.push(`${routeKey(r)} charset=${charset} → ${res.status} ${res.text.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
    const { rows } = await pool.query<{ source: string; topic: string; reason: string; detail: string }>(
      `SELECT source, topic, reason, detail FROM ingress_rejects WHERE reason = 'unsupported_charset' AND detail LIKE $1 ORDER BY id`,
      [`%${station.username}%`],
    );
    expect(rows.length - Number(before.rows[0].n)).toBe(sent);
    expect(rows.map((r) => r.topic)).toEqual(expect.arrayContaining(stationRoutes().map(routeKey)));
    expect(rows.every((r) => r.source === 'http')).toBe(true);
  });
});

/** A non-loopback address of this machine (the "barn LAN"), or 127.0.0.2, which a loopback-bound socket does not answer either. */
function lanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.2';
}

async function reachable(url: string): Promise<number | 'refused'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    const code = (err as Error & { cause?: { code?: string } }).cause?.code ?? '';
    if (code === 'ECONNREFUSED') return 'refused';
    throw err;
  }
}

describe('edge-main.ts, as a farm server runs it', () => {
  let gateway: FarmiqProcess;
  let stationPort: number;
  let operatorPort: number;

  beforeAll(async () => {
    stationPort = await freePort();
    operatorPort = await freePort();
    gateway = new FarmiqProcess({
      name: 'edge-http',
      entry: 'gateways/http/edge-main.ts',
      env: {
        LOG_LEVEL: 'warn',
        EDGE_DATABASE_URL: testEdgeDatabaseUrl,
        EDGE_STATION_HTTP_HOST: '0.0.0.0',
        EDGE_STATION_HTTP_PORT: String(stationPort),
        EDGE_HTTP_HOST: '127.0.0.1',
        EDGE_HTTP_PORT: String(operatorPort),
        DEPENDENCY_WAIT_SECONDS: '30',
        SHUTDOWN_GRACE_SECONDS: '5',
      },
      healthUrl: `http://127.0.0.1:${operatorPort}/health`,
      startTimeoutMs: 60_000,
      stopTimeoutMs: 15_000,
    });
    await gateway.start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('stations reach their listener on the LAN address; the operator listener answers on loopback only', async () => {
    const lan = lanAddress();
    expect(await reachable(`http://${lan}:${stationPort}/health`)).toBe(200);
    expect(await reachable(`http://${lan}:${operatorPort}/health`)).toBe('refused');
    expect(await reachable(`http://127.0.0.1:${stationPort}/health`)).toBe(200);
    expect(await reachable(`http://127.0.0.1:${operatorPort}/health`)).toBe(200);
  });

  test('each listener serves its own audience only', async () => {
    const lan = lanAddress();
    const presign = await request(`http://${lan}:${stationPort}`, 'POST', '/api/v1/media/images/presign', {
      headers: { 'content-type': 'application/json', ...basic(station.username, station.password) },
      body: JSON.stringify({ session_id: 'nope' }),
    });
    // Authenticated and parsed: the station got as far as the body check.
    expect(presign).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
    expect((await request(`http://${lan}:${stationPort}`, 'GET', '/api/v1/sync/status', { headers: bearer(operator.token) })).status).toBe(404);
    expect((await request(`http://127.0.0.1:${operatorPort}`, 'GET', '/api/v1/ingress/rejects/summary')).status).toBe(401);
    expect((await request(`http://127.0.0.1:${operatorPort}`, 'GET', '/api/v1/ingress/rejects/summary', { headers: bearer(operator.token) })).status).toBe(200);
    expect(
      (await request(`http://127.0.0.1:${operatorPort}`, 'POST', '/api/v1/media/images/presign', { headers: basic(station.username, station.password) }))
        .status,
    ).toBe(401);
  });
});

describe('farmiq operators', () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(path.join(repoRoot, 'bin', 'farmiq'), ['--edge-url', testEdgeDatabaseUrl, 'operators', ...args], {
      cwd: repoRoot,
      env: { ...process.env, FARMIQ_CONFIG: '' },
    });
  const name = `cli-${Date.now().toString(36)}`;

  beforeAll(() => {
    operatorNames.push(name);
  });

  test('add prints a token once and stores only its hash; the token opens the operator API', async () => {
    const { stdout, stderr } = await cli('add', '--name', name, '--json');
    const printed = JSON.parse(stdout) as { name: string; token: string };
    expect(printed.name).toBe(name);
    expect(printed.token).toMatch(/^fiqop_[A-Za-z0-9_-]{43}$/);
    expect(stderr).toMatch(/shown only now/);
    const { rows } = await pool.query('SELECT * FROM edge_operators WHERE name = $1', [name]);
    expect(rows).toHaveLength(1);
    expect(Buffer.compare(rows[0].token_hash, hashOperatorToken(printed.token))).toBe(0);
    expect(JSON.stringify(rows[0])).not.toContain(printed.token.slice(6));
    expect((await request(operatorSrv.url, 'GET', '/api/v1/sync/status', { headers: bearer(printed.token) })).status).toBe(200);

    // add again: a new token, and the old one stops working at once.
    const again = JSON.parse((await cli('add', '--name', name, '--json')).stdout) as { token: string };
    expect(again.token).not.toBe(printed.token);
    expect((await request(operatorSrv.url, 'GET', '/api/v1/sync/status', { headers: bearer(printed.token) })).status).toBe(401);
    expect((await request(operatorSrv.url, 'GET', '/api/v1/sync/status', { headers: bearer(again.token) })).status).toBe(200);

    // revoke: refused from the next request on; list says so.
    expect((await cli('revoke', name)).stdout).toContain(`revoked ${name}`);
    expect((await request(operatorSrv.url, 'GET', '/api/v1/sync/status', { headers: bearer(again.token) })).status).toBe(401);
    expect((await cli('list')).stdout).not.toContain(name);
    const all = JSON.parse((await cli('list', '--all', '--json')).stdout) as { name: string; revoked_at: string | null }[];
    expect(all.find((o) => o.name === name)?.revoked_at).toEqual(expect.any(String));
    await expect(cli('revoke', name)).rejects.toMatchObject({ code: 1 });
  });

  test('refuses a name the table cannot hold', async () => {
    await expect(cli('add', '--name', 'two words')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('operator name must be') });
  });
});
