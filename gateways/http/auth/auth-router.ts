/**
 * Dashboard sign-in (docs/auth.md), public routes (no access token yet):
 *
 *   POST /api/v1/auth/sign-in   { email, password, tenant_id? } → an access token (the dashboard
 *                               JWT of auth/tokens.ts, AUTH_ACCESS_TTL) and the refresh cookie
 *   POST /api/v1/auth/refresh   cookie + `x-farmiq-csrf: 1` → a new access token, the cookie rotated
 *   POST /api/v1/auth/sign-out  cookie + `x-farmiq-csrf: 1` → 204, the session revoked, cookie cleared
 *
 * Unknown email, wrong password and disabled user are one answer (401 invalid_credentials) after
 * the same work: the password is always checked against a hash, a dummy one when there is no user.
 * Guessing is limited per account and per address (auth/sign-in-guard.ts: 429 sign_in_locked).
 * Mounted BEFORE requireUser(); it applies utf8Only() and reads cookies itself.
 */
import { randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { findSignInCandidates, userProfile, type SignInCandidate } from '../../../auth/admin';
import { hashPassword, verifyPassword } from '../../../auth/passwords';
import { endSession, rotateRefreshToken, startSession, type StartedSession } from '../../../auth/sessions';
import type { Attempter } from '../../../auth/sign-in-guard';
import { issueToken, type TokenConfig } from '../../../auth/tokens';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { utf8Only } from '../charset';
import { HttpError } from '../errors';
import { csrfHeader, meJson, meSchema, passwordInput, refreshCookie, signInParts, type MeJson, type SignInDeps } from './sign-in-config';

export interface AuthRouterDeps extends SignInDeps {
  /** How access tokens are signed (tokenConfig(settings), the cloud app's). */
  tokens: TokenConfig;
}

const grantSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'seconds the access token is valid' }),
    user: meSchema,
  })
  .meta({ id: 'AccessGrant' });

const tenantChoiceSchema = z
  .object({
    error: z.object({
      code: z.literal('tenant_choice_required'),
      message: z.string(),
      tenants: z.array(z.object({ id: z.uuid(), name: z.string() })),
    }),
  })
  .meta({ id: 'TenantChoiceRequired' });

const signInBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: passwordInput,
  tenant_id: z.uuid().optional(),
});

const cookieHeader = { 'set-cookie': `${refreshCookie.name}: the refresh token (HttpOnly; SameSite=Strict; Path=${refreshCookie.path})` };
const csrfResponse = { description: `the header "${csrfHeader}: 1" is missing (csrf_header_missing)`, schema: errorBodySchema };
const lockedResponse = { description: 'too many failed sign-ins for this account or address (sign_in_locked); see retry-after', schema: errorBodySchema };

let dummy: Promise<string> | undefined;
/** A hash of nobody's password, so an unknown email costs the same scrypt as a known one. */
const dummyHash = () => (dummy ??= hashPassword(randomBytes(24).toString('base64')));

