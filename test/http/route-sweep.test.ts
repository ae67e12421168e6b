/**
 * A sweep over every route of the cloud HTTP app (DESIGN §4, tenant isolation; issue 5). The routes
 * are not listed here: they are read from the app's own router stack, so a route added later —
 * by any router mounted in createCloudApp — is swept without touching this file.
 *
 *   1. no token (and a garbage token) → 401 on every route but /health and /metrics;
 *      the edge batch routes, which authenticate edges by signature, answer 401 to both as well
 *   2. tenant A's admin and operator tokens on tenant B's resources → 403 or 404 on every route:
 *      path parameters are filled with real ids of tenant B's rows, the query names B's tenant, farm
 *      and barn, and a body names them too (routes with a strict body schema get a valid example
 *      below). Only the caller-scoped routes (they act on the caller's own data and take no
 *      resource) may answer 2xx — and no answer of any route may contain anything of tenant B
 *   3. a viewer on every POST/PUT/PATCH/DELETE route (with tenant A's own ids) → 403
 *   4. a body in a charset other than UTF-8 → 415 unsupported_charset on every route (each with the
 *      credential that gets past its authentication); UTF-8 in any spelling and no charset pass
 *   5. every answer of a route the app's OpenAPI document describes matches the document
 *   and afterwards tenant B's rows are exactly as before.
 *
 * createCloudApp gets the real pools and a real edge router; any dependency it gains later that
 * this file does not know gets a stand-in that throws when used, so a route is still mounted and
 * swept — and fails loudly (500) if it touches a dependency before checking the caller.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { cloudHttpConfig, createCloudApp, type CloudAppDeps } from '../../gateways/http/cloud-app';
import { createEdgeBatchRouter } from '../../gateways/http/cloud-ingestion/edge-batch-router';
import { edgeBatchPaths } from '../../domain/sync';
import { logger } from '../../platform/logger';
import { settings } from '../../config/settings';
import { call as rawCall, listen, ownerPool, seedTenant, tenantPool, testJwtSecret, type CallResult, type TestTenant } from '../auth/support';
import { ResponseChecker } from '../support/openapi';
import { routesOf, type SweptRoute } from './support';

const log = logger('route-sweep');
/** Open to anyone: health, metrics, the API's documents, and the dashboard's files (any other path: its index.html). */
const publicRoutes = new Set(['GET /health', 'GET /metrics', 'GET /api/v1/openapi.json', 'GET /api/docs', 'GET /api/docs/init.js', 'GET /.*']);
/**
 * Sign-in, refresh and sign-out take a password or the refresh cookie, not an access token: their
 * refusals are their own (test/http/sign-in.test.ts); here they are swept for the charset only.
 */
const signInRoutes = new Set(['POST /api/v1/auth/sign-in', 'POST /api/v1/auth/refresh', 'POST /api/v1/auth/sign-out']);
/** Writes a viewer may make: on the caller's own account. */
const viewerWrites = new Set(['POST /api/v1/me/password']);
/** Authenticated by the edge's request signature: a user token is no credential there (401). */
const edgeRoutes = new Set([...edgeBatchPaths.map((p) => `POST ${p}`), 'POST /api/v1/edge/commands']);
/** Routes that take no tenant or resource: they act on the caller's own data only. */
const callerScopedRoutes = new Set([
  'GET /api/v1/notifications/inbox',
  'POST /api/v1/notifications/read-all',
  // The caller's own farms and farm servers, and creating one in the caller's tenant.
  'GET /api/v1/farms',
  'POST /api/v1/farms',
  'GET /api/v1/edges',
  'POST /api/v1/edges',
  // The caller's own account, and the users of the caller's tenant.
  'GET /api/v1/me',
  'POST /api/v1/me/password',
  'GET /api/v1/users',
  'POST /api/v1/users',
]);
const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A dependency this test does not know: usable as a value, throws as soon as it is used. */
function unavailable(name: string): unknown {
  const fail = () => {
    throw new Error(`${name} is not available in the route sweep`);
  };
  return new Proxy(fail, {
    get: (_t, key) => (key === 'then' || typeof key === 'symbol' ? undefined : unavailable(`${name}.${String(key)}`)),
    apply: fail,
    construct: fail,
  });
}

interface TenantFixture {
  tenant: TestTenant;
  farmId: string;
  barnId: string;
  deviceId: string;
  edgeId: string;
  notificationId: string;
  sharedNotificationId: string;
  insightId: string;
  /** Strings that must never appear in another tenant's answers. */
  markers: string[];
}

