/**
 * Dashboard sign-in over HTTP (gateways/http/auth/auth-router.ts, docs/auth.md) against the real
 * database: the access token and the refresh cookie, one answer for every bad credential, lockout
 * per account and per address (with a clock the test moves), refresh rotation and reuse detection,
 * the csrf header, sign-out, session expiry and the choice between tenants. Every answer is checked
 * against the OpenAPI document (serveApi).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Pool } from 'pg';
import pino from 'pino';
import { createTenant, createUser, setPassword, updateUser } from '../../auth/admin';
import { verifyToken } from '../../auth/tokens';
import { createAuthRouter } from '../../gateways/http/auth/auth-router';
import type { SignInConfig } from '../../gateways/http/auth/sign-in-config';
import { createUsersRouter } from '../../gateways/http/auth/users-router';
import { ownerPool, seedTenant, tenantPool, testTokens, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from './api-support';

const config: SignInConfig = {
  accessTtlSeconds: 900,
  refreshTtlSeconds: 3600,
  cookieSecure: false,
  guard: { accountFailures: 3, addressFailures: 6, windowSeconds: 600, lockSeconds: 300 },
};
const password = 'correct horse battery';
let clockMs = Date.now();
const now = () => new Date(clockMs);
const logLines: string[] = [];
const log = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);

let owner: Pool;
let app: Pool;
let server: ApiServer;
let tenant: TestTenant;
/** Each test signs in from its own address, so the per-address count is the test's own. */
let address: string;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  tenant = await seedTenant(owner, 'Sign In');
  for (const u of [tenant.viewer, tenant.operator, tenant.admin]) await setPassword(owner, u.id, password);
  const deps = {
    pool: owner,
    tenantPool: app,
    tokens: testTokens,
    config,
    log,
    now,
    clientAddress: (req: { get(h: string): string | undefined }) => req.get('x-test-address') ?? 'none',
  };
  server = await serveApi({ publicRouters: [createAuthRouter(deps)], routers: [createUsersRouter(deps)] });
});
afterAll(async () => {
  await server.close();
  await owner.end();
  await app.end();
});
beforeEach(() => {
  address = `test-${randomBytes(6).toString('hex')}`;
});

function signIn(body: Record<string, unknown>, from = address) {
  return server.call('POST', '/api/v1/auth/sign-in', { body, headers: { 'x-test-address': from } });
}

/** The refresh cookie a response set: its value and its attributes. */
function refreshCookieOf(r: { headers: Headers }): { value: string; attributes: string } {
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('farmiq_refresh='));
  if (!cookie) throw new Error('no refresh cookie was set');
  const [pair, ...attributes] = cookie.split(';');
  return { value: decodeURIComponent(pair.slice('farmiq_refresh='.length)), attributes: attributes.map((a) => a.trim()).join('; ') };
}

function refresh(cookie: string | undefined, csrf = true) {
  return server.call('POST', '/api/v1/auth/refresh', {
    headers: { ...(cookie ? { cookie: `farmiq_refresh=${encodeURIComponent(cookie)}` } : {}), ...(csrf ? { 'x-farmiq-csrf': '1' } : {}) },
  });
}

/** A user of their own (the lockout tests lock accounts). */
async function freshUser(t = tenant.id, email = `user-${randomBytes(5).toString('hex')}@sign-in.example`): Promise<{ id: string; email: string }> {
  const u = await createUser(owner, { tenantId: t, email, role: 'operator', password });
  return { id: u.id, email };
}

test('signing in answers an access token that verifies and works, and sets the refresh cookie', async () => {
  const r = await signIn({ email: tenant.operator.email.toUpperCase(), password });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
  expect(r.body.user).toEqual({
    id: tenant.operator.id,
    email: tenant.operator.email,
    display_name: 'Sign In operator',
    role: 'operator',
    tenant_id: tenant.id,
    tenant_name: tenant.name,
  });
  const claims = verifyToken(r.body.access_token, testTokens);
  expect(claims).toMatchObject({ userId: tenant.operator.id, tenantId: tenant.id, role: 'operator', sessionId: expect.any(String) });
  const cookie = refreshCookieOf(r);
  expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(cookie.attributes).toMatch(/Path=\/api\/v1\/auth/);
  expect(cookie.attributes).toMatch(/HttpOnly/);
  expect(cookie.attributes).toMatch(/SameSite=Strict/);
  expect(cookie.attributes).not.toMatch(/Secure/);
  const me = await server.call('GET', '/api/v1/me', { token: r.body.access_token });
  expect([me.status, me.body]).toEqual([200, r.body.user]);
});

