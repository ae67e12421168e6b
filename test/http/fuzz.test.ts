/**
 * A bounded fuzz of every route of both HTTP apps (issue 8: "no route answers 500 to any client
 * input"), over real HTTP against the real databases:
 *
 *   cloud app        createCloudApp with the real pools, the real edge batch router (requests
 *                    signed by a real registered edge, so generated batches reach ingestion's own
 *                    validation), a stand-in Temporal that is "down" (503) and a publisher in memory
 *   edge operator    createEdgeOperatorApp on a private edge database (requeue of everything is
 *                    one of the inputs), with a stand-in sync forwarder
 *   edge station     createEdgeStationApp with a provisioned station, sessions in memory and an
 *                    object store that holds nothing
 *
 * Routes come from the apps' own router stacks. For each request fast-check picks a route (or
 * another method on it), fills its path parameters (valid ids, or hostile segments: broken
 * percent-encoding, NUL, lone surrogates, dot segments, huge numbers), builds a query, headers
 * (content types and charsets, content encodings, valid, foreign and broken credentials, request
 * ids) and a body: a valid example of the route with fields replaced by hostile values (deep JSON,
 * NUL and lone surrogates in strings and keys, numbers out of every range, wrong types, extra
 * keys), arbitrary JSON, or bytes that are not JSON or not UTF-8.
 *
 * Every answer must be below 500, or a 503 naming the dependency that is down; every 4xx/5xx must
 * carry the project's error body { error: { code, message } }.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { Express } from 'express';
import type { Pool } from 'pg';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { settings } from '../../config/settings';
import { createPool } from '../../db/pool';
import { signRequest } from '../../domain/sync';
import { createCloudApp } from '../../gateways/http/cloud-app';
import { createEdgeBatchRouter } from '../../gateways/http/cloud-ingestion/edge-batch-router';
import { createEdgeOperatorApp, createEdgeStationApp } from '../../gateways/http/edge-app';
import { ownerPool, seedTenant, tenantPool, testJwtSecret, type TestTenant } from '../auth/support';
import { batchOf, batchPath, edgeEvent, newEdge, type TestEdge } from '../cloud/support';
import { sampleSummary } from '../insights/fixtures';
import { ensureDatabase } from '../support/databases';
import { repoRoot, testEdgeDatabaseUrl } from '../support/stack';
import {
  basic,
  bearer,
  emptyObjectStore,
  fakeSyncControl,
  memorySessions,
  newOperator,
  newStation,
  routeKey,
  routesOf,
  serve,
  type Served,
  type SweptRoute,
  type TestStation,
} from './support';

const log = pino({ level: 'silent' });

/** How many generated requests per app: together well under a minute on a 2-core machine. */
const runs = { cloud: 700, batch: 200, operator: 400, station: 200 };

/** 503s that say which dependency is down (the stand-in Temporal is down on purpose). */
const acceptable503 = new Set(['temporal_unavailable', 'database_unavailable', 'unavailable', 'object_store_unavailable']);

// ── hostile values ──────────────────────────────────────────────────────────────────────────────

/** Emitted verbatim into a JSON body: number literals JSON.stringify cannot write, deep nesting. */
class RawJson {
  constructor(readonly text: string) {}
}
const OMIT = Symbol('omit');

function encode(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== OMIT)
      .map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const deep = (n: number, kind: 'array' | 'object') => new RawJson(kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n));

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\udbff\udfff',
    '\u0007\u001b[31m',
    '\u202e',
    '😀',
    '.',
    '..',
    '../../etc/passwd',
    '%00',
    'null',
    '0',
    '-1',
    '1e309',
    '9'.repeat(40),
    '2026-13-45T99:99:99Z',
    '0000-01-01T00:00:00Z',
    '275760-09-13T00:00:00.000Z',
    ' ',
    'x'.repeat(5000),
  ),
);

const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e21, 0.0001),
  fc.constantFrom(
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1' + '0'.repeat(400)),
    new RawJson('1e-400'),
    new RawJson('123456789012345678901234567890'),
  ),
);

