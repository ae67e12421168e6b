/**
 * The cloud app's OpenAPI document (GET /api/v1/openapi.json) against the app's own router stack:
 * every route a client can call is described, nothing is described that is not mounted, and the
 * offline docs page and its assets are served from the app itself.
 */
import { cloudHttpConfig, createCloudApp, type CloudAppDeps } from '../../gateways/http/cloud-app';
import { createEdgeBatchRouter } from '../../gateways/http/cloud-ingestion/edge-batch-router';
import { edgeBatchPaths } from '../../domain/sync';
import { settings } from '../../config/settings';
import { logger } from '../../platform/logger';
import { call, listen, ownerPool, tenantPool, testJwtSecret } from '../auth/support';
import { routesOf, type SweptRoute } from './support';
import type { Pool } from 'pg';

const log = logger('openapi-test');
/** Routes outside the document: health and metrics, the documents themselves, the edge batch routes (signed, not an API for clients). */
const undocumented = new Set([
  'GET /health',
  'GET /metrics',
  'GET /api/v1/openapi.json',
  'GET /.*', // the dashboard's files (any path outside /api: its index.html)
  'GET /api/docs',
  'GET /api/docs/init.js',
  ...edgeBatchPaths.map((p) => `POST ${p}`),
  // The farm servers' signed long-poll (docs/downlink.md), like their batches: not the dashboard's API.
  'POST /api/v1/edge/commands',
]);

let owner: Pool;
let app: Pool;
let server: Awaited<ReturnType<typeof listen>>;
let routes: SweptRoute[];
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; tags?: string[] }>> };

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  const deps: CloudAppDeps = {
    pool: owner,
    tenantPool: app,
    notificationPublisher: { publish: async () => undefined },
    edgeBatchRouter: createEdgeBatchRouter({ pool: owner, log }),
    temporalClient: {} as CloudAppDeps['temporalClient'],
    jwtSecret: testJwtSecret,
    log,
    phase: () => 'ready',
    config: cloudHttpConfig(settings()),
  };
  const cloud = createCloudApp(deps);
  routes = routesOf(cloud);
  server = await listen(cloud);
  const r = await call(server.url, 'GET', '/api/v1/openapi.json');
  expect(r.status).toBe(200);
  doc = r.body;
});

afterAll(async () => {
  await server?.close();
  await app?.end();
  await owner?.end();
});

const documented = () => Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));

test('the document is OpenAPI 3.1 and describes every route of the app, and only those', () => {
  expect(doc.openapi).toBe('3.1.0');
  const mounted = routes.map((r) => `${r.method} ${r.path}`).filter((k) => !undocumented.has(k));
  expect(mounted.length).toBeGreaterThan(10);
  expect([...documented()].sort()).toEqual([...new Set(mounted)].sort());
});

test('every operation documents a success answer and the one error body', () => {
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const statuses = Object.keys(op.responses);
      expect([`${m} ${p}`, statuses.some((s) => s.startsWith('2'))]).toEqual([`${m} ${p}`, true]);
      expect([`${m} ${p}`, statuses]).toEqual([`${m} ${p}`, expect.arrayContaining(['400', '404', '503'])]);
      expect(op.tags?.length).toBeGreaterThan(0);
    }
  }
});

test('the docs page works offline: its page, script and Swagger UI assets come from this server', async () => {
  const page = await fetch(`${server.url}/api/docs`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  const html = await page.text();
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(sources.length).toBeGreaterThanOrEqual(3);
  for (const src of sources) {
    expect(src.startsWith('/')).toBe(true); // nothing from another host
    const asset = await fetch(`${server.url}${src}`);
    expect([src, asset.status]).toEqual([src, 200]);
  }
  expect(html).toContain('data-document="/api/v1/openapi.json"');
});
