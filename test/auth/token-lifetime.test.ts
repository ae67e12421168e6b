/**
 * Dashboard tokens must expire, and soon (issue 8, item 6), and the publicly known development key
 * opens nothing (item 5). Through the real cloud app (createCloudApp, tenant pool as farmiq_app),
 * with real HS256 tokens signed with the right key: a token without `exp`, or with a lifetime
 * (exp - iat, or exp - now) beyond AUTH_TOKEN_MAX_TTL (24 h), or issued in the future, gets 401 on
 * the inbox; the same claims with a short lifetime get 200. issueToken() never makes such a token.
 */
import { createHmac } from 'node:crypto';
import type { Client } from '@temporalio/client';
import jwt, { type SignOptions } from 'jsonwebtoken';
import type { Pool } from 'pg';
import { issueToken, tokenAudience, tokenIssuer } from '../../auth/tokens';
import { knownDevelopmentValues } from '../../config/secrets';
import { durationSeconds, loadSettings, settings } from '../../config/settings';
import { createCloudApp } from '../../gateways/http/cloud-app';
import type { DeliveryPublisher } from '../../notifications/queue';
import { logger } from '../../platform/logger';
import { call, listen, ownerPool, seedTenant, tenantPool, testJwtSecret, testTokens, type TestTenant, type TestUser } from './support';

const log = logger('test-token-lifetime');
const notUsed = new Proxy(
  {},
  {
    get: () => {
      throw new Error('not used by the inbox route');
    },
  },
);

let owner: Pool;
let appPool: Pool;
let server: Awaited<ReturnType<typeof listen>>;
let installKeyServer: Awaited<ReturnType<typeof listen>>;
let a: TestTenant;

const now = () => Math.floor(Date.now() / 1000);
const hour = 3600;

beforeAll(async () => {
  owner = ownerPool();
  appPool = tenantPool();
  const deps = { pool: owner, tenantPool: appPool, notificationPublisher: notUsed as DeliveryPublisher, log, temporalClient: notUsed as Client };
  server = await listen(createCloudApp({ ...deps, jwtSecret: testJwtSecret }));
  // As cloud-http runs on this install: the key from settings (AUTH_JWT_SECRET, secrets.env).
  installKeyServer = await listen(createCloudApp(deps));
  a = await seedTenant(owner, 'Token Lifetime');
});

afterAll(async () => {
  await installKeyServer?.close();
  await server?.close();
  await appPool?.end();
  await owner?.end();
});

/** A token signed with the right key by hand, with the claims the test chooses. */
function signed(user: TestUser, claims: Record<string, unknown>, opts: SignOptions = {}, secret = testJwtSecret): string {
  return jwt.sign({ tid: a.id, role: user.role, ...claims }, secret, {
    algorithm: 'HS256',
    subject: user.id,
    issuer: tokenIssuer,
    audience: tokenAudience,
    ...opts,
  });
}

const inbox = (token: string, base = server.url) => call(base, 'GET', '/api/v1/notifications/inbox', { token });