test('unknown email, wrong password and disabled user get one and the same 401, logged without the password', async () => {
  const disabled = await freshUser();
  await updateUser(owner, tenant.id, disabled.id, { disabled: true });
  const wrong = await signIn({ email: tenant.viewer.email, password: 'not the password 1' });
  const unknown = await signIn({ email: `nobody-${randomBytes(4).toString('hex')}@sign-in.example`, password: 'not the password 2' });
  const off = await signIn({ email: disabled.email, password });
  for (const r of [wrong, unknown, off]) {
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'invalid_credentials', message: 'the email or password is not right' } });
    expect(r.headers.getSetCookie()).toEqual([]);
  }
  const refusals = logLines.filter((l) => l.includes('"sign_in_refused"'));
  expect(refusals.some((l) => l.includes(disabled.email))).toBe(true);
  for (const secret of [password, 'not the password 1', 'not the password 2']) expect(logLines.some((l) => l.includes(secret))).toBe(false);
});

test('after N failures the account is locked, even for the right password, until the lock expires', async () => {
  const u = await freshUser();
  for (let i = 0; i < 3; i++) expect((await signIn({ email: u.email, password: `wrong password ${i}` })).status).toBe(401);
  // Another address does not help: the account is what is locked.
  const locked = await signIn({ email: u.email, password }, `${address}-other`);
  expect([locked.status, locked.body.error.code]).toEqual([429, 'sign_in_locked']);
  expect(Number(locked.headers.get('retry-after'))).toBe(300);
  clockMs += 200_000;
  const still = await signIn({ email: u.email, password });
  expect([still.status, Number(still.headers.get('retry-after'))]).toEqual([429, 100]);
  clockMs += 100_000;
  expect((await signIn({ email: u.email, password })).status).toBe(200);
});

test('a successful sign-in clears the account’s count; a lapsed window starts a fresh one', async () => {
  const u = await freshUser();
  for (let i = 0; i < 2; i++) expect((await signIn({ email: u.email, password: 'wrong password!' })).status).toBe(401);
  expect((await signIn({ email: u.email, password })).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await signIn({ email: u.email, password: 'wrong password!' })).status).toBe(401);
  clockMs += 601_000;
  for (let i = 0; i < 2; i++) expect((await signIn({ email: u.email, password: 'wrong password!' })).status).toBe(401);
  expect((await signIn({ email: u.email, password })).status).toBe(200);
});

test('a burst of parallel guesses gets exactly the limit’s worth of password checks', async () => {
  const u = await freshUser();
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => signIn({ email: u.email, password: `parallel guess ${i}` }, `${address}-${i}`)));
  const statuses = answers.map((r) => r.status).sort();
  expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
});

test('one address is limited across every email it tries, at its own higher limit', async () => {
  const users = await Promise.all([freshUser(), freshUser(), freshUser(), freshUser()]);
  for (const u of users.slice(0, 3)) for (let i = 0; i < 2; i++) expect((await signIn({ email: u.email, password: 'guessing here' })).status).toBe(401);
  // Six failures from this address: a fourth, untouched account is refused from here …
  const refused = await signIn({ email: users[3].email, password });
  expect([refused.status, refused.body.error.code]).toEqual([429, 'sign_in_locked']);
  // … and signs in from anywhere else.
  expect((await signIn({ email: users[3].email, password }, `${address}-elsewhere`)).status).toBe(200);
});

test('refresh rotates the cookie; a rotated cookie coming back revokes the whole session', async () => {
  const first = await signIn({ email: tenant.admin.email, password });
  const c1 = refreshCookieOf(first).value;
  const r2 = await refresh(c1);
  expect(r2.status).toBe(200);
  expect(r2.body.user.id).toBe(tenant.admin.id);
  const c2 = refreshCookieOf(r2).value;
  expect(c2).not.toBe(c1);
  expect(verifyToken(r2.body.access_token, testTokens).sessionId).toBe(verifyToken(first.body.access_token, testTokens).sessionId);
  const r3 = await refresh(c2);
  expect(r3.status).toBe(200);
  const c3 = refreshCookieOf(r3).value;
  // c1 again: someone kept a copy. The session ends for everyone holding any of its cookies.
  const reused = await refresh(c1);
  expect([reused.status, reused.body.error.code]).toEqual([401, 'session_revoked']);
  const latest = await refresh(c3);
  expect([latest.status, latest.body.error.code]).toEqual([401, 'session_revoked']);
  expect(logLines.some((l) => l.includes('"refresh_token_reused"'))).toBe(true);
});