export function createAuthRouter(deps: AuthRouterDeps): ApiRouter {
  const { pool, tokens, config } = deps;
  const { log, clock, addressOf, guard } = signInParts(deps);
  const api = new ApiRouter('auth');
  // The public tier sits before the app's own utf8Only(); the cookie is read only here.
  api.router.use(refreshCookie.path, utf8Only(), cookieParser());

  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, secure: config.cookieSecure, path: refreshCookie.path };
  const clearCookie = (res: Response) => res.clearCookie(refreshCookie.name, cookieOptions);

  function grant(res: Response, session: StartedSession, user: MeJson): z.infer<typeof grantSchema> {
    res.cookie(refreshCookie.name, session.refreshToken, { ...cookieOptions, expires: session.expiresAt });
    res.setHeader('cache-control', 'no-store');
    const accessToken = issueToken({ userId: user.id, tenantId: user.tenant_id, role: user.role, sessionId: session.sessionId }, tokens, {
      expiresIn: config.accessTtlSeconds,
    });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: config.accessTtlSeconds, user };
  }

  function refused(req: Request, reason: string, fields: Record<string, unknown>): void {
    log.warn({ requestId: req.res?.locals.requestId, event: 'sign_in_refused', reason, address: addressOf(req), ...fields }, 'sign-in refused');
  }

  /** The refresh cookie's token, once the csrf header is there (403 csrf_header_missing without). */
  function refreshTokenOf(req: Request): string | undefined {
    if (req.get(csrfHeader) !== '1') throw new HttpError(403, 'csrf_header_missing', `send the header "${csrfHeader}: 1" with this request`);
    const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[refreshCookie.name];
    return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
  }

  api.route(
    {
      method: 'post',
      path: '/api/v1/auth/sign-in',
      role: 'public',
      summary: 'Sign in with email and password',
      description:
        'Answers an access token and sets the refresh cookie. When the email and password match users of several tenants, 409 tenant_choice_required lists them; repeat with tenant_id.',
      body: signInBody,
      responses: {
        200: { description: 'signed in', schema: grantSchema, headers: cookieHeader },
        401: { description: 'unknown email, wrong password or disabled user: one answer (invalid_credentials)', schema: errorBodySchema },
        409: { description: 'the email and password match users of several tenants: choose one', schema: tenantChoiceSchema },
        429: lockedResponse,
      },
    },
    async ({ body, req, res }) => {
      const who: Attempter = { email: body.email, address: addressOf(req) };
      const admission = await guard.admit(who);
      if (!admission.admitted) {
        refused(req, 'locked', { email: body.email, scope: admission.scope });
        res.setHeader('retry-after', String(admission.retryAfterSeconds));
        throw new HttpError(429, 'sign_in_locked', `too many failed sign-ins; try again in ${admission.retryAfterSeconds} s`);
      }
      const candidates = await findSignInCandidates(pool, body.email, body.tenant_id);
      const matches: SignInCandidate[] = [];
      if (candidates.length === 0) await verifyPassword(body.password, await dummyHash());
      for (const c of candidates) {
        // A user without a password is checked against the dummy too: same work, never a match.
        const right = await verifyPassword(body.password, c.passwordHash ?? (await dummyHash()));
        if (right && c.passwordHash && !c.disabled) matches.push(c);
      }
      if (matches.length === 0) {
        await guard.failed(who);
        const reason = candidates.length === 0 ? 'unknown_email' : candidates.some((c) => c.disabled) ? 'wrong_password_or_disabled' : 'wrong_password';
        refused(req, reason, { email: body.email, tenantId: body.tenant_id });
        throw new HttpError(401, 'invalid_credentials', 'the email or password is not right');
      }
      await guard.succeeded(who);
      if (matches.length > 1) {
        throw new HttpError(
          409,
          'tenant_choice_required',
          'this email and password belong to users of several tenants: sign in again with tenant_id',
          undefined,
          {
            tenants: matches.map((m) => ({ id: m.tenantId, name: m.tenantName })),
          },
        );
      }
      const m = matches[0];
      const session = await startSession(
        pool,
        { tenantId: m.tenantId, userId: m.userId, clientAddress: who.address, userAgent: req.get('user-agent') },
        config.refreshTtlSeconds,
        clock(),
      );
      log.info({ requestId: res.locals.requestId, event: 'signed_in', userId: m.userId, tenantId: m.tenantId, sessionId: session.sessionId }, 'signed in');
      const user: MeJson = { id: m.userId, email: m.email, display_name: m.displayName, role: m.role, tenant_id: m.tenantId, tenant_name: m.tenantName };
      return { body: grant(res, session, user) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/auth/refresh',
      role: 'public',
      summary: 'A new access token for the refresh cookie',
      description: `Needs the refresh cookie and the header "${csrfHeader}: 1". Rotates the cookie; presenting an already rotated one revokes the whole session.`,
      responses: {
        200: { description: 'a new access token; the cookie replaced', schema: grantSchema, headers: cookieHeader },
        401: { description: 'no session to refresh: session_expired (sign in again) or session_revoked', schema: errorBodySchema },
        403: csrfResponse,
      },
    },
    async ({ req, res }) => {
      const token = refreshTokenOf(req);
      const rotated = token ? await rotateRefreshToken(pool, token, clock()) : ({ refused: 'expired' } as const);
      if ('refused' in rotated) {
        clearCookie(res);
        if (rotated.refused === 'expired') throw new HttpError(401, 'session_expired', 'the session has ended; sign in again');
        if (rotated.reason === 'token_reused')
          log.warn(
            { requestId: res.locals.requestId, event: 'refresh_token_reused', address: addressOf(req) },
            'a rotated refresh token came back: session revoked',
          );
        throw new HttpError(401, 'session_revoked', 'the session was ended; sign in again');
      }
      const profile = await userProfile(pool, rotated.userId);
      if (!profile) throw new HttpError(401, 'session_expired', 'the session has ended; sign in again');
      return { body: grant(res, rotated, meJson(profile)) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/auth/sign-out',
      role: 'public',
      summary: 'Sign out: end the session of the refresh cookie',
      description: `Needs the header "${csrfHeader}: 1". The access token in hand stays valid until it expires (AUTH_ACCESS_TTL); the client drops it.`,
      responses: {
        204: { description: 'signed out; the cookie cleared', headers: cookieHeader },
        403: csrfResponse,
      },
    },
    async ({ req, res }) => {
      const token = refreshTokenOf(req);
      if (token && (await endSession(pool, token, clock()))) log.info({ requestId: res.locals.requestId, event: 'signed_out' }, 'signed out');
      clearCookie(res);
      return { status: 204 };
    },
  );

  return api;
}