async function seedFixture(owner: Pool, label: string): Promise<TenantFixture> {
  const tenant = await seedTenant(owner, label);
  const tag = randomUUID().slice(0, 8);
  const farmId = `farm-sweep-${tag}`;
  const barnId = `barn-sweep-${tag}`;
  const deviceId = `sensor-sweep-${tag}`;
  await owner.query(`INSERT INTO farms (tenant_id, farm_id, name, species) VALUES ($1, $2, $3, 'broiler')`, [tenant.id, farmId, `${label} farm ${tag}`]);
  await owner.query(`INSERT INTO barns (tenant_id, farm_id, barn_id, name) VALUES ($1, $2, $3, 'Barn')`, [tenant.id, farmId, barnId]);
  await owner.query(`INSERT INTO devices (tenant_id, farm_id, barn_id, device_id, kind) VALUES ($1, $2, $3, $4, 'sensor')`, [
    tenant.id,
    farmId,
    barnId,
    deviceId,
  ]);
  const edgeId = `edge-sweep-${tag}`;
  await owner.query(`INSERT INTO edges (edge_id, name, key_id, public_key) VALUES ($1, $2, $3, 'not a key')`, [edgeId, `${label} server`, `key-sweep-${tag}`]);
  await owner.query(`INSERT INTO edge_tenants (edge_id, tenant_id) VALUES ($1, $2)`, [edgeId, tenant.id]);
  const own = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, $2, 'in_app', $3, 'b', 'sent') RETURNING id`,
    [tenant.id, tenant.operator.id, `secret-title-${tag}`],
  );
  const shared = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, NULL, 'in_app', $2, 'b', 'sent') RETURNING id`,
    [tenant.id, `secret-shared-${tag}`],
  );
  const insight = await owner.query<{ id: string }>(
    `INSERT INTO insights (tenant_id, farm_id, window_start, window_end, request_id, summary, insight, generator)
     VALUES ($1, $2, now() - interval '7 days', now(), $3, '{}', '{}', 'template') RETURNING id`,
    [tenant.id, farmId, `sweep-${tag}`],
  );
  return {
    tenant,
    farmId,
    barnId,
    deviceId,
    edgeId,
    notificationId: own.rows[0].id,
    sharedNotificationId: shared.rows[0].id,
    insightId: insight.rows[0].id,
    markers: [
      tenant.id,
      farmId,
      edgeId,
      `key-sweep-${tag}`,
      own.rows[0].id,
      shared.rows[0].id,
      insight.rows[0].id,
      `secret-title-${tag}`,
      `secret-shared-${tag}`,
      tenant.viewer.email,
    ],
  };
}

/** A path with its parameters filled from a tenant's fixture (the param name and the path say which id). */
function fill(path: string, f: TenantFixture): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    const n = name.toLowerCase();
    if (n.includes('tenant')) return f.tenant.id;
    if (n.includes('farm')) return f.farmId;
    if (n.includes('barn')) return f.barnId;
    if (n.includes('device')) return f.deviceId;
    if (n.includes('edge')) return f.edgeId;
    if (n.includes('user')) return f.tenant.viewer.id;
    if (n.includes('insight') || path.includes('/insights')) return f.insightId;
    return f.notificationId;
  });
}

/** Query parameters each documented operation declares (the app's own OpenAPI document). */
let declaredQuery: Map<string, Set<string>>;

/**
 * The tenant's ids in the query: all of them for a route the document does not describe, only
 * those it declares for one that it does (a strict query schema refuses any other key).
 */
function query(f: TenantFixture, r?: SweptRoute): string {
  const all: [string, string][] = [
    ['tenant_id', f.tenant.id],
    ['farm_id', f.farmId],
    ['barn_id', f.barnId],
  ];
  const declared = r ? declaredQuery.get(key(r)) : undefined;
  // Required parameters that name no tenant's resource, for the routes that declare them.
  const plain: [string, string][] = [['metric', 'temperature']];
  const pairs = declared ? [...all, ...plain].filter(([name]) => declared.has(name)) : all;
  return pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
}

/**
 * Valid bodies that name a tenant's resources, per route, for the routes whose resource is in the
 * body. Each must be refused (403/404) when the resources are another tenant's.
 */