test('refresh needs the csrf header and a cookie', async () => {
  const signedIn = await signIn({ email: tenant.viewer.email, password });
  const cookie = refreshCookieOf(signedIn).value;
  const noHeader = await refresh(cookie, false);
  expect([noHeader.status, noHeader.body.error.code]).toEqual([403, 'csrf_header_missing']);
  const noCookie = await refresh(undefined);
  expect([noCookie.status, noCookie.body.error.code]).toEqual([401, 'session_expired']);
  const forged = await refresh(randomBytes(32).toString('base64url'));
  expect([forged.status, forged.body.error.code]).toEqual([401, 'session_expired']);
  // The refused refreshes did not spend the real cookie.
  expect((await refresh(cookie)).status).toBe(200);
});

test('sign-out ends the session and clears the cookie', async () => {
  const signedIn = await signIn({ email: tenant.viewer.email, password });
  const cookie = refreshCookieOf(signedIn).value;
  const noHeader = await server.call('POST', '/api/v1/auth/sign-out', { headers: { cookie: `farmiq_refresh=${encodeURIComponent(cookie)}` } });
  expect([noHeader.status, noHeader.body.error.code]).toEqual([403, 'csrf_header_missing']);
  const out = await server.call('POST', '/api/v1/auth/sign-out', { headers: { cookie: `farmiq_refresh=${encodeURIComponent(cookie)}`, 'x-farmiq-csrf': '1' } });
  expect(out.status).toBe(204);
  const cleared = refreshCookieOf(out);
  expect(cleared.value).toBe('');
  expect(cleared.attributes).toMatch(/Expires=Thu, 01 Jan 1970/);
  const after = await refresh(cookie);
  expect([after.status, after.body.error.code]).toEqual([401, 'session_revoked']);
  // Signing out without a session is still a clean 204.
  expect((await server.call('POST', '/api/v1/auth/sign-out', { headers: { 'x-farmiq-csrf': '1' } })).status).toBe(204);
});

test('a session ends AUTH_REFRESH_TTL after sign-in however often it was refreshed', async () => {
  const signedIn = await signIn({ email: tenant.viewer.email, password });
  let cookie = refreshCookieOf(signedIn).value;
  clockMs += 3000_000;
  const r = await refresh(cookie);
  expect(r.status).toBe(200);
  cookie = refreshCookieOf(r).value;
  clockMs += 601_000;
  const expired = await refresh(cookie);
  expect([expired.status, expired.body.error.code]).toEqual([401, 'session_expired']);
});

test('an email and password that match users of two tenants ask for the tenant; tenant_id picks it', async () => {
  const email = `shared-${randomBytes(4).toString('hex')}@sign-in.example`;
  const a = await createTenant(owner, `Farm A ${randomBytes(3).toString('hex')}`);
  const b = await createTenant(owner, `Farm B ${randomBytes(3).toString('hex')}`);
  const c = await createTenant(owner, `Farm C ${randomBytes(3).toString('hex')}`);
  await freshUser(a.id, email);
  const inB = await freshUser(b.id, email);
  await createUser(owner, { tenantId: c.id, email, role: 'admin', password: 'another password entirely' });
  const choice = await signIn({ email, password });
  expect(choice.status).toBe(409);
  expect(choice.body.error.code).toBe('tenant_choice_required');
  // Tenant C's user has another password: it is not offered.
  expect(choice.body.error.tenants).toEqual([
    { id: a.id, name: a.name },
    { id: b.id, name: b.name },
  ]);
  expect(choice.headers.getSetCookie()).toEqual([]);
  const chosen = await signIn({ email, password, tenant_id: b.id });
  expect(chosen.status).toBe(200);
  expect(chosen.body.user).toMatchObject({ id: inB.id, tenant_id: b.id, tenant_name: b.name });
  const other = await signIn({ email, password: 'another password entirely' });
  expect([other.status, other.body.user?.tenant_id]).toEqual([200, c.id]);
});

test('a secure install marks the cookie Secure', async () => {
  const deps = { pool: owner, tokens: testTokens, config: { ...config, cookieSecure: true }, log, now, clientAddress: () => address };
  const secure = await serveApi({ publicRouters: [createAuthRouter(deps)], routers: [] });
  try {
    const r = await secure.call('POST', '/api/v1/auth/sign-in', { body: { email: tenant.viewer.email, password } });
    expect(r.status).toBe(200);
    expect(refreshCookieOf(r).attributes).toMatch(/\bSecure\b/);
  } finally {
    await secure.close();
  }
});
