/**
 * The signed-in user and user administration over HTTP (gateways/http/auth/users-router.ts):
 * roles, the last admin, taken emails, weak passwords, another tenant's user (404), disabling
 * (sessions revoked, sign-in refused) and changing the own password (other sessions revoked). Real
 * database, tenant pool under row-level security; answers checked against the OpenAPI document.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import pino from 'pino';
import { setPassword } from '../../auth/admin';
import { createAuthRouter } from '../../gateways/http/auth/auth-router';
import type { SignInConfig } from '../../gateways/http/auth/sign-in-config';
import { createUsersRouter } from '../../gateways/http/auth/users-router';
import { ownerPool, seedTenant, tenantPool, testTokens, type TestTenant } from '../auth/support';
import { serveApi, type ApiServer } from './api-support';

const config: SignInConfig = {
  accessTtlSeconds: 600,
  refreshTtlSeconds: 3600,
  cookieSecure: false,
  guard: { accountFailures: 4, addressFailures: 100, windowSeconds: 600, lockSeconds: 600 },
};
const password = 'tractor in the barn';
let owner: Pool;
let app: Pool;
let server: ApiServer;
let farm: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  farm = await seedTenant(owner, 'Users Api');
  other = await seedTenant(owner, 'Other Farm');
  for (const u of [farm.viewer, farm.operator, farm.admin]) await setPassword(owner, u.id, password);
  const address = `users-${randomBytes(4).toString('hex')}`;
  const deps = { pool: owner, tenantPool: app, tokens: testTokens, config, log: pino({ level: 'silent' }), clientAddress: () => address };
  server = await serveApi({ publicRouters: [createAuthRouter(deps)], routers: [createUsersRouter(deps)] });
});
afterAll(async () => {
  await server.close();
  await owner.end();
  await app.end();
});

const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@users-api.example`;

async function signIn(address: string, pw = password): Promise<{ token: string; cookie: string }> {
  const r = await server.call('POST', '/api/v1/auth/sign-in', { body: { email: address, password: pw } });
  expect(r.status).toBe(200);
  const cookie = r.headers
    .getSetCookie()
    .find((c) => c.startsWith('farmiq_refresh='))!
    .split(';')[0];
  return { token: r.body.access_token as string, cookie };
}

const refresh = (cookie: string) => server.call('POST', '/api/v1/auth/refresh', { headers: { cookie, 'x-farmiq-csrf': '1' } });

async function addUser(body: Record<string, unknown>, token = farm.admin.token) {
  return server.call('POST', '/api/v1/users', { token, body });
}

test('viewers and operators may not list, add or change users', async () => {
  for (const u of [farm.viewer, farm.operator]) {
    const list = await server.call('GET', '/api/v1/users', { token: u.token });
    expect([list.status, list.body.error.code]).toEqual([403, 'forbidden']);
    const add = await addUser({ email: email('x'), role: 'viewer', password }, u.token);
    expect(add.status).toBe(403);
    const patch = await server.call('PATCH', `/api/v1/users/${farm.viewer.id}`, { token: u.token, body: { role: 'admin' } });
    expect(patch.status).toBe(403);
  }
  expect((await server.call('GET', '/api/v1/me', { token: farm.viewer.token })).body.role).toBe('viewer');
});

test('an admin lists the tenant’s users and adds one who can then sign in', async () => {
  const address = email('new');
  const added = await addUser({ email: address, display_name: 'Night shift', role: 'operator', password });
  expect(added.status).toBe(201);
  expect(added.body).toMatchObject({ email: address, display_name: 'Night shift', role: 'operator', disabled_at: null });
  const list = await server.call('GET', '/api/v1/users', { token: farm.admin.token });
  expect(list.status).toBe(200);
  const ids = list.body.items.map((u: { id: string }) => u.id);
  expect(ids).toEqual(expect.arrayContaining([farm.viewer.id, farm.operator.id, farm.admin.id, added.body.id]));
  expect(ids).not.toContain(other.admin.id);
  const { token } = await signIn(address);
  expect((await server.call('GET', '/api/v1/me', { token })).body).toMatchObject({ id: added.body.id, tenant_id: farm.id, role: 'operator' });
});

test('an email already used in the tenant is 409 email_taken, a short password 400 weak_password', async () => {
  const taken = await addUser({ email: farm.viewer.email.toUpperCase(), role: 'viewer', password });
  expect([taken.status, taken.body.error.code, taken.body.error.field]).toEqual([409, 'email_taken', 'email']);
  const weak = await addUser({ email: email('weak'), role: 'viewer', password: 'short' });
  expect([weak.status, weak.body.error.code, weak.body.error.field]).toEqual([400, 'weak_password', 'password']);
  // Emails are unique per tenant only: the other tenant may have the same one.
  const elsewhere = await addUser({ email: farm.viewer.email, role: 'viewer', password }, other.admin.token);
  expect(elsewhere.status).toBe(201);
});

test('the last enabled admin cannot be demoted or disabled; with a second admin it can', async () => {
  const t = await seedTenant(owner, 'Last Admin');
  const demote = await server.call('PATCH', `/api/v1/users/${t.admin.id}`, { token: t.admin.token, body: { role: 'operator' } });
  expect([demote.status, demote.body.error.code]).toEqual([409, 'last_admin']);
  const disable = await server.call('PATCH', `/api/v1/users/${t.admin.id}`, { token: t.admin.token, body: { disabled: true } });
  expect([disable.status, disable.body.error.code]).toEqual([409, 'last_admin']);
  // Renaming is fine.
  const renamed = await server.call('PATCH', `/api/v1/users/${t.admin.id}`, { token: t.admin.token, body: { display_name: 'Boss' } });
  expect([renamed.status, renamed.body.display_name, renamed.body.role]).toEqual([200, 'Boss', 'admin']);
  const promoted = await server.call('PATCH', `/api/v1/users/${t.operator.id}`, { token: t.admin.token, body: { role: 'admin' } });
  expect([promoted.status, promoted.body.role]).toEqual([200, 'admin']);
  // Two admins demoting each other at once: one of them stays admin.
  const both = await Promise.all([
    server.call('PATCH', `/api/v1/users/${t.admin.id}`, { token: t.admin.token, body: { role: 'viewer' } }),
    server.call('PATCH', `/api/v1/users/${t.operator.id}`, { token: t.admin.token, body: { role: 'viewer' } }),
  ]);
  expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
  const admins = (await server.call('GET', '/api/v1/users', { token: t.admin.token })).body;
  // The caller's token still says admin (tokens live AUTH_ACCESS_TTL), the list says who is.
  expect(admins.items.filter((u: { role: string }) => u.role === 'admin')).toHaveLength(1);
});

test('another tenant’s user is 404, and a malformed id 400', async () => {
  const r = await server.call('PATCH', `/api/v1/users/${other.viewer.id}`, { token: farm.admin.token, body: { role: 'admin' } });
  expect([r.status, r.body.error.code]).toEqual([404, 'not_found']);
  const list = await server.call('GET', '/api/v1/users', { token: other.admin.token });
  expect(list.body.items.find((u: { id: string }) => u.id === other.viewer.id).role).toBe('viewer');
  const bad = await server.call('PATCH', '/api/v1/users/not-a-uuid', { token: farm.admin.token, body: { role: 'admin' } });
  expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_query']);
});

test('disabling a user revokes their sessions and refuses their sign-in; enabling lets them back', async () => {
  const address = email('disabled');
  const added = await addUser({ email: address, role: 'viewer', password });
  const session = await signIn(address);
  const off = await server.call('PATCH', `/api/v1/users/${added.body.id}`, { token: farm.admin.token, body: { disabled: true } });
  expect([off.status, typeof off.body.disabled_at]).toEqual([200, 'string']);
  const r = await refresh(session.cookie);
  expect([r.status, r.body.error.code]).toEqual([401, 'session_revoked']);
  const me = await server.call('GET', '/api/v1/me', { token: session.token });
  expect([me.status, me.body.error.code]).toEqual([401, 'unauthenticated']);
  const again = await server.call('POST', '/api/v1/auth/sign-in', { body: { email: address, password } });
  expect([again.status, again.body.error.code]).toEqual([401, 'invalid_credentials']);
  const on = await server.call('PATCH', `/api/v1/users/${added.body.id}`, { token: farm.admin.token, body: { disabled: false } });
  expect([on.status, on.body.disabled_at]).toEqual([200, null]);
  await signIn(address);
});

test('changing the own password: the old one fails afterwards, the other sessions are revoked, this one stays', async () => {
  const address = email('changer');
  await addUser({ email: address, role: 'viewer', password });
  const here = await signIn(address);
  const elsewhere = await signIn(address);
  const wrong = await server.call('POST', '/api/v1/me/password', {
    token: here.token,
    body: { current_password: 'not my password', new_password: 'a new long password' },
  });
  expect([wrong.status, wrong.body.error.code, wrong.body.error.field]).toEqual([400, 'invalid_credentials', 'current_password']);
  const weak = await server.call('POST', '/api/v1/me/password', { token: here.token, body: { current_password: password, new_password: 'short' } });
  expect([weak.status, weak.body.error.code, weak.body.error.field]).toEqual([400, 'weak_password', 'new_password']);
  const changed = await server.call('POST', '/api/v1/me/password', {
    token: here.token,
    body: { current_password: password, new_password: 'a new long password' },
  });
  expect(changed.status).toBe(204);
  const old = await server.call('POST', '/api/v1/auth/sign-in', { body: { email: address, password } });
  expect([old.status, old.body.error.code]).toEqual([401, 'invalid_credentials']);
  await signIn(address, 'a new long password');
  const revoked = await refresh(elsewhere.cookie);
  expect([revoked.status, revoked.body.error.code]).toEqual([401, 'session_revoked']);
  expect((await refresh(here.cookie)).status).toBe(200);
});

test('wrong current passwords count like failed sign-ins and lock the account', async () => {
  const address = email('guesser');
  await addUser({ email: address, role: 'viewer', password });
  const { token } = await signIn(address);
  for (let i = 0; i < 4; i++) {
    const r = await server.call('POST', '/api/v1/me/password', { token, body: { current_password: `guess number ${i}`, new_password: 'a new long password' } });
    expect(r.status).toBe(400);
  }
  const locked = await server.call('POST', '/api/v1/me/password', { token, body: { current_password: password, new_password: 'a new long password' } });
  expect([locked.status, locked.body.error.code]).toEqual([429, 'sign_in_locked']);
  const signIn429 = await server.call('POST', '/api/v1/auth/sign-in', { body: { email: address, password } });
  expect(signIn429.status).toBe(429);
});