const hostileScalar = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.constantFrom(deep(64, 'array'), deep(2000, 'object'), deep(20_000, 'array')) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileScalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A valid example with fields kept, recursed into, replaced by hostile values or left out, and extra keys. */
function mutated(example: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (example instanceof RawJson) return fc.constant(example);
  if (Array.isArray(example)) {
    if (example.length === 0 || depth > 4) return fc.oneof(fc.constant(example), hostileValue);
    return fc.oneof(
      { weight: 3, arbitrary: fc.tuple(...example.map((x) => mutated(x, depth + 1))) },
      { weight: 1, arbitrary: fc.array(mutated(example[0], depth + 1), { maxLength: 3 }) },
      { weight: 1, arbitrary: hostileValue },
    );
  }
  if (example && typeof example === 'object') {
    const entries = Object.entries(example as Record<string, unknown>);
    const fields = entries.map(([, v]) =>
      fc.oneof(
        { weight: 5, arbitrary: fc.constant(v) },
        { weight: depth > 4 ? 0 : 2, arbitrary: depth > 4 ? fc.constant(v) : mutated(v, depth + 1) },
        { weight: 2, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.constant(OMIT) },
      ),
    );
    return fc
      .tuple(fc.tuple(...fields), fc.option(fc.tuple(hostileString, hostileValue), { freq: 5 }))
      .map(([values, extra]) => {
        const out: Record<string, unknown> = {};
        entries.forEach(([k], i) => (out[k] = values[i]));
        if (extra) out[extra[0]] = extra[1];
        return out;
      })
      .chain((o) => fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>(o) }, { weight: 1, arbitrary: hostileValue }));
  }
  return fc.oneof({ weight: 2, arbitrary: fc.constant(example) }, { weight: 3, arbitrary: hostileValue });
}

/** Bodies that are not JSON, not UTF-8, or not what any route takes. */
const rawBodies = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    'null',
    '[]',
    '"just a string"',
    '{"a":1,"a":2}',
    '\u0000',
    '{"k":"\\u0000"}',
    '{"k":"\\ud800"}',
    '\ufeff{}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
  ),
  fc.string({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])), // UTF-16LE "{}" with a BOM
  fc.constant(Buffer.from('{"k":"\xc3\x28"}', 'latin1')), // invalid UTF-8 inside a string
  fc.constant(Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])), // CESU-8 lone surrogate
);

// ── requests ────────────────────────────────────────────────────────────────────────────────────

const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=utf8',
      'application/json; charset="iso-8859-1"',
      'application/json; charset',
      'application/json; charset=',
      'application/json; charset="',
      'application/json;;;',
      'text/plain',
      'text/plain; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/*',
      '*/*',
      ';',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

const encodings = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip', 'GZIP') },
);

/** Path segments: percent-encoded as a client would send them, broken encodings included. */
const hostileSegment = fc.oneof(
  fc.constantFrom(
    '%',
    '%ZZ',
    '%E0%A4%A',
    '%ED%A0%80',
    '%C0%AF',
    '%00',
    '%2e%2e',
    '%2e',
    '%FF%FE',
    '%20',
    '0',
    '-1',
    '1e3',
    '99999999999999999999999',
    '1.5',
    'x'.repeat(300),
    '%u0000',
  ),
  fc
    .string({ maxLength: 30 })
    .filter((s) => s.length > 0 && isWellFormed(s))
    .map(encodeURIComponent),
  fc.uuid(),
  fc.nat().map(String),
);

function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const queryValue = fc.oneof(
  hostileSegment,
  fc.constantFrom('', '1', '50', '500', '501', 'dlq', 'failed', 'acked', 'true', '1e400', 'NaN', 'Infinity', '-0', '0x10'),
);

function queryString(keys: string[], valid: Record<string, string>): fc.Arbitrary<string> {
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys, 'tenant_id', 'limit', 'cursor') }, { weight: 1, arbitrary: hostileSegment });
  const value = (k: string) => (valid[k] !== undefined ? fc.oneof(fc.constant(encodeURIComponent(valid[k])), queryValue) : queryValue);
  const pairs = fc
    .array(
      key.chain((k) => value(k).map((v) => `${k}=${v}`)),
      { minLength: 1, maxLength: 4 },
    )
    .map((p) => `?${p.join('&')}`);
  // Mostly none: a route that takes no query refuses any, and the body should get its turn.
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: pairs },
    { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?a', '?a[b]=1', '?limit=1&limit=2', '?%=%') },
  );
}

