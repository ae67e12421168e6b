/**
 * The API kit (gateways/http/api/): a route's schemas validate its input and describe it in the
 * OpenAPI document, its role is enforced, CSV comes from the same answer, and the response checker
 * the API tests use catches an answer the document does not describe.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { issueToken } from '../../auth/tokens';
import { ApiRouter, spreadsheetSafe } from '../../gateways/http/api/api-router';
import { buildOpenApiDocument } from '../../gateways/http/api/openapi';
import { ResponseChecker } from '../support/openapi';
import { testTokens } from '../auth/support';
import { serveApi, type ApiServer } from './api-support';

const pen = z.object({ pen_id: z.string(), head_count: z.number().int() }).meta({ id: 'TestPen' });
const tenantId = randomUUID();
const token = (role: 'viewer' | 'operator' | 'admin') => issueToken({ userId: randomUUID(), tenantId, role }, testTokens);

function penRouter(): ApiRouter {
  const api = new ApiRouter('pens');
  api.route(
    {
      method: 'get',
      path: '/api/v1/test/barns/:barnId/pens',
      role: 'viewer',
      summary: 'pens of a barn',
      params: z.object({ barnId: z.string().regex(/^barn-\d+$/) }),
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10).default(5) }),
      responses: { 200: { description: 'the pens', schema: z.object({ items: z.array(pen) }) } },
      csv: { rows: (b: { items: z.infer<typeof pen>[] }) => b.items, columns: ['pen_id', 'head_count'], filename: (p) => `pens-${p.barnId}` },
    },
    async ({ params, query }) => ({
      body: { items: Array.from({ length: query.limit }, (_, i) => ({ pen_id: `${params.barnId}/p${i}`, head_count: 10 * i })) },
    }),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/test/pens',
      role: 'operator',
      summary: 'add a pen',
      body: z.strictObject({ pen_id: z.string().min(1), head_count: z.number().int().min(0) }),
      responses: { 201: { description: 'added', schema: pen } },
    },
    async ({ body }) => ({ body }),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/test/wrong',
      role: 'viewer',
      summary: 'answers what it does not declare',
      responses: { 200: { description: 'x', schema: pen } },
    },
    async () => ({ body: { pen_id: 7 } }),
  );
  return api;
}

let server: ApiServer;
beforeAll(async () => {
  server = await serveApi({ routers: [penRouter()] });
});
afterAll(() => server.close());

test('a valid request gets the declared answer, checked against the document', async () => {
  const r = await server.call('GET', '/api/v1/test/barns/barn-1/pens?limit=2', { token: token('viewer') });
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    items: [
      { pen_id: 'barn-1/p0', head_count: 0 },
      { pen_id: 'barn-1/p1', head_count: 10 },
    ],
  });
});

test('path, query and body are validated with the route’s schemas, naming the field', async () => {
  const badPath = await server.call('GET', '/api/v1/test/barns/shed/pens', { token: token('viewer') });
  expect([badPath.status, badPath.body.error.code, badPath.body.error.field]).toEqual([400, 'invalid_query', 'barnId']);
  const badQuery = await server.call('GET', '/api/v1/test/barns/barn-1/pens?limit=99', { token: token('viewer') });
  expect([badQuery.status, badQuery.body.error.code, badQuery.body.error.field]).toEqual([400, 'invalid_query', 'limit']);
  const unknown = await server.call('GET', '/api/v1/test/barns/barn-1/pens?drop=1', { token: token('viewer') });
  expect(unknown.body.error.code).toBe('invalid_query');
  const badBody = await server.call('POST', '/api/v1/test/pens', { token: token('operator'), body: { pen_id: 'p', head_count: -1 } });
  expect([badBody.status, badBody.body.error.code, badBody.body.error.field]).toEqual([400, 'invalid_body', 'head_count']);
  const ok = await server.call('POST', '/api/v1/test/pens', { token: token('operator'), body: { pen_id: 'p', head_count: 3 } });
  expect([ok.status, ok.body]).toEqual([201, { pen_id: 'p', head_count: 3 }]);
});

test('the role comes before the input: a viewer may not write, nobody without a token', async () => {
  const viewer = await server.call('POST', '/api/v1/test/pens', { token: token('viewer'), body: { pen_id: 'p', head_count: 3 } });
  expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);
  const none = await server.call('POST', '/api/v1/test/pens', { body: {} });
  expect([none.status, none.body.error.code]).toEqual([401, 'unauthenticated']);
});

test('?format=csv answers the same rows as CSV', async () => {
  const res = await fetch(`${server.url}/api/v1/test/barns/barn-2/pens?limit=3&format=csv`, { headers: { authorization: `Bearer ${token('viewer')}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(res.headers.get('content-disposition')).toBe('attachment; filename="pens-barn-2.csv"');
  expect(await res.text()).toBe('pen_id,head_count\nbarn-2/p0,0\nbarn-2/p1,10\nbarn-2/p2,20\n');
});

test('CSV text a spreadsheet would run as a formula is written inert', () => {
  expect(['=HYPERLINK("x")', '+1', '-2+3', '@SUM(A1)', '\tx', 'barn-1', '', "it's"].map(spreadsheetSafe)).toEqual([
    `'=HYPERLINK("x")`,
    "'+1",
    "'-2+3",
    "'@SUM(A1)",
    "'\tx",
    'barn-1',
    '',
    "it's",
  ]);
});

test('the checker refuses an answer the document does not describe', async () => {
  await expect(server.call('GET', '/api/v1/test/wrong', { token: token('viewer') })).rejects.toThrow(/does not match the document/);
  const checker = new ResponseChecker(buildOpenApiDocument(penRouter().routes, { title: 't', version: '0' }) as never);
  expect(() => checker.check('GET', '/api/v1/test/barns/barn-1/pens', 418, 'application/json', {})).toThrow(/status 418 is not in the document/);
  expect(() => checker.check('DELETE', '/api/v1/test/pens', 200, null, undefined)).toThrow(/no operation/);
});

test('the document is OpenAPI 3.1 with the route’s parameters, roles and the one error body', () => {
  const doc = buildOpenApiDocument(penRouter().routes, { title: 't', version: '0' }) as unknown as {
    openapi: string;
    paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown>; 'x-farmiq-role': string }>>;
  };
  expect(doc.openapi).toBe('3.1.0');
  const op = doc.paths['/api/v1/test/barns/{barnId}/pens'].get;
  expect(op.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:barnId', 'query:format', 'query:limit']);
  expect(op['x-farmiq-role']).toBe('viewer');
  expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '404', '415', '503']);
  expect(Object.keys(doc.paths['/api/v1/test/pens'].post.responses)).toContain('403');
});
