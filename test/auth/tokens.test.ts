/**
 * Dashboard tokens: what issueToken() makes verifies and carries user, tenant and role; anything
 * else — expired, another key, another audience or issuer, alg none, a tampered claim, missing
 * claims — is refused, and requireUser() turns each refusal into 401 unauthenticated.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import jwt, { type SignOptions } from 'jsonwebtoken';
import { InvalidTokenError, issueToken, tokenAudience, tokenIssuer, verifyToken, type AuthContext, type VerifyOptions } from '../../auth/tokens';
import { requireUser } from '../../gateways/http/auth-middleware';
import { errorHandler } from '../../gateways/http/errors';
import { logger } from '../../platform/logger';
import { call, listen, testJwtSecret, testTokens } from './support';

const ctx: AuthContext = { userId: randomUUID(), tenantId: randomUUID(), role: 'operator' };
const nowSeconds = () => Math.floor(Date.now() / 1000);

function problemOf(token: string, opts: VerifyOptions = {}): string {
  try {
    verifyToken(token, testTokens, opts);
    return 'valid';
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return (err as InvalidTokenError).problem;
  }
}

/** A token signed by hand, to build the invalid ones issueToken() would never make. */
function handMade(claims: Record<string, unknown>, opts: SignOptions = {}, secret = testJwtSecret): string {
  return jwt.sign({ tid: ctx.tenantId, role: ctx.role, ...claims }, secret, {
    algorithm: 'HS256',
    subject: ctx.userId,
    issuer: tokenIssuer,
    audience: tokenAudience,
    expiresIn: 600,
    ...opts,
  });
}

describe('issueToken / verifyToken', () => {
  test('a token verifies to the user, tenant and role it was issued for, HS256, with issuer and audience', () => {
    const token = issueToken(ctx, testTokens);
    expect(verifyToken(token, testTokens)).toEqual(ctx);
    const decoded = jwt.decode(token, { complete: true }) as unknown as { header: { alg: string }; payload: Record<string, unknown> };
    expect(decoded.header.alg).toBe('HS256');
    expect(decoded.payload).toMatchObject({ sub: ctx.userId, tid: ctx.tenantId, role: 'operator', iss: 'farmiq', aud: 'farmiq-dashboard' });
  });

  test('the default lifetime is one hour', () => {
    const token = issueToken(ctx, testTokens);
    const p = jwt.decode(token) as { iat: number; exp: number };
    expect(p.exp - p.iat).toBe(3600);
  });

  test('an expired token is refused as expired', () => {
    const token = issueToken(ctx, testTokens, { expiresIn: 60 });
    expect(problemOf(token, { clockTimestamp: nowSeconds() + 61 })).toBe('expired');
    expect(problemOf(token, { clockTimestamp: nowSeconds() + 30 })).toBe('valid');
  });

  test.each([
    ['another key', () => issueToken(ctx, { ...testTokens, secret: 'another-secret-of-sufficient-length' })],
    ['another audience', () => handMade({}, { audience: 'farmiq-edge' })],
    ['another issuer', () => handMade({}, { issuer: 'someone-else' })],
    [
      'no audience',
      () => jwt.sign({ tid: ctx.tenantId, role: ctx.role }, testJwtSecret, { algorithm: 'HS256', subject: ctx.userId, issuer: tokenIssuer, expiresIn: 600 }),
    ],
    ['HS512 instead of HS256', () => handMade({}, { algorithm: 'HS512' })],
    ['alg none', () => jwt.sign({ tid: ctx.tenantId, role: 'admin', sub: ctx.userId, iss: tokenIssuer, aud: tokenAudience }, '', { algorithm: 'none' })],
    ['an unknown role', () => handMade({ role: 'owner' })],
    ['no tenant', () => handMade({ tid: undefined })],
    ['a tenant that is not a uuid', () => handMade({ tid: 'tenant-b' })],
    [
      'no subject',
      () =>
        jwt.sign({ tid: ctx.tenantId, role: ctx.role }, testJwtSecret, { algorithm: 'HS256', issuer: tokenIssuer, audience: tokenAudience, expiresIn: 600 }),
    ],
    [
      'a payload changed after signing (viewer → admin)',
      () => {
        const [h, p, s] = issueToken({ ...ctx, role: 'viewer' }, testTokens).split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        return [h, Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url'), s].join('.');
      },
    ],
    ['garbage', () => 'not.a.token'],
  ])('a token with %s is invalid', (_name, make) => {
    expect(problemOf(make())).toBe('invalid');
  });

  test('issueToken refuses a context that is not a user, a tenant and a role', () => {
    expect(() => issueToken({ ...ctx, tenantId: 'b' }, testTokens)).toThrow(/tid/);
    expect(() => issueToken({ ...ctx, role: 'root' as never }, testTokens)).toThrow(/role/);
  });
});

describe('requireUser()', () => {
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    const app = express();
    app.get('/who', requireUser(testTokens), (req, res) => {
      res.json(req.auth);
    });
    app.use(errorHandler(logger('test')));
    server = await listen(app);
  });
  afterAll(() => server.close());

  test('a valid bearer token reaches the handler with req.auth set', async () => {
    const r = await call(server.url, 'GET', '/who', { token: issueToken(ctx, testTokens) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(ctx);
  });

  test.each([
    ['no Authorization header', {}],
    ['a Basic header', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['an expired token', { authorization: `Bearer ${handMade({}, { expiresIn: -10 })}` }],
    ['a token signed with another key', { authorization: `Bearer ${issueToken(ctx, { ...testTokens, secret: 'another-secret-of-sufficient-length' })}` }],
    ['a token for another audience', { authorization: `Bearer ${handMade({}, { audience: 'farmiq-edge' })}` }],
  ])('%s → 401 unauthenticated', async (_name, headers) => {
    const r = await call(server.url, 'GET', '/who', { headers });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="farmiq"/);
  });
});
