/**
 * auth/sessions.ts and auth/sign-in-guard.ts on the real database: tokens stored only as hashes,
 * rotation, reuse revoking the session, absolute expiry, revoking a user's other sessions, and
 * the guessing counts surviving a new guard (an API restart). Plus the guard's pure decision.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { endSession, revokeUserSessions, rotateRefreshToken, sessionState, startSession, type StartedSession } from '../../auth/sessions';
import { charge, SignInGuard, type GuardLimits } from '../../auth/sign-in-guard';
import { loadSettings } from '../../config/settings';
import { signInConfig } from '../../gateways/http/auth/sign-in-config';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from './support';

let owner: Pool;
let t: TestTenant;
const t0 = new Date('2026-03-01T08:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

beforeAll(async () => {
  owner = ownerPool();
  t = await seedTenant(owner, 'Sessions');
});
afterAll(() => owner.end());

const start = (now = t0) => startSession(owner, { tenantId: t.id, userId: t.viewer.id }, 3600, now);

function rotated(r: Awaited<ReturnType<typeof rotateRefreshToken>>): StartedSession {
  if ('refused' in r) throw new Error(`refused: ${JSON.stringify(r)}`);
  return r;
}

test('the token is stored only as its SHA-256, and rotation keeps the session and its expiry', async () => {
  const s = await start();
  const stored = await owner.query<{ token_hash: Buffer }>('SELECT token_hash FROM auth_refresh_tokens WHERE session_id = $1', [s.sessionId]);
  expect(stored.rows.map((r) => r.token_hash.toString('hex'))).toEqual([createHash('sha256').update(s.refreshToken).digest('hex')]);
  const next = rotated(await rotateRefreshToken(owner, s.refreshToken, at(1800)));
  expect(next.sessionId).toBe(s.sessionId);
  expect(next.refreshToken).not.toBe(s.refreshToken);
  expect(next.expiresAt).toEqual(s.expiresAt);
  expect(await rotateRefreshToken(owner, next.refreshToken, at(3600))).toEqual({ refused: 'expired' });
});

test('a rotated token presented again revokes the session', async () => {
  const s = await start();
  const next = rotated(await rotateRefreshToken(owner, s.refreshToken, at(10)));
  expect(await rotateRefreshToken(owner, s.refreshToken, at(20))).toEqual({ refused: 'revoked', reason: 'token_reused' });
  expect(await rotateRefreshToken(owner, next.refreshToken, at(30))).toEqual({ refused: 'revoked', reason: 'token_reused' });
  expect((await sessionState(owner, s.sessionId))?.revokedReason).toBe('token_reused');
});

test('two refreshes with one token at once: one wins, the other is a reuse', async () => {
  const s = await start();
  const both = await Promise.all([rotateRefreshToken(owner, s.refreshToken, at(5)), rotateRefreshToken(owner, s.refreshToken, at(5))]);
  expect(both.filter((r) => 'refused' in r)).toEqual([{ refused: 'revoked', reason: 'token_reused' }]);
});

test('sign-out by any token of the session; revoking a user’s sessions keeps the one named', async () => {
  const a = await start();
  const aNext = rotated(await rotateRefreshToken(owner, a.refreshToken, at(1)));
  expect(await endSession(owner, a.refreshToken, at(2))).toBe(true);
  expect(await rotateRefreshToken(owner, aNext.refreshToken, at(3))).toEqual({ refused: 'revoked', reason: 'signed_out' });
  expect(await endSession(owner, 'never-issued', at(3))).toBe(false);
  const keep = await start();
  const drop = await start();
  expect(await revokeUserSessions(owner, t.viewer.id, 'password_changed', at(4), keep.sessionId)).toBeGreaterThanOrEqual(1);
  expect((await sessionState(owner, drop.sessionId))?.revokedReason).toBe('password_changed');
  expect((await sessionState(owner, keep.sessionId))?.revokedReason).toBeNull();
});

test('farmiq_app, the request handlers’ tenant role, cannot read the session or guard tables', async () => {
  const app = tenantPool();
  try {
    for (const table of ['auth_sessions', 'auth_refresh_tokens', 'sign_in_failures']) {
      await expect(app.query(`SELECT 1 FROM ${table} LIMIT 1`)).rejects.toMatchObject({ code: '42501' });
    }
  } finally {
    await app.end();
  }
});

const limits: GuardLimits = { accountFailures: 2, addressFailures: 10, windowSeconds: 60, lockSeconds: 120 };

test('charge(): counts in a window, locks at the limit, starts afresh after the window or the lock', () => {
  const one = charge(undefined, 2, limits, t0);
  expect(one).toEqual({ state: { failures: 1, windowStartedAt: t0, lockedUntil: null } });
  const two = charge(one.state, 2, limits, at(10));
  expect(two.state.failures).toBe(2);
  const three = charge(two.state, 2, limits, at(20));
  expect(three.lockedUntil).toEqual(at(140));
  expect(charge(three.state, 2, limits, at(100)).lockedUntil).toEqual(at(140));
  expect(charge(three.state, 2, limits, at(140))).toEqual({ state: { failures: 1, windowStartedAt: at(140), lockedUntil: null } });
  expect(charge(two.state, 2, limits, at(60)).state).toEqual({ failures: 1, windowStartedAt: at(60), lockedUntil: null });
});

test('the counts are in the database: a new guard (a restarted API) still refuses', async () => {
  const who = { email: `Restart-${Date.now()}@sessions.example`, address: `restart-${Date.now()}` };
  let now = t0;
  const before = new SignInGuard(owner, limits, () => now);
  for (let i = 0; i < 2; i++) {
    expect(await before.admit(who)).toEqual({ admitted: true });
    await before.failed(who);
  }
  const after = new SignInGuard(owner, limits, () => now);
  expect(await after.admit({ ...who, email: who.email.toLowerCase() })).toMatchObject({ admitted: false, scope: 'account', retryAfterSeconds: 120 });
  now = at(121);
  expect(await after.admit(who)).toEqual({ admitted: true });
  await after.succeeded(who);
  const left = await owner.query(`SELECT kind, failures FROM sign_in_failures WHERE subject IN ($1, $2) ORDER BY kind`, [who.email.toLowerCase(), who.address]);
  // The address's window lapsed too: this attempt started it afresh and was given back.
  expect(left.rows).toEqual([{ kind: 'address', failures: 0 }]);
});

test('the sign-in settings: defaults, the Secure cookie, the access lifetime within AUTH_TOKEN_MAX_TTL', () => {
  const env = { FARMIQ_SECRETS_FILE: '/nonexistent/secrets.env' };
  expect(signInConfig(loadSettings(env))).toEqual({
    accessTtlSeconds: 900,
    refreshTtlSeconds: 30 * 86_400,
    cookieSecure: false,
    guard: { accountFailures: 5, addressFailures: 50, windowSeconds: 900, lockSeconds: 900 },
  });
  expect(loadSettings({ ...env, AUTH_COOKIE_SECURE: 'true' }).AUTH_COOKIE_SECURE).toBe(true);
  expect(() => loadSettings({ ...env, AUTH_COOKIE_SECURE: 'yes' })).toThrow(/AUTH_COOKIE_SECURE/);
  expect(() => loadSettings({ ...env, AUTH_ACCESS_TTL: '2d' })).toThrow(/AUTH_ACCESS_TTL/);
  expect(() => loadSettings({ ...env, AUTH_LOCKOUT_WINDOW: '0' })).toThrow(/AUTH_LOCKOUT_WINDOW/);
  // Production mode: Secure unless said otherwise.
  const key = () => randomBytes(32).toString('hex');
  const production = {
    ...env,
    FARMIQ_ENV: 'production',
    FARMIQ_ROLE: 'cloud',
    CLOUD_DATABASE_URL: `postgres://farmiq:${key()}@db.cloud.local:5432/farmiq_cloud`,
    CLOUD_APP_DATABASE_URL: `postgres://farmiq_app:${key()}@db.cloud.local:5432/farmiq_cloud`,
    AMQP_URL: `amqp://farmiq:${key()}@mq.cloud.local:5672/farmiq`,
    AUTH_JWT_SECRET: key(),
    INTERNAL_SERVICE_TOKEN: key(),
  };
  expect(loadSettings(production).AUTH_COOKIE_SECURE).toBe(true);
  expect(loadSettings({ ...production, AUTH_COOKIE_SECURE: 'false' }).AUTH_COOKIE_SECURE).toBe(false);
});