interface RouteSpec {
  /** Valid values of the route's path parameters, by name. */
  params?: Record<string, string[]>;
  /** Query keys the route takes, with a valid value each. */
  query?: Record<string, string>;
  /** Valid example bodies. */
  bodies?: unknown[];
  /** Bodies built for the route beside the mutated examples (e.g. a valid envelope with hostile items). */
  bodyArbitrary?: fc.Arbitrary<unknown>;
  /** Makes headers for a body (e.g. a signature over its exact bytes). */
  sign?: (path: string, body: Buffer) => Record<string, string>;
  /** Sign every request (else about half). */
  alwaysSign?: boolean;
}

interface Target {
  name: string;
  base: string;
  routes: SweptRoute[];
  spec: (r: SweptRoute) => RouteSpec;
  /** Authorization headers: valid ones first. */
  credentials: Record<string, string>[];
}

interface Generated {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  route: string;
}

const otherMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

function requestFor(t: Target): fc.Arbitrary<Generated> {
  return fc.constantFrom(...t.routes).chain((r) => {
    const spec = t.spec(r);
    const paramNames = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const params = fc.tuple(
      ...paramNames.map((n) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...(spec.params?.[n] ?? ['1'])) }, { weight: 3, arbitrary: hostileSegment })),
    );
    const body = fc.oneof(
      {
        weight: spec.bodies?.length ? 8 : 0,
        arbitrary: spec.bodies?.length
          ? fc
              .constantFrom(...spec.bodies)
              .chain((b) => mutated(b))
              .map((v) => Buffer.from(encode(v)))
          : fc.constant(Buffer.alloc(0)),
      },
      { weight: spec.bodyArbitrary ? 8 : 0, arbitrary: (spec.bodyArbitrary ?? fc.constant({})).map((v) => Buffer.from(encode(v))) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
      { weight: 2, arbitrary: rawBodies.map((b) => (typeof b === 'string' ? Buffer.from(b) : b)) },
      { weight: 1, arbitrary: fc.constantFrom(deep(50_000, 'array'), deep(5000, 'object')).map((d) => Buffer.from(d.text)) },
    );
    const auth = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...t.credentials.slice(0, 1)) },
      { weight: 3, arbitrary: fc.constantFrom(...t.credentials) },
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc.constant({}),
          headerText.map((x) => ({ authorization: x })),
          headerText.map((x) => ({ authorization: `Bearer ${x}` })),
          fc.string({ unit: 'binary', maxLength: 40 }).map((x) => ({ authorization: `Basic ${Buffer.from(x, 'utf8').toString('base64')}` })),
          fc.constantFrom(
            { authorization: `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}` },
            { authorization: `Basic ${Buffer.from('a\u0000b:pw').toString('base64')}` },
            { authorization: `Basic ${Buffer.from([0xff, 0x3a, 0xfe]).toString('base64')}` },
            { authorization: 'Basic !!!' },
            { authorization: 'Basic ' },
            { authorization: `Bearer fiqop_${'A'.repeat(43)}` },
            { authorization: `Bearer ${'x'.repeat(8000)}` },
          ),
        ),
      },
    );
    const method = fc.oneof({ weight: 12, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: fc.constantFrom(...otherMethods) });
    const requestIdHeader = fc.option(
      headerText.map((x) => ({ 'x-request-id': x })),
      { freq: 3, nil: {} },
    );
    return fc
      .record({
        method,
        params,
        query: queryString(Object.keys(spec.query ?? {}), spec.query ?? {}),
        contentType: fc.option(contentTypes, { freq: 8, nil: undefined }),
        encoding: encodings,
        auth,
        requestIdHeader,
        body,
        signed: spec.alwaysSign ? fc.constant(true) : fc.boolean(),
      })
      .map((g) => {
        let i = 0;
        const path = r.path.replace(/:(\w+)/g, () => g.params[i++]);
        const withBody = g.method !== 'GET' && g.method !== 'HEAD';
        const bodyBytes = withBody ? g.body : undefined;
        const headers: Record<string, string> = { ...g.auth, ...g.requestIdHeader };
        if (g.contentType !== undefined) headers['content-type'] = g.contentType;
        if (g.encoding !== undefined) headers['content-encoding'] = g.encoding;
        if (spec.sign && bodyBytes && g.signed) Object.assign(headers, spec.sign(path, bodyBytes));
        return { method: g.method, url: path + g.query, headers, body: bodyBytes, route: routeKey(r) };
      });
  });
}

