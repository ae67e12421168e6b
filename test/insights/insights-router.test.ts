/**
 * The insight endpoints end to end against the real stack: HTTP (express, the auth engineer's
 * tokens) → insights router → the Temporal dev server (TEMPORAL_ADDRESS, namespace farmiq-cloud) →
 * a cloud worker with the real activities → the cloud test database as farmiq_app (RLS). The ML
 * and LLM steps go over HTTP to the internal routers of the same app, and the LLM router to a local
 * OpenAI-compatible stub, so the x-request-id is followed through every hop. Every answer the test
 * gets is checked against the OpenAPI document of the three routers (test/support/openapi.ts).
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import type { Pool } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createInsightActivities } from '../../activities/insights/generation';
import { createInsightNotificationActivities } from '../../activities/insights/notification';
import { NotificationModuleNotifier } from '../../insights/notifier';
import { HttpInsightAnalyzer } from '../../insights/llm/http-analyzer';
import { OpenAiCompatibleWriter } from '../../insights/llm/openai-compatible';
import { dataBlockClose, dataBlockOpen } from '../../insights/llm/prompt';
import { writeTemplateInsight } from '../../insights/llm/template-writer';
import { HttpPredictor } from '../../insights/ml/predictor';
import { buildOpenApiDocument } from '../../gateways/http/api/openapi';
import { errorHandler, notFound } from '../../gateways/http/errors';
import { createInsightsRouter } from '../../gateways/http/insights/insights-router';
import { createLlmRouter } from '../../gateways/http/insights/llm-router';
import { createMlRouter } from '../../gateways/http/insights/ml-router';
import { requestId as requestIdMiddleware } from '../../gateways/http/request-id';
import { farmiqFarm, farmiqStatus, farmiqTenant } from '../../domain/temporal/search-attributes';
import { insightWorkflowId } from '../../domain/temporal/workflow-ids';
import { call, listen, ownerPool, seedTenant, tenantPool, testTokens, type CallResult, type TestTenant } from '../auth/support';
import { ResponseChecker } from '../support/openapi';
import { temporalAddress } from '../support/stack';
import { startOpenAiStub, type OpenAiStub } from './openai-stub';
import { seedBarn, seedFarm, seedFeed, seedRollups, seedSessions } from './seed';

const namespace = process.env.TEMPORAL_CLOUD_NAMESPACE ?? 'farmiq-cloud';
const serviceToken = `svc-${randomUUID()}`;
const log = pino({ level: 'silent' });

let owner: Pool;
let app: Pool;
let a: TestTenant;
let b: TestTenant;
let stub: OpenAiStub;
let server: { url: string; close(): Promise<void> };
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
const workers: { worker: Worker; running: Promise<void> }[] = [];
/** x-request-id of every internal ML / LLM call the app received. */
const internalCalls: { path: string; requestId: string | undefined }[] = [];
let checker: ResponseChecker;