describe('the cloud app refuses tokens that never or only late expire', () => {
  test('the default maximum lifetime is 24 h', () => {
    expect(durationSeconds(settings().AUTH_TOKEN_MAX_TTL)).toBe(24 * hour);
  });

  test('control: the same claims with a one-hour lifetime read the inbox', async () => {
    expect((await inbox(signed(a.viewer, {}, { expiresIn: hour }))).status).toBe(200);
    expect((await inbox(signed(a.viewer, {}, { expiresIn: 23 * hour }))).status).toBe(200);
  });

  test('a correctly signed token without exp → 401', async () => {
    const token = signed(a.viewer, {});
    expect((jwt.decode(token) as Record<string, unknown>).exp).toBeUndefined();
    const r = await inbox(token);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
  });

  test('a token that lives longer than the maximum (exp - iat = 25 h, or a year) → 401', async () => {
    expect((await inbox(signed(a.viewer, {}, { expiresIn: 25 * hour }))).status).toBe(401);
    expect((await inbox(signed(a.admin, {}, { expiresIn: 365 * 24 * hour }))).status).toBe(401);
  });

  test('without iat, exp more than the maximum from now → 401; within it → 200', async () => {
    expect((await inbox(signed(a.viewer, { exp: now() + 48 * hour }, { noTimestamp: true }))).status).toBe(401);
    expect((await inbox(signed(a.viewer, { exp: now() + hour }, { noTimestamp: true }))).status).toBe(200);
  });

  test('an iat set later cannot hide a long life (exp - iat 20 h, exp - now 30 h) → 401', async () => {
    expect((await inbox(signed(a.viewer, { iat: now() + 10 * hour, exp: now() + 30 * hour }))).status).toBe(401);
  });

  test('a token issued in the future → 401', async () => {
    expect((await inbox(signed(a.viewer, { iat: now() + 2 * hour, exp: now() + 3 * hour }))).status).toBe(401);
  });

  test('a token whose exp is not a number → 401', async () => {
    // jsonwebtoken will not sign such a payload; HS256 by hand, with the right key.
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: a.viewer.id, tid: a.id, role: 'viewer', iss: tokenIssuer, aud: tokenAudience, iat: now(), exp: 'never' })}`;
    const token = `${body}.${createHmac('sha256', testJwtSecret).update(body).digest('base64url')}`;
    expect((await inbox(token)).status).toBe(401);
  });
});

describe('issuing', () => {
  const ctx = () => ({ userId: a.viewer.id, tenantId: a.id, role: 'viewer' as const });

  test('issueToken refuses a lifetime beyond the maximum, and its tokens carry exp within it', () => {
    expect(() => issueToken(ctx(), testTokens, { expiresIn: '25h' })).toThrow(/AUTH_TOKEN_MAX_TTL/);
    expect(() => issueToken(ctx(), { ...testTokens, maxLifetimeSeconds: hour }, { expiresIn: 2 * hour })).toThrow(/longest lifetime/);
    const p = jwt.decode(issueToken(ctx(), testTokens, { expiresIn: '24h' })) as { iat: number; exp: number };
    expect(p.exp - p.iat).toBe(24 * hour);
  });

  test('a bare number of seconds is seconds (jsonwebtoken alone would read "3600" as milliseconds)', () => {
    const p = jwt.decode(issueToken(ctx(), testTokens, { expiresIn: '3600' })) as { iat: number; exp: number };
    expect(p.exp - p.iat).toBe(3600);
  });

  test('AUTH_TOKEN_TTL must not exceed AUTH_TOKEN_MAX_TTL; both are validated', () => {
    const env = { FARMIQ_SECRETS_FILE: '/nonexistent/secrets.env' };
    expect(() => loadSettings({ ...env, AUTH_TOKEN_TTL: '48h' })).toThrow(/AUTH_TOKEN_TTL: must not exceed AUTH_TOKEN_MAX_TTL/);
    expect(() => loadSettings({ ...env, AUTH_TOKEN_TTL: '2h', AUTH_TOKEN_MAX_TTL: '1h' })).toThrow(/AUTH_TOKEN_TTL/);
    expect(() => loadSettings({ ...env, AUTH_TOKEN_MAX_TTL: '90d' })).toThrow(/AUTH_TOKEN_MAX_TTL/);
    expect(() => loadSettings({ ...env, AUTH_TOKEN_TTL: 'forever' })).toThrow(/AUTH_TOKEN_TTL/);
    expect(loadSettings({ ...env, AUTH_TOKEN_TTL: '8h', AUTH_TOKEN_MAX_TTL: '12h' }).AUTH_TOKEN_TTL).toBe('8h');
  });
});

describe('the publicly known development key', () => {
  test('the local stack signs with its own generated key, not a known development value', () => {
    expect(knownDevelopmentValues).not.toContain(settings().AUTH_JWT_SECRET);
  });

  test('a token signed with the development default cannot read a tenant’s inbox; one signed with the install key can', async () => {
    const forged = signed(a.viewer, {}, { expiresIn: hour }, 'farmiq-dev-jwt-secret-change-me');
    expect((await inbox(forged, installKeyServer.url)).status).toBe(401);
    const genuine = signed(a.viewer, {}, { expiresIn: hour }, settings().AUTH_JWT_SECRET);
    expect((await inbox(genuine, installKeyServer.url)).status).toBe(200);
  });
});