interface Outcome {
  status: number;
  text: string;
}

async function perform(base: string, g: Generated): Promise<Outcome> {
  const res = await fetch(base + g.url, { method: g.method, headers: g.headers, body: g.body, redirect: 'manual' });
  return { status: res.status, text: await res.text() };
}

function problemWith(g: Generated, o: Outcome): string | undefined {
  if (o.status < 400) return undefined;
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = JSON.parse(o.text);
  } catch {
    body = undefined;
  }
  const code = body?.error?.code;
  if (o.status >= 500 && !(o.status === 503 && typeof code === 'string' && acceptable503.has(code))) return `answered ${o.status}`;
  if (g.method !== 'HEAD' && (typeof code !== 'string' || typeof body?.error?.message !== 'string')) return `answered ${o.status} without the error body`;
  return undefined;
}

function report(g: Generated, o: Outcome, problem: string): string {
  const body =
    g.body === undefined
      ? '(none)'
      : g.body.byteLength > 300
        ? `${g.body.subarray(0, 300).toString('latin1')}… (${g.body.byteLength} bytes)`
        : g.body.toString('latin1');
  const headers = Object.fromEntries(Object.entries(g.headers).map(([k, v]) => [k, v.length > 120 ? `${v.slice(0, 120)}…` : v]));
  return `${g.route}: ${g.method} ${g.url.slice(0, 300)} ${problem}\n  headers ${JSON.stringify(headers)}\n  body ${JSON.stringify(body)}\n  answer ${o.text.slice(0, 300)}`;
}

async function fuzz(t: Target, numRuns: number): Promise<void> {
  expect(t.routes.length).toBeGreaterThan(0);
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(requestFor(t), async (g) => {
      seen.add(g.route);
      const o = await perform(t.base, g);
      const problem = problemWith(g, o);
      if (problem) throw new Error(report(g, o, problem));
    }),
    { numRuns, interruptAfterTimeLimit: 40_000 },
  );
  // Every route was tried.
  expect([...seen].sort()).toEqual(t.routes.map(routeKey).sort());
}

// ── the apps ────────────────────────────────────────────────────────────────────────────────────

const fuzzEdgeDatabaseUrl = (() => {
  const u = new URL(testEdgeDatabaseUrl);
  u.pathname = '/farmiq_edge_fuzz_test';
  return u.toString();
})();

let owner: Pool;
let appPool: Pool;
let edgePool: Pool;
let tenant: TestTenant;
let farmId: string;
let notificationId: string;
let insightId: string;
let edge: TestEdge;
let station: TestStation;
let operator: { name: string; token: string };
let mediaId: string;
let cloud: Served;
let operatorSrv: Served;
let stationSrv: Served;
let cloudApp: Express;
let operatorApp: Express;
let stationApp: Express;

/** A Temporal client whose server is down: starting a workflow fails the way an unreachable one does. */
function temporalDown(): Client {
  const fail = async () => {
    const err = new Error('14 UNAVAILABLE: connection refused (fuzz stand-in)');
    err.name = 'ServiceError';
    throw err;
  };
  return {
    workflow: { start: fail, getHandle: () => ({ result: fail }) },
    withAbortSignal: (_s: AbortSignal, fn: () => Promise<unknown>) => fn(),
  } as unknown as Client;
}