/** The answer checked against the routers' document; /slow is a second mount of the insights router. */
function check(method: string, path: string, r: { status: number; headers: Headers; body: unknown }): void {
  checker.check(method, path.replace(/^\/slow\//, '/'), r.status, r.headers.get('content-type'), r.body);
}

/** call() of test/auth/support.ts, its answer checked against the document. */
async function api(method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<CallResult> {
  const r = await call(server.url, method, path, opts);
  check(method, path, r);
  return r;
}

const farmId = 'farm-router';
const window = { from: '2026-03-11T00:00:00.000Z', to: '2026-03-14T00:00:00.000Z' };
const taskQueue = `insights-router-${randomUUID()}`;
const slowTaskQueue = `insights-router-slow-${randomUUID()}`;

async function seedFarmOf(t: TestTenant): Promise<void> {
  const scope = { tenantId: t.id, farmId, barnId: 'barn-1' };
  await seedFarm(owner, { tenantId: t.id, farmId, name: 'Router farm' });
  await seedBarn(owner, { tenantId: t.id, farmId, barnId: 'barn-1', animalCount: 1000, placedAt: '2026-03-01', ageAtPlacementDays: 20 });
  await seedRollups(owner, scope, [{ deviceId: 't-1', metric: 'temperature', start: '2026-03-11T00:00:00Z', count: 360, mean: 21, min: 20, max: 22 }]);
  await seedFeed(owner, scope, [
    { kg: 500, at: '2026-03-11T08:00:00Z' },
    { kg: 520, at: '2026-03-12T08:00:00Z' },
  ]);
  await seedSessions(owner, scope, [
    { stationId: 'st-1', weightKg: 2.0, at: '2026-03-11T09:00:00Z' },
    { stationId: 'st-1', weightKg: 2.3, at: '2026-03-13T09:00:00Z' },
  ]);
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  owner = ownerPool();
  app = tenantPool();
  a = await seedTenant(owner, 'Router A');
  b = await seedTenant(owner, 'Router B');
  await seedFarmOf(a);
  await seedFarm(owner, { tenantId: b.id, farmId: 'farm-only-b' });

  // The "model" writes exactly what the template writer would, from the summary it was sent.
  stub = await startOpenAiStub();
  stub.answer((req) => {
    const user = req.json.messages[1].content;
    const summary = JSON.parse(user.slice(user.indexOf(dataBlockOpen) + dataBlockOpen.length, user.indexOf(dataBlockClose)));
    return { content: JSON.stringify(writeTemplateInsight(summary)) };
  });

  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection, namespace });
  const web = express();
  web.use(requestIdMiddleware);
  web.use((req, _res, next) => {
    if (req.path.startsWith('/api/v1/ml/') || req.path.startsWith('/api/v1/llm-insights/'))
      internalCalls.push({ path: req.path, requestId: req.get('x-request-id') });
    next();
  });
  const ml = createMlRouter({ log, serviceToken, tokens: testTokens });
  const llm = createLlmRouter({
    log,
    serviceToken,
    tokens: testTokens,
    llm: new OpenAiCompatibleWriter({ baseUrl: stub.baseUrl, model: 'stub-model', timeoutMs: 5000 }),
  });
  const insights = createInsightsRouter({ temporalClient: client, pool: app, log, taskQueue, tokens: testTokens, responseTimeoutMs: 20_000 });
  web.use(ml.router);
  web.use(llm.router);
  web.use(insights.router);
  web.use(
    '/slow',
    createInsightsRouter({ temporalClient: client, pool: app, log, taskQueue: slowTaskQueue, tokens: testTokens, responseTimeoutMs: 300 }).router,
  );
  checker = new ResponseChecker(buildOpenApiDocument([...ml.routes, ...llm.routes, ...insights.routes], { title: 'insights test', version: '0' }) as never);
  web.use(notFound);
  web.use(errorHandler(log));
  server = await listen(web);

  nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/cloud'), logger: new DefaultLogger('WARN') });
  const notifier = new NotificationModuleNotifier({ pool: app, publisher: { publish: async () => {} }, log });
  const remote = {
    predictor: new HttpPredictor({ baseUrl: server.url, serviceToken, timeoutMs: 5000 }),
    analyzer: new HttpInsightAnalyzer({ baseUrl: server.url, serviceToken, timeoutMs: 10_000 }),
    llmModel: 'stub-model',
  };
  const activities = { ...createInsightActivities({ pool: app, ...remote }), ...createInsightNotificationActivities({ notifier }) };
  const real = createInsightActivities({ pool: app, ...remote });
  const slowActivities = {
    ...activities,
    aggregateFeatureSummary: async (input: Parameters<typeof real.aggregateFeatureSummary>[0]) => {
      await new Promise((r) => setTimeout(r, 1500));
      return real.aggregateFeatureSummary(input);
    },
  };
  for (const [queue, acts] of [
    [taskQueue, activities],
    [slowTaskQueue, slowActivities],
  ] as const) {
    const worker = await Worker.create({ connection: nativeConnection, namespace, taskQueue: queue, workflowBundle, activities: acts });
    workers.push({ worker, running: worker.run() });
  }
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.running));
  await nativeConnection?.close();
  await connection?.close();
  await server?.close();
  await stub?.close();
  await app?.end();
  await owner?.end();
});

const generate = (body: unknown, opts: { token?: string; requestId?: string; prefix?: string } = {}) =>
  api('POST', `${opts.prefix ?? ''}/api/v1/dashboard/insights/generate`, {
    token: opts.token ?? a.operator.token,
    body,
    headers: opts.requestId ? { 'x-request-id': opts.requestId } : {},
  });

const body = (extra: Record<string, unknown> = {}) => ({ farm_id: farmId, window, ...extra });

