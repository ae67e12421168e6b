/**
 * The role ladder viewer < operator < admin, and the middleware that enforces it: every
 * (caller role × required role) pair answers 200 or 403 forbidden as hasRole says, and a tenant
 * other than the caller's answers 404 not_found (never 403, which would confirm it exists).
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { hasRole, roles, type Role } from '../../auth/roles';
import { issueToken } from '../../auth/tokens';
import { assertTenant, requireRole, requireTenantParam, requireUser } from '../../gateways/http/auth-middleware';
import { errorHandler } from '../../gateways/http/errors';
import { logger } from '../../platform/logger';
import { call, listen, testTokens } from './support';

const expected: Record<Role, Record<Role, boolean>> = {
  viewer: { viewer: true, operator: false, admin: false },
  operator: { viewer: true, operator: true, admin: false },
  admin: { viewer: true, operator: true, admin: true },
};

test('hasRole: each role includes the weaker ones and none of the stronger', () => {
  expect(roles).toEqual(['viewer', 'operator', 'admin']);
  for (const have of roles) for (const need of roles) expect([have, need, hasRole(have, need)]).toEqual([have, need, expected[have][need]]);
});

describe('requireRole / requireTenantParam / assertTenant over HTTP', () => {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let server: Awaited<ReturnType<typeof listen>>;
  const token = (role: Role, tenantId = tenantA) => issueToken({ userId: randomUUID(), tenantId, role }, testTokens);

  beforeAll(async () => {
    const app = express();
    app.use(requireUser(testTokens));
    for (const need of roles) app.post(`/needs/${need}`, requireRole(need), (_req, res) => void res.json({ ok: true }));
    app.get('/tenants/:tenantId/things', requireTenantParam(), (_req, res) => void res.json({ ok: true }));
    app.post('/things', express.json(), requireRole('operator'), (req, res) => {
      assertTenant(req, req.body.tenant_id);
      res.json({ ok: true });
    });
    app.use(errorHandler(logger('test')));
    server = await listen(app);
  });
  afterAll(() => server.close());

  test.each(roles.flatMap((have) => roles.map((need) => [have, need] as const)))('a %s on a route that needs %s', async (have, need) => {
    const r = await call(server.url, 'POST', `/needs/${need}`, { token: token(have) });
    if (expected[have][need]) {
      expect(r.status).toBe(200);
    } else {
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
  });

  test('a tenant in the path: own → 200, another (existing or not, malformed) → 404 not_found', async () => {
    expect((await call(server.url, 'GET', `/tenants/${tenantA}/things`, { token: token('viewer') })).status).toBe(200);
    expect((await call(server.url, 'GET', `/tenants/${tenantA.toUpperCase()}/things`, { token: token('viewer') })).status).toBe(200);
    for (const other of [tenantB, 'not-a-uuid']) {
      const r = await call(server.url, 'GET', `/tenants/${other}/things`, { token: token('admin') });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  test('a tenant in the body: own → 200, another or missing → 404; the role is checked first', async () => {
    expect((await call(server.url, 'POST', '/things', { token: token('operator'), body: { tenant_id: tenantA } })).status).toBe(200);
    expect((await call(server.url, 'POST', '/things', { token: token('operator'), body: { tenant_id: tenantB } })).status).toBe(404);
    expect((await call(server.url, 'POST', '/things', { token: token('operator'), body: {} })).status).toBe(404);
    expect((await call(server.url, 'POST', '/things', { token: token('viewer'), body: { tenant_id: tenantB } })).status).toBe(403);
    // A token of tenant B for tenant B's own resource is fine.
    expect((await call(server.url, 'POST', '/things', { token: token('admin', tenantB), body: { tenant_id: tenantB } })).status).toBe(200);
  });
});