beforeAll(async () => {
  // The cloud: a tenant with a farm, a notification and an insight, and an edge allowed to send for it.
  owner = ownerPool();
  appPool = tenantPool();
  tenant = await seedTenant(owner, 'Fuzz');
  farmId = `farm-fuzz-${randomUUID().slice(0, 8)}`;
  await owner.query(`INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, $2, 'Fuzz farm', 'broiler')`, [tenant.id, farmId]);
  await owner.query(`INSERT INTO barns (tenant_id, farm_id, barn_id, name) VALUES ($1, $2, 'barn-1', 'Barn')`, [tenant.id, farmId]);
  notificationId = (
    await owner.query<{ id: string }>(
      `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, $2, 'in_app', 't', 'b', 'sent') RETURNING id`,
      [tenant.id, tenant.operator.id],
    )
  ).rows[0].id;
  insightId = (
    await owner.query<{ id: string }>(
      `INSERT INTO insights (tenant_id, farm_id, window_start, window_end, request_id, summary, insight, generator)
       VALUES ($1, $2, now() - interval '7 days', now(), $3, '{}', '{}', 'template') RETURNING id`,
      [tenant.id, farmId, `fuzz-${randomUUID()}`],
    )
  ).rows[0].id;
  edge = await newEdge(owner, [tenant.id]);
  cloudApp = createCloudApp({
    pool: owner,
    tenantPool: appPool,
    notificationPublisher: { publish: async () => undefined },
    edgeBatchRouter: createEdgeBatchRouter({ pool: owner, log }),
    temporalClient: temporalDown(),
    healthChecks: {},
    jwtSecret: testJwtSecret,
    log,
    phase: () => 'ready',
  });
  cloud = await serve(cloudApp);

  // The edge: a private database (requeueing every dead row is one of the inputs).
  await ensureDatabase(fuzzEdgeDatabaseUrl);
  execFileSync(process.execPath, [require.resolve('tsx/cli'), 'db/migrate.ts', 'edge', '--url', fuzzEdgeDatabaseUrl], {
    cwd: repoRoot,
    env: { ...process.env, FARMIQ_CONFIG: '' },
    stdio: 'pipe',
  });
  edgePool = createPool(fuzzEdgeDatabaseUrl, { applicationName: 'farmiq-test-http-fuzz' });
  station = await newStation(edgePool);
  operator = await newOperator(edgePool, 'fuzz');
  operatorApp = createEdgeOperatorApp({ pool: edgePool, log, syncControl: fakeSyncControl(), edgeId: 'edge-fuzz' });
  stationApp = createEdgeStationApp({
    pool: edgePool,
    log,
    sessions: memorySessions(station, new Set(['fuzz-open'])),
    objectStore: emptyObjectStore(),
    sessionWaitMs: 0,
  });
  operatorSrv = await serve(operatorApp);
  stationSrv = await serve(stationApp);
  const presigned = await fetch(`${stationSrv.url}/api/v1/media/images/presign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basic(station.username, station.password) },
    body: JSON.stringify({ session_id: 'fuzz-open', content_type: 'image/jpeg', size_bytes: 1000 }),
  });
  mediaId = ((await presigned.json()) as { media_id: string }).media_id;
  expect(mediaId).toMatch(/^[0-9a-f-]{36}$/);
});

afterAll(async () => {
  await cloud?.close();
  await operatorSrv?.close();
  await stationSrv?.close();
  await owner?.query('DELETE FROM ingestion_outbox WHERE tenant_id = $1', [tenant.id]).catch(() => undefined);
  await owner?.query('DELETE FROM ingestion_dedupe WHERE tenant_id = $1', [tenant.id]).catch(() => undefined);
  await appPool?.end();
  await owner?.end();
  if (station) await edgePool?.query('DELETE FROM edge_devices WHERE tenant_id = $1', [station.tenantId]);
  if (operator) await edgePool?.query('DELETE FROM edge_operators WHERE name = $1', [operator.name]);
  await edgePool?.end();
});

const window = () => ({ from: new Date(Date.now() - 7 * 86_400_000).toISOString(), to: new Date().toISOString() });

test('the cloud app: no generated request gets a 500', async () => {
  const serviceToken = settings().INTERNAL_SERVICE_TOKEN;
  const internal = (r: SweptRoute) => r.path.startsWith('/api/v1/ml/') || r.path.startsWith('/api/v1/llm-insights/');
  const routes = routesOf(cloudApp).filter((r) => r.path !== '/metrics');
  const specs: Record<string, RouteSpec> = {
    'POST /api/v1/notifications/send': {
      bodies: [
        { channel: 'in_app', title: 'Heat', body: 'Barn 1 is hot', data: { barn: 'barn-1', readings: [1, 2] }, idempotency_key: 'k-1' },
        { tenant_id: tenant.id, recipient_user_id: tenant.viewer.id, channel: 'email', title: 'Heat', body: 'b' },
      ],
    },
    'GET /api/v1/notifications/inbox': { query: { limit: '5', cursor: Buffer.from(`2026-11-27T10:00:00.000000Z|${randomUUID()}`).toString('base64url') } },
    'POST /api/v1/notifications/:id/read': { params: { id: [notificationId] } },
    'GET /api/v1/notifications/:id': { params: { id: [notificationId] } },
    'POST /api/v1/dashboard/insights/generate': {
      bodies: [
        {
          farm_id: farmId,
          barn_id: 'barn-1',
          window: window(),
          options: { predictions: true, forecast_days: 7, target_weight_kg: 2.5, notify: { channel: 'in_app' } },
        },
        { tenant_id: tenant.id, farm_id: farmId, window: window() },
      ],
    },
    'GET /api/v1/dashboard/insights': {
      query: { farm_id: farmId, limit: '5', cursor: Buffer.from(`2026-11-27T10:00:00.000000Z|${randomUUID()}`).toString('base64url') },
    },
    'GET /api/v1/dashboard/insights/:id': { params: { id: [insightId] } },
    'POST /api/v1/ml/predict': {
      bodies: [
        {
          species: 'broiler',
          horizons_days: [7, 14],
          barns: [
            { barn_id: 'barn-1', age_days: 21, last_weighing_day: '2026-11-20', mean_weight_kg: 0.9, animal_count: 20000, fcr: 1.4, target_weight_kg: 2.5 },
          ],
        },
      ],
    },
    'POST /api/v1/llm-insights/analyze': { bodies: [{ summary: sampleSummary() }] },
  };
  const events = [
    edgeEvent('telemetry.reading', tenant.id),
    edgeEvent('telemetry.aggregated', tenant.id),
    edgeEvent('feed.intake.recorded', tenant.id),
    edgeEvent('weighvision.session.created', tenant.id),
    edgeEvent('weighvision.weight.recorded', tenant.id),
    edgeEvent('weighvision.session.finalized', tenant.id),
    edgeEvent('media.stored', tenant.id),
    edgeEvent('inference.completed', tenant.id),
  ];
  // A valid, signed envelope around events with hostile fields: what reaches ingestion's per-event checks.
  const hostileEvents = fc
    .array(
      fc.constantFrom(...events).chain((e) => mutated({ ...e, event_id: randomUUID() })),
      { minLength: 1, maxLength: 4 },
    )
    .map((evs) => batchOf(edge, evs));
  const edgeSpec = (): RouteSpec => ({
    bodyArbitrary: hostileEvents,
    bodies: [
      batchOf(edge, [edgeEvent('telemetry.reading', tenant.id), edgeEvent('feed.intake.recorded', tenant.id)]),
      batchOf(edge, [edgeEvent('weighvision.weight.recorded', tenant.id), edgeEvent('media.stored', tenant.id), edgeEvent('telemetry.aggregated', tenant.id)]),
    ],
    sign: (path, body) => signRequest(edge, 'POST', path, body),
  });
  await fuzz(
    {
      name: 'cloud',
      base: cloud.url,
      routes,
      spec: (r) => (r.path.includes('/batch') ? edgeSpec() : (specs[routeKey(r)] ?? {})),
      credentials: [bearer(tenant.admin.token), bearer(tenant.viewer.token), bearer(serviceToken)],
    },
    runs.cloud,
  );
  // Signed batches of events with hostile fields: every one reaches ingestion's own checks.
  await fuzz(
    {
      name: 'cloud-edge-batch',
      base: cloud.url,
      routes: routes.filter((r) => r.path.includes('/batch')),
      spec: () => ({ ...edgeSpec(), bodies: [], alwaysSign: true }),
      credentials: [{}],
    },
    runs.batch,
  );
  // The same run with the credential each route takes first (service routes their token).
  await fuzz(
    {
      name: 'cloud-internal',
      base: cloud.url,
      routes: routes.filter(internal),
      spec: (r) => specs[routeKey(r)] ?? {},
      credentials: [bearer(serviceToken), bearer(tenant.admin.token)],
    },
    Math.round(runs.cloud / 4),
  );
});

test('the edge operator listener: no generated request gets a 500', async () => {
  const dead = await edgePool.query<{ id: string }>(
    `INSERT INTO sync_outbox (tenant_id, event_id, event_type, envelope, occurred_at, status, attempt_count, last_error)
     VALUES ($1, $2, 'telemetry.reading', '{"k":"v"}', now(), 'dlq', 10, 'cloud answered 500') RETURNING id::text AS id`,
    [station.tenantId, randomUUID()],
  );
  await edgePool.query(`INSERT INTO ingress_rejects (source, topic, reason, detail, payload, payload_size) VALUES ('mqtt', 't', 'invalid_json', 'd', $1, 3)`, [
    Buffer.from([0xff, 0x00, 0x41]),
  ]);
  await fuzz(
    {
      name: 'edge-operator',
      base: operatorSrv.url,
      routes: routesOf(operatorApp).filter((r) => r.path !== '/metrics'),
      spec: (r): RouteSpec => {
        switch (routeKey(r)) {
          case 'GET /api/v1/ingress/rejects':
            return { query: { reason: 'invalid_json', limit: '10', before: '99999' } };
          case 'GET /api/v1/sync/dlq':
            return { query: { status: 'dlq', limit: '10', before: '99999' } };
          case 'GET /api/v1/sync/dlq/:id':
            return { params: { id: [dead.rows[0].id] } };
          case 'POST /api/v1/sync/dlq/requeue':
            return { bodies: [{ ids: [dead.rows[0].id, '2'] }, { all: true, status: 'dlq' }] };
          case 'POST /api/v1/sync/pause':
            return { bodies: [{ reason: 'maintenance', by: 'fuzz' }] };
          case 'POST /api/v1/sync/resume':
          case 'POST /api/v1/sync/retry-now':
            return { bodies: [{}] };
          default:
            return {};
        }
      },
      credentials: [bearer(operator.token), basic(station.username, station.password)],
    },
    runs.operator,
  );
});

test('the edge station listener: no generated request gets a 500', async () => {
  await fuzz(
    {
      name: 'edge-station',
      base: stationSrv.url,
      routes: routesOf(stationApp).filter((r) => r.path !== '/metrics'),
      spec: (r) =>
        routeKey(r).endsWith('/presign')
          ? {
              bodies: [
                { session_id: 'fuzz-open', content_type: 'image/jpeg', size_bytes: 1000 },
                {
                  session_id: 'fuzz-open',
                  content_type: 'image/png',
                  size_bytes: 5,
                  tenant_id: station.tenantId,
                  farm_id: station.farmId,
                  barn_id: station.barnId,
                  station_id: station.deviceId,
                },
              ],
            }
          : routeKey(r).endsWith('/complete')
            ? { bodies: [{ media_id: mediaId }] }
            : {},
      credentials: [basic(station.username, station.password), bearer(operator.token)],
    },
    runs.station,
  );
});

test('deliberate edge cases of the generators answer without a 500', async () => {
  // The cases each generator reaches only sometimes, once each, so every run covers them.
  const cursor = (s: string) => Buffer.from(s).toString('base64url');
  const cases: Array<[Served, string, string, Record<string, string>, string | undefined]> = [
    [cloud, 'GET', `/api/v1/notifications/inbox?cursor=${cursor(`2026-13-45T99:99:99.000000Z|${randomUUID()}`)}`, bearer(tenant.viewer.token), undefined],
    [
      cloud,
      'GET',
      `/api/v1/dashboard/insights?farm_id=${farmId}&cursor=${cursor(`0000-01-01T00:00:00.000000Z|${randomUUID()}`)}`,
      bearer(tenant.viewer.token),
      undefined,
    ],
    [cloud, 'GET', '/api/v1/notifications/%E0%A4%A', bearer(tenant.viewer.token), undefined],
    [cloud, 'POST', '/api/v1/notifications/send', bearer(tenant.admin.token), encode({ channel: 'in_app', title: 'a\u0000b', body: 'b' })],
    [cloud, 'POST', '/api/v1/notifications/send', bearer(tenant.admin.token), encode({ channel: 'in_app', title: 't', body: 'b', data: { k: '\ud800' } })],
    [
      cloud,
      'POST',
      '/api/v1/notifications/send',
      bearer(tenant.admin.token),
      encode({ channel: 'in_app', title: 't', body: 'b', data: { k: deep(3000, 'array') } }),
    ],
    [cloud, 'POST', '/api/v1/notifications/send', bearer(tenant.admin.token), encode({ channel: 'in_app', title: 't', body: 'b', data: { 'k\u0000': 1 } })],
    [operatorSrv, 'GET', '/api/v1/ingress/rejects?reason=%00', bearer(operator.token), undefined],
    [operatorSrv, 'GET', '/api/v1/sync/dlq/%ZZ', bearer(operator.token), undefined],
    [operatorSrv, 'POST', '/api/v1/sync/pause', bearer(operator.token), encode({ reason: '\u0000' })],
    [
      stationSrv,
      'POST',
      '/api/v1/media/images/presign',
      basic(station.username, station.password),
      encode({ session_id: 'fuzz-open', content_type: 'image/jpeg', size_bytes: 1000, '\u0000': 1 }),
    ],
  ];
  const wrong: string[] = [];
  for (const [srv, method, url, headers, body] of cases) {
    const g: Generated = {
      method,
      url,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : Buffer.from(body),
      route: url,
    };
    const o = await perform(srv.url, g);
    const problem = problemWith(g, o) ?? (o.status >= 400 && o.status < 500 ? undefined : `answered ${o.status} (expected a 4xx)`);
    if (problem) wrong.push(report(g, o, problem));
  }
  expect(wrong).toEqual([]);
  // A signed batch whose event carries a NUL (issue 8: it made the whole batch 500): answered per event.
  const raw = encode(batchOf(edge, [{ ...edgeEvent('telemetry.reading', tenant.id), trace_id: 'a\u0000b' }, edgeEvent('telemetry.reading', tenant.id)]));
  const signedBatch = await fetch(`${cloud.url}${batchPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(edge, 'POST', batchPath, raw) },
    body: raw,
  });
  expect(signedBatch.status).toBeLessThan(500);
  // A refused request with a NUL in what it echoes is still kept in the quarantine.
  const { rows } = await edgePool.query(
    `SELECT reason, detail FROM ingress_rejects WHERE source = 'http' AND reason = 'invalid_body' AND detail LIKE '%is not a known field%'`,
  );
  expect(rows.length).toBeGreaterThan(0);
});

test('a gzip body that is not gzip, and a compressed body of the right kind, are answered without a 500', async () => {
  const body = JSON.stringify({ channel: 'in_app', title: 'zipped', body: 'b' });
  for (const [encoding, bytes] of [
    ['gzip', Buffer.from(body)],
    ['gzip', zlib.gzipSync(body)],
    ['deflate', zlib.deflateSync(body)],
    ['br', Buffer.from('not brotli')],
    ['x-unknown', Buffer.from(body)],
  ] as const) {
    const res = await fetch(`${cloud.url}/api/v1/notifications/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...bearer(tenant.admin.token) },
      body: bytes,
    });
    const text = await res.text();
    expect([encoding, res.status < 500]).toEqual([encoding, true]);
    if (res.status >= 400) expect(JSON.parse(text).error.code).toEqual(expect.any(String));
  }
});