describe('POST /api/v1/dashboard/insights/generate', () => {
  let firstId: string;
  const requestId = `req-router-${randomUUID()}`;

  it('generates an insight through the workflow, carrying x-request-id through every hop', async () => {
    internalCalls.length = 0;
    stub.requests.length = 0;
    const res = await generate(body({ options: { predictions: true, notify: { channel: 'in_app' } } }), { requestId });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const { insight, predictions_error, notification, replayed } = res.body;
    firstId = insight.id;
    expect(replayed).toBe(false);
    expect(predictions_error).toBeNull();
    expect(insight).toMatchObject({
      tenant_id: a.id,
      farm_id: farmId,
      barn_id: null,
      window,
      request_id: requestId,
      workflow_id: insightWorkflowId(a.id, requestId),
      generator: 'llm',
      model: 'stub-model',
      fallback: null,
      created_by: a.operator.id,
    });
    // KPIs of the seeded data: 500 + 520 kg of feed, 2.0 → 2.3 kg over two days = 150 g/day.
    expect(insight.summary.barns[0].feed.total_kg).toBe(1020);
    expect(insight.summary.barns[0].growth.adg_g_per_day).toBe(150);
    expect(insight.predictions.model).toBe('growth-reference/1');
    expect(notification).toEqual({ workflow_id: `insight-notification/${a.id}/${requestId}`, started: true });

    // The ML and LLM services were called over HTTP with the same request id, and so was the model.
    expect(internalCalls).toEqual([
      { path: '/api/v1/ml/predict', requestId },
      { path: '/api/v1/llm-insights/analyze', requestId },
    ]);
    expect(stub.requests.map((r) => r.headers['x-request-id'])).toEqual([requestId]);

    // Findable in the Temporal UI by tenant and farm; the request id is in the memo.
    const d = await client.workflow.getHandle(insightWorkflowId(a.id, requestId)).describe();
    expect(d.memo).toMatchObject({ requestId, userId: a.operator.id });
    expect(d.typedSearchAttributes.get(farmiqTenant)).toBe(a.id);
    expect(d.typedSearchAttributes.get(farmiqFarm)).toBe(farmId);
    expect(d.typedSearchAttributes.get(farmiqStatus)).toBe('stored');

    // The best-effort notification arrives (it is not waited for), traced with the request id.
    let row;
    for (let i = 0; i < 100 && !row; i++) {
      row = (await owner.query('SELECT channel, status, user_id, trace_id, data FROM notifications WHERE tenant_id = $1 AND trace_id = $2', [a.id, requestId]))
        .rows[0];
      if (!row) await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({
      channel: 'in_app',
      status: 'sent',
      user_id: a.operator.id,
      trace_id: requestId,
      data: { kind: 'insight', insight_id: insight.id },
    });
  });

  it('returns the same insight for a repeated request id, without generating again', async () => {
    stub.requests.length = 0;
    const res = await generate(body({ options: { predictions: true } }), { requestId });
    expect(res.status).toBe(200);
    expect(res.body.replayed).toBe(true);
    expect(res.body.insight.id).toBe(firstId);
    expect(stub.requests).toHaveLength(0);
    const n = await owner.query('SELECT count(*)::int AS n FROM insights WHERE tenant_id = $1 AND request_id = $2', [a.id, requestId]);
    expect(n.rows[0].n).toBe(1);
  });

  it('refuses a request id reused for another window (409)', async () => {
    const res = await generate(body({ window: { from: '2026-03-10T00:00:00.000Z', to: window.to } }), { requestId });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('request_id_reused');
  });

  it('mints a request id when none is sent, and uses it as the insight request id', async () => {
    const res = await generate(body({ barn_id: 'barn-1' }));
    expect(res.status).toBe(200);
    const minted = res.headers.get('x-request-id');
    expect(minted).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.insight).toMatchObject({ request_id: minted, barn_id: 'barn-1' });
  });

  it('answers 504 with a code when the insight is not ready in time; the same request id then collects it', async () => {
    const slowId = `req-slow-${randomUUID()}`;
    const res = await generate(body(), { requestId: slowId, prefix: '/slow' });
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ code: 'insight_timeout', workflow_id: insightWorkflowId(a.id, slowId), request_id: slowId });
    await client.workflow.getHandle(insightWorkflowId(a.id, slowId)).result();
    const again = await generate(body(), { requestId: slowId, prefix: '/slow' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ replayed: true, insight: { request_id: slowId } });
  });

  it('needs a token (401) and the operator role (403)', async () => {
    expect((await api('POST', '/api/v1/dashboard/insights/generate', { body: body() })).status).toBe(401);
    const viewer = await generate(body(), { token: a.viewer.token });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('forbidden');
  });

  it("takes the tenant from the token: another tenant's farm or tenant id is not found (404)", async () => {
    expect((await generate(body({ tenant_id: b.id }))).status).toBe(404);
    expect((await generate(body({ tenant_id: a.id }))).status).toBe(200);
    expect((await generate({ farm_id: 'farm-only-b', window })).status).toBe(404);
    expect((await generate(body(), { token: b.operator.token })).status).toBe(404);
    expect((await generate(body({ barn_id: 'barn-404' }))).body.error.code).toBe('not_found');
  });

  const bad: [string, unknown, string, string | null][] = [
    ['a missing farm', { window }, 'invalid_body', 'farm_id'],
    ['a window without "to"', { farm_id: farmId, window: { from: window.from } }, 'invalid_body', 'window.to'],
    ['a malformed date', { farm_id: farmId, window: { from: 'yesterday', to: window.to } }, 'invalid_body', 'window.from'],
    ['from after to', { farm_id: farmId, window: { from: window.to, to: window.from } }, 'invalid_window', 'window'],
    ['a window over 180 days', { farm_id: farmId, window: { from: '2025-01-01T00:00:00Z', to: '2025-07-01T00:00:01Z' } }, 'window_too_long', 'window'],
    ['an unknown field', { ...body(), tenant: 'x' }, 'invalid_body', null],
    ['an unknown option', { ...body(), options: { predictions: true, llm: 'gpt-5' } }, 'invalid_body', 'options'],
    ['a wrong option type', { ...body(), options: { predictions: 'yes' } }, 'invalid_body', 'options.predictions'],
    ['an unknown channel', { ...body(), options: { notify: { channel: 'pigeon' } } }, 'invalid_body', 'options.notify.channel'],
    ['a farm id with a slash', { ...body(), farm_id: 'a/b' }, 'invalid_body', 'farm_id'],
  ];
  it.each(bad)('400 for %s', async (_name, payload, code, field) => {
    const res = await generate(payload);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    if (field) expect(res.body.error.field).toBe(field);
  });

  it('400 invalid_json for a body that is not JSON, 400 unknown_recipient for a user of another tenant', async () => {
    const res = await fetch(`${server.url}/api/v1/dashboard/insights/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.operator.token}`, 'content-type': 'application/json' },
      body: '{"farm_id": ',
    });
    const answer = (await res.json()) as { error: { code: string } };
    check('POST', '/api/v1/dashboard/insights/generate', { status: res.status, headers: res.headers, body: answer });
    expect(res.status).toBe(400);
    expect(answer.error.code).toBe('invalid_json');
    const other = await generate(body({ options: { notify: { channel: 'email', user_id: b.operator.id } } }));
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('unknown_recipient');
  });
});