function exampleBodies(f: TenantFixture): Record<string, unknown[]> {
  const window = { from: new Date(Date.now() - 7 * 86_400_000).toISOString(), to: new Date().toISOString() };
  return {
    'POST /api/v1/notifications/send': [
      { tenant_id: f.tenant.id, channel: 'in_app', title: 'sweep', body: 'sweep' },
      { recipient_user_id: f.tenant.viewer.id, channel: 'in_app', title: 'sweep', body: 'sweep' },
      { recipient_user_id: f.tenant.operator.id, channel: 'email', title: 'sweep', body: 'sweep' },
    ],
    'POST /api/v1/farms/:farmId/barns': [{ barn_id: 'house-sweep', name: 'House' }],
    'PATCH /api/v1/farms/:farmId': [{ name: 'Renamed by the sweep' }],
    'PATCH /api/v1/users/:userId': [{ role: 'admin' }, { disabled: true }],
    'PATCH /api/v1/farms/:farmId/barns/:barnId': [{ name: 'Renamed by the sweep' }],
    'POST /api/v1/devices': [{ farm_id: f.farmId, barn_id: f.barnId, device_id: 'temp-sweep', kind: 'sensor' }],
    'POST /api/v1/alarms/:alarmId/acknowledge': [{ note: 'sweep' }],
    'PUT /api/v1/farms/:farmId/alarm-rules/:ruleId': [
      {
        rule_id: f.notificationId,
        farm_id: f.farmId,
        kind: 'limit',
        enabled: true,
        severity: 'warning',
        metric: 'temperature',
        bound: 'max',
        threshold: 30,
        raise_delay_seconds: 60,
        clear_delay_seconds: 60,
        ladder: { steps: [{ after_seconds: 0, channels: ['in_app'], recipients: ['role:admin'] }] },
      },
    ],
    'POST /api/v1/dashboard/insights/generate': [
      { tenant_id: f.tenant.id, farm_id: f.farmId, window },
      { farm_id: f.farmId, barn_id: f.barnId, window },
    ],
  };
}

/** Every answer of a documented route is checked against the app's own OpenAPI document. */
let checker: ResponseChecker;
let checkedAnswers = 0;

async function call(base: string, method: string, path: string, opts: Parameters<typeof rawCall>[3] = {}): Promise<CallResult> {
  const r = await rawCall(base, method, path, opts);
  if (checker?.templateOf(method, path.split('?')[0])) {
    checker.check(method, path, r.status, r.headers.get('content-type'), r.body);
    checkedAnswers++;
  }
  return r;
}

let owner: Pool;
let appPool: Pool;
let server: Awaited<ReturnType<typeof listen>>;
let routes: SweptRoute[];
let a: TenantFixture;
let b: TenantFixture;
const published: unknown[] = [];

async function snapshotOf(f: TenantFixture): Promise<unknown> {
  const n = await owner.query(`SELECT id, title, status, read_at FROM notifications WHERE tenant_id = $1 ORDER BY id`, [f.tenant.id]);
  const r = await owner.query(`SELECT notification_id, user_id FROM notification_reads WHERE tenant_id = $1 ORDER BY 1, 2`, [f.tenant.id]);
  const i = await owner.query(`SELECT id FROM insights WHERE tenant_id = $1 ORDER BY id`, [f.tenant.id]);
  const u = await owner.query(`SELECT id, role, disabled_at FROM users WHERE tenant_id = $1 ORDER BY id`, [f.tenant.id]);
  const d = await owner.query(`SELECT farm_id, barn_id, device_id FROM devices WHERE tenant_id = $1 ORDER BY 1, 2, 3`, [f.tenant.id]);
  const farms = await owner.query(`SELECT farm_id, name, timezone FROM farms WHERE tenant_id = $1 ORDER BY 1`, [f.tenant.id]);
  const barns = await owner.query(`SELECT farm_id, barn_id, name FROM barns WHERE tenant_id = $1 ORDER BY 1, 2`, [f.tenant.id]);
  const edges = await owner.query(
    `SELECT e.edge_id, e.key_id, e.public_key, e.revoked_at FROM edges e JOIN edge_tenants t USING (edge_id) WHERE t.tenant_id = $1 ORDER BY 1`,
    [f.tenant.id],
  );
  return { n: n.rows, r: r.rows, i: i.rows, u: u.rows, d: d.rows, farms: farms.rows, barns: barns.rows, edges: edges.rows };
}

let bBefore: unknown;

