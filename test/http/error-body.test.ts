/**
 * The one HTTP error body (gateways/http/errors.ts): every route's refusals, the internal
 * endpoints' and edge ingestion's alike, are `{ error: { code, message, field? } }`; and a database
 * outage is 503 database_unavailable by db/errors.ts's classification — the same answer every
 * process gives (issue 9: a query cancelled by statement_timeout or a serialization failure was a
 * 500 on the HTTP gateways and "transient" everywhere else).
 */
import express from 'express';
import pino from 'pino';
import { IngestionError } from '../../cloud/ingestion/errors';
import { errorHandler, HttpError, sendError } from '../../gateways/http/errors';
import { requestId, requestIdOf } from '../../gateways/http/request-id';
import { serve, type Served } from './support';

let served: Served;

beforeAll(async () => {
  const app = express();
  app.use(requestId);
  app.get('/throw/:code', (req) => {
    throw Object.assign(new Error(`database said ${req.params.code}`), { code: req.params.code });
  });
  app.get('/http', () => {
    throw new HttpError(400, 'invalid_query', 'limit: too big', 'limit', { hint: 'at most 100' });
  });
  app.get('/ingestion', (_req, res) => sendError(res, new IngestionError(503, 'unavailable', 'the cloud database is not reachable; retry shortly')));
  app.use(errorHandler(pino({ level: 'silent' })));
  served = await serve(app);
});

afterAll(() => served.close());

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(served.url + path, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error: Record<string, unknown> } };
}

test.each(['57014', '40001', '40P01', '53300', '08006', 'ECONNREFUSED'])('a database error %s is 503 database_unavailable with retry-after', async (code) => {
  const res = await get(`/throw/${code}`);
  expect([res.status, res.body.error.code, res.headers.get('retry-after')]).toEqual([503, 'database_unavailable', '5']);
});

test('an error the database classification calls no outage stays a 500', async () => {
  const res = await get('/throw/42P01'); // undefined_table: a bug, not an outage
  expect([res.status, res.body.error.code, res.headers.get('retry-after')]).toEqual([500, 'internal_error', null]);
});

test('an HttpError carries its code, field and details in the one body', async () => {
  const res = await get('/http');
  expect(res.status).toBe(400);
  expect(res.body).toEqual({ error: { code: 'invalid_query', message: 'limit: too big', field: 'limit', hint: 'at most 100' } });
});

test('an ingestion error is answered in the same body, its code unchanged', async () => {
  const res = await get('/ingestion');
  expect([res.status, res.headers.get('retry-after')]).toEqual([503, '5']);
  expect(res.body).toEqual({ error: { code: 'unavailable', message: 'the cloud database is not reachable; retry shortly' } });
});

test("the request id is the caller's when acceptable, else a new one, and one already chosen is kept", async () => {
  const given = await fetch(`${served.url}/http`, { headers: { 'x-request-id': 'trace-1.a:b' } });
  expect(given.headers.get('x-request-id')).toBe('trace-1.a:b');
  const refused = await fetch(`${served.url}/http`, { headers: { 'x-request-id': 'no spaces allowed' } });
  expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

  const res = { locals: { requestId: 'chosen' }, setHeader: jest.fn() };
  const req = { get: () => 'other' };
  expect(requestIdOf(req as never, res as never)).toBe('chosen');
});