describe('GET /api/v1/dashboard/insights', () => {
  it('lists a farm’s insights newest first with cursor pagination, to viewers of the tenant only', async () => {
    const page1 = await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}&limit=1`, { token: a.viewer.token });
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(1);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}&limit=1&cursor=${page1.body.next_cursor}`, {
      token: a.viewer.token,
    });
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.items[0].id).not.toBe(page1.body.items[0].id);
    expect(page2.body.items[0].created_at < page1.body.items[0].created_at || page2.body.items[0].id < page1.body.items[0].id).toBe(true);
    expect([null, 'barn-1']).toContain(page1.body.items[0].barn_id);
    expect(page1.body.items[0]).toEqual({
      id: expect.any(String),
      farm_id: farmId,
      barn_id: page1.body.items[0].barn_id,
      window,
      request_id: expect.any(String),
      generator: expect.any(String),
      title: expect.any(String),
      created_at: expect.any(String),
    });
    const all = await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}&limit=100`, { token: a.viewer.token });
    const total = await owner.query('SELECT count(*)::int AS n FROM insights WHERE tenant_id = $1 AND farm_id = $2', [a.id, farmId]);
    expect(all.body.items).toHaveLength(total.rows[0].n);
    expect(all.body.next_cursor).toBeNull();

    expect((await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}`, { token: b.viewer.token })).status).toBe(404);
    expect((await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}`)).status).toBe(401);
  });

  it('400 invalid_query for a missing farm, a bad limit or a forged cursor', async () => {
    for (const q of ['', `farm_id=${farmId}&limit=0`, `farm_id=${farmId}&limit=1000`, `farm_id=${farmId}&cursor=bm90LWEtY3Vyc29y`]) {
      const res = await api('GET', `/api/v1/dashboard/insights?${q}`, { token: a.viewer.token });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_query');
    }
  });
});

describe('GET /api/v1/dashboard/insights/:id', () => {
  it('returns one insight with its summary to the tenant, and 404 to anyone else', async () => {
    const list = await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}`, { token: a.viewer.token });
    const id = list.body.items[0].id;
    const one = await api('GET', `/api/v1/dashboard/insights/${id}`, { token: a.viewer.token });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, tenant_id: a.id, farm_id: farmId, summary: { schema_version: 'farmiq.feature-summary/1' } });
    expect((await api('GET', `/api/v1/dashboard/insights/${id}`, { token: b.admin.token })).status).toBe(404);
    expect((await api('GET', `/api/v1/dashboard/insights/${randomUUID()}`, { token: a.viewer.token })).status).toBe(404);
    expect((await api('GET', '/api/v1/dashboard/insights/not-a-uuid', { token: a.viewer.token })).status).toBe(404);
  });
});