beforeAll(async () => {
  owner = ownerPool();
  appPool = tenantPool();
  // temporalClient (and anything added later) gets the throwing stand-in below.
  const known: Partial<CloudAppDeps> = {
    pool: owner,
    tenantPool: appPool,
    notificationPublisher: { publish: async (reqs) => void published.push(...reqs) },
    edgeBatchRouter: createEdgeBatchRouter({ pool: owner, log }),
    healthChecks: {},
    jwtSecret: testJwtSecret,
    log,
    phase: () => 'ready',
    config: cloudHttpConfig(settings()),
  };
  const deps = new Proxy(known, { get: (t, key) => (key in t ? t[key as keyof CloudAppDeps] : unavailable(`deps.${String(key)}`)) }) as CloudAppDeps;
  const app = createCloudApp(deps);
  routes = routesOf(app);
  server = await listen(app);
  const doc = (await call(server.url, 'GET', '/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  checker = new ResponseChecker(doc as never);
  declaredQuery = new Map(
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => [
        `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`,
        new Set((op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name)),
      ]),
    ),
  );
  a = await seedFixture(owner, 'Sweep A');
  b = await seedFixture(owner, 'Sweep B');
  bBefore = await snapshotOf(b);
});

afterAll(async () => {
  await server?.close();
  await appPool?.end();
  await owner?.end();
});

const key = (r: SweptRoute) => `${r.method} ${r.path}`;
const guarded = () => routes.filter((r) => !publicRoutes.has(key(r)) && !signInRoutes.has(key(r)));

test('the walk finds the routes the app is known to have', () => {
  const found = routes.map(key);
  expect(found).toEqual(
    expect.arrayContaining([
      'GET /health',
      'GET /metrics',
      ...edgeRoutes,
      'POST /api/v1/notifications/send',
      'GET /api/v1/notifications/inbox',
      'POST /api/v1/notifications/read-all',
      'POST /api/v1/notifications/:id/read',
      'GET /api/v1/notifications/:id',
      ...signInRoutes,
      'GET /api/v1/me',
      'PATCH /api/v1/users/:userId',
      'GET /api/v1/farms/:farmId/barns/:barnId/flocks',
      'POST /api/v1/edges/:edgeId/rotate-key',
    ]),
  );
  expect(new Set(found).size).toBe(found.length);
});

test('/health, /metrics and the API documents answer without a token', async () => {
  for (const r of routes.filter((x) => publicRoutes.has(key(x)))) {
    const res = await call(server.url, r.method, r.path);
    expect([key(r), res.status]).toEqual([key(r), 200]);
  }
});

test('every other route answers 401 without a token and with a garbage one', async () => {
  const wrong: string[] = [];
  for (const r of guarded()) {
    for (const token of [undefined, 'garbage.token.value']) {
      const res = await call(server.url, r.method, fill(r.path, a) + query(a, r), { token, body: mutating.has(r.method) ? {} : undefined });
      if (res.status !== 401) wrong.push(`${key(r)} ${token ? 'bad token' : 'no token'} → ${res.status}`);
    }
  }
  expect(wrong).toEqual([]);
});

test("tenant A's token on tenant B's resources → 403/404 on every route that takes one; caller-scoped routes leak nothing", async () => {
  const wrong: string[] = [];
  const bodies = exampleBodies(b);
  let checked = 0;
  for (const r of guarded()) {
    const k = key(r);
    if (edgeRoutes.has(k)) {
      // A user token is not an edge credential, whatever tenant it names.
      const res = await call(server.url, r.method, r.path, { token: a.tenant.admin.token, body: { tenant_id: b.tenant.id } });
      if (res.status !== 401) wrong.push(`${k} → ${res.status}`);
      continue;
    }
    const callerScoped = callerScopedRoutes.has(k);
    // Without an example, B's identifiers go in the query (GET) or a body naming B's tenant and farm.
    const attempts = bodies[k] ?? [mutating.has(r.method) ? { tenant_id: b.tenant.id, farm_id: b.farmId, barn_id: b.barnId } : undefined];
    for (const body of attempts) {
      for (const token of [a.tenant.admin.token, a.tenant.operator.token]) {
        const url = fill(r.path, b) + query(b, r);
        const res = await call(server.url, r.method, url, { token, body });
        checked++;
        // Echoing what the caller sent is no leak; anything else of B's is.
        const sent = url + JSON.stringify(body ?? null);
        const leaked = b.markers.filter((m) => res.text.includes(m) && !sent.includes(m));
        if (leaked.length) wrong.push(`${k} leaked ${leaked.join(', ')}`);
        if (callerScoped) {
          if (res.status >= 500) wrong.push(`${k} → ${res.status}`);
        } else if (res.status !== 403 && res.status !== 404) {
          wrong.push(
            `${k} ${JSON.stringify(body ?? null)} → ${res.status} ${res.text.slice(0, 200)}` +
              (res.status === 400 && !bodies[k] ? ' (give the route a valid example body naming the other tenant in exampleBodies)' : ''),
          );
        }
      }
    }
  }
  expect(wrong).toEqual([]);
  expect(checked).toBeGreaterThan(0);
  // Nothing was published for tenant B either.
  expect(published.filter((p) => (p as { tenantId: string }).tenantId === b.tenant.id)).toEqual([]);
});