describe('the internal ML and LLM endpoints', () => {
  const predictBody = {
    species: 'broiler',
    barns: [{ barn_id: 'barn-1', age_days: 32, last_weighing_day: '2026-03-13', mean_weight_kg: 2.3, animal_count: 1000, fcr: 3.4, target_weight_kg: 2.5 }],
  };

  it('POST /api/v1/ml/predict: service token only; validates its body', async () => {
    const ok = await api('POST', '/api/v1/ml/predict', { token: serviceToken, body: predictBody, headers: { 'x-request-id': 'req-ml-1' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('req-ml-1');
    expect(ok.body.predictions.barns[0]).toMatchObject({ barn_id: 'barn-1', performance_index: 1.234, days_to_target: 1.6, feed_needed_kg: 680 });
    expect((await api('POST', '/api/v1/ml/predict', { body: predictBody })).status).toBe(401);
    expect((await api('POST', '/api/v1/ml/predict', { token: a.admin.token, body: predictBody })).status).toBe(403);
    const bad = await api('POST', '/api/v1/ml/predict', { token: serviceToken, body: { ...predictBody, barns: [{ barn_id: 'x' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_body');
    const species = await api('POST', '/api/v1/ml/predict', { token: serviceToken, body: { ...predictBody, species: 'ostrich' } });
    expect(species.body.error.code).toBe('unknown_species');
    // Its body limit is 256 kB: ~100 kB is read (and refused for its 700 barns, max 64); ~300 kB is not read.
    const barns = (n: number) => ({ ...predictBody, barns: Array.from({ length: n }, (_, i) => ({ ...predictBody.barns[0], barn_id: `barn-${i}` })) });
    expect(JSON.stringify(barns(700)).length).toBeGreaterThan(96 * 1024);
    const read = await api('POST', '/api/v1/ml/predict', { token: serviceToken, body: barns(700) });
    expect([read.status, read.body.error.code, read.body.error.field]).toEqual([400, 'invalid_body', 'barns']);
    expect(JSON.stringify(barns(2000)).length).toBeGreaterThan(256 * 1024);
    const tooLarge = await api('POST', '/api/v1/ml/predict', { token: serviceToken, body: barns(2000) });
    expect([tooLarge.status, tooLarge.body.error.code]).toEqual([413, 'payload_too_large']);
  });

  it('POST /api/v1/llm-insights/analyze: refuses anything but a feature summary', async () => {
    const stored = await api('GET', `/api/v1/dashboard/insights?farm_id=${farmId}`, { token: a.viewer.token });
    const one = await api('GET', `/api/v1/dashboard/insights/${stored.body.items[0].id}`, { token: a.viewer.token });
    const summary = one.body.summary;
    const ok = await api('POST', '/api/v1/llm-insights/analyze', { token: serviceToken, body: { summary } });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ generator: 'llm', model: 'stub-model' });
    const smuggled = await api('POST', '/api/v1/llm-insights/analyze', {
      token: serviceToken,
      body: { summary: { ...summary, readings: [{ value: 21.4 }] } },
    });
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error.code).toBe('invalid_feature_summary');
    const extra = await api('POST', '/api/v1/llm-insights/analyze', { token: serviceToken, body: { summary, telemetry: [] } });
    expect(extra.status).toBe(400);
    expect((await api('POST', '/api/v1/llm-insights/analyze', { token: a.operator.token, body: { summary } })).status).toBe(403);
    expect((await api('POST', '/api/v1/llm-insights/analyze', { body: { summary } })).status).toBe(401);
  });

  it('are documented with the service token, the dashboard routes with a user token and their role', () => {
    const paths = checker.document.paths as Record<string, Record<string, { security?: unknown; 'x-farmiq-role'?: string }>>;
    expect(paths['/api/v1/ml/predict'].post.security).toEqual([{ service: [] }]);
    expect(paths['/api/v1/llm-insights/analyze'].post.security).toEqual([{ service: [] }]);
    expect(paths['/api/v1/dashboard/insights/generate'].post).toMatchObject({ security: [{ bearer: [] }], 'x-farmiq-role': 'operator' });
    expect(paths['/api/v1/dashboard/insights/{id}'].get).toMatchObject({ security: [{ bearer: [] }], 'x-farmiq-role': 'viewer' });
  });
});