test("a viewer gets 403 on every route that writes (with its own tenant's ids)", async () => {
  const wrong: string[] = [];
  const bodies = exampleBodies(a);
  const writes = guarded().filter((r) => mutating.has(r.method) && !viewerWrites.has(key(r)));
  expect(writes.length).toBeGreaterThan(0);
  for (const r of writes) {
    const k = key(r);
    for (const body of bodies[k] ?? [{}]) {
      const res = await call(server.url, r.method, fill(r.path, a) + query(a, r), { token: a.tenant.viewer.token, body });
      const expected = edgeRoutes.has(k) ? 401 : 403;
      if (res.status !== expected) wrong.push(`${k} → ${res.status} (expected ${expected})`);
    }
  }
  expect(wrong).toEqual([]);
});

/** Internal service routes take the service token, not a user token (a dashboard token is 403 there). */
const serviceRoute = (r: SweptRoute) => r.path.startsWith('/api/v1/ml/') || r.path.startsWith('/api/v1/llm-insights/');
const badCharsets = ['latin1', 'ISO-8859-1', 'utf-16', 'UTF-16LE', 'utf8', 'us-ascii', '"windows-1252"'];

test('every route answers 415 unsupported_charset to a body in a charset other than UTF-8', async () => {
  const wrong: string[] = [];
  const serviceToken = settings().INTERNAL_SERVICE_TOKEN;
  for (const r of [...guarded(), ...routes.filter((x) => signInRoutes.has(key(x)))]) {
    const k = key(r);
    // The credential that gets a caller past authentication where it comes first: charset is
    // refused before the body is read, and before the edge signature (which needs the body).
    const token = edgeRoutes.has(k) ? undefined : serviceRoute(r) ? serviceToken : a.tenant.admin.token;
    for (const charset of badCharsets) {
      const res = await call(server.url, r.method, fill(r.path, a) + query(a, r), {
        token,
        headers: { 'content-type': `application/json; charset=${charset}` },
        body: mutating.has(r.method) ? (exampleBodies(a)[k]?.[0] ?? {}) : undefined,
      });
      if (res.status !== 415 || res.body?.error?.code !== 'unsupported_charset' || typeof res.body?.error?.message !== 'string') {
        wrong.push(`${k} charset=${charset} → ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('UTF-8 in any case, quoted or not, and no charset at all are accepted (no 415, no 500)', async () => {
  const wrong: string[] = [];
  const serviceToken = settings().INTERNAL_SERVICE_TOKEN;
  for (const r of guarded().filter((x) => mutating.has(x.method))) {
    const k = key(r);
    const token = edgeRoutes.has(k) ? undefined : serviceRoute(r) ? serviceToken : a.tenant.admin.token;
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="Utf-8"']) {
      const res = await call(server.url, r.method, fill(r.path, a) + query(a, r), { token, headers: { 'content-type': contentType }, body: {} });
      if (res.status === 415 || res.status >= 500) wrong.push(`${k} ${contentType} → ${res.status} ${res.text.slice(0, 160)}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('a refused charset on the edge batch routes is counted like every other refused batch', async () => {
  const res = await call(server.url, 'POST', edgeBatchPaths[0], { headers: { 'content-type': 'application/json; charset=latin1' }, body: {} });
  expect(res.status).toBe(415);
  const metrics = await call(server.url, 'GET', '/metrics');
  expect(metrics.text).toMatch(/farmiq_cloud_ingestion_requests_total\{status="415",code="unsupported_charset"\} [1-9]/);
});

test("after the sweep, tenant B's rows are exactly as before, and the answers were checked against the document", async () => {
  expect(await snapshotOf(b)).toEqual(bBefore);
  expect(checkedAnswers).toBeGreaterThan(routes.length * 3);
});
