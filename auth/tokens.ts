/**
 * Dashboard tokens: short-lived HS256 JWTs (jsonwebtoken) that carry the user, the tenant and the
 * role. The algorithm, issuer and audience are pinned on verification, so a token minted for another
 * audience, an `alg: none` token or one signed with another key is refused.
 *
 * Claims: sub = user id, tid = tenant id, role = viewer | operator | admin, plus iss/aud/iat/exp,
 * and sid = the sign-in session on access tokens that a sign-in or refresh issued (docs/auth.md).
 * Every token must expire: one without `exp`, or whose lifetime (exp - iat, and exp - now) exceeds
 * AUTH_TOKEN_MAX_TTL (default 24 h), is refused even when its signature is right, and issueToken()
 * refuses to make one.
 *
 * The key and the lifetimes come in a TokenConfig that the process edge builds once from the
 * settings (tokenConfig()); nothing here reads the settings itself.
 */
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { z } from 'zod';
import { durationSeconds, type Settings } from '../config/settings';
import { isRole, type Role } from './roles';

export { roles, hasRole, isRole, type Role } from './roles';

export const tokenIssuer = 'farmiq';
export const tokenAudience = 'farmiq-dashboard';

/** Who a request acts as: what a verified token says. */
export interface AuthContext {
  userId: string;
  tenantId: string;
  role: Role;
  /** The sign-in session (auth/sessions.ts) an access token was issued for; absent on CLI service tokens. */
  sessionId?: string;
}

/** What tokens are signed and verified with; tokenConfig() reads it from the settings. */
export interface TokenConfig {
  /** AUTH_JWT_SECRET: the HS256 key. */
  secret: string;
  /** AUTH_TOKEN_TTL in seconds: the lifetime of a token issued without expiresIn. */
  lifetimeSeconds: number;
  /** AUTH_TOKEN_MAX_TTL in seconds: the longest lifetime issued or accepted. */
  maxLifetimeSeconds: number;
}

export function tokenConfig(s: Pick<Settings, 'AUTH_JWT_SECRET' | 'AUTH_TOKEN_TTL' | 'AUTH_TOKEN_MAX_TTL'>): TokenConfig {
  return { secret: s.AUTH_JWT_SECRET, lifetimeSeconds: durationSeconds(s.AUTH_TOKEN_TTL), maxLifetimeSeconds: durationSeconds(s.AUTH_TOKEN_MAX_TTL) };
}

export interface IssueOptions {
  /** Seconds, or a duration such as "15m" or "1h"; default the config's lifetime (AUTH_TOKEN_TTL, 1 h); at most the maximum lifetime. */
  expiresIn?: number | string;
}

export interface VerifyOptions {
  /** Clock for expiry checks, in seconds since the epoch (tests). */
  clockTimestamp?: number;
}

/** Clock difference tolerated between the machine that issued a token and the one verifying it. */
const clockSkewSeconds = 60;

export type TokenProblem = 'expired' | 'invalid';

export class InvalidTokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

const uuid = z.string().uuid();
const claims = z.object({
  sub: uuid,
  tid: uuid,
  role: z.string().refine(isRole, 'unknown role'),
  sid: uuid.optional(),
});

export function issueToken(ctx: AuthContext, config: TokenConfig, opts: IssueOptions = {}): string {
  const parsed = claims.safeParse({ sub: ctx.userId, tid: ctx.tenantId, role: ctx.role, sid: ctx.sessionId });
  if (!parsed.success) throw new Error(`cannot issue a token: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  // Seconds as a number: jsonwebtoken reads a bare numeric *string* ("3600") as milliseconds.
  const lifetime = durationSeconds(opts.expiresIn ?? config.lifetimeSeconds);
  const max = config.maxLifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 1) throw new Error('cannot issue a token: its lifetime must be a whole number of seconds, at least 1');
  if (lifetime > max) throw new Error(`cannot issue a token for ${lifetime} s: the longest lifetime allowed (AUTH_TOKEN_MAX_TTL) is ${max} s`);
  return jwt.sign({ tid: ctx.tenantId, role: ctx.role, ...(ctx.sessionId ? { sid: ctx.sessionId } : {}) }, config.secret, {
    algorithm: 'HS256',
    subject: ctx.userId,
    issuer: tokenIssuer,
    audience: tokenAudience,
    expiresIn: lifetime,
  });
}

/** The AuthContext of a valid token; InvalidTokenError for anything else. */
export function verifyToken(token: string, config: TokenConfig, opts: VerifyOptions = {}): AuthContext {
  let payload: string | JwtPayload;
  try {
    payload = jwt.verify(token, config.secret, {
      algorithms: ['HS256'],
      issuer: tokenIssuer,
      audience: tokenAudience,
      clockTimestamp: opts.clockTimestamp,
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new InvalidTokenError('expired', 'the token has expired');
    throw new InvalidTokenError('invalid', `the token is not valid: ${(err as Error).message}`);
  }
  if (typeof payload === 'string') throw new InvalidTokenError('invalid', 'the token has no claims object');
  checkLifetime(payload, config.maxLifetimeSeconds, opts);
  const parsed = claims.safeParse(payload);
  if (!parsed.success) throw new InvalidTokenError('invalid', 'the token lacks a user, tenant or known role');
  return { userId: parsed.data.sub, tenantId: parsed.data.tid, role: parsed.data.role, ...(parsed.data.sid ? { sessionId: parsed.data.sid } : {}) };
}

/** A verified token must expire, within the maximum lifetime, and not claim to be issued in the future. */
function checkLifetime(payload: JwtPayload, max: number, opts: VerifyOptions): void {
  const now = opts.clockTimestamp ?? Math.floor(Date.now() / 1000);
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('invalid', 'the token has no expiry (exp)');
  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidTokenError('invalid', 'the token has a malformed iat');
    if (iat > now + clockSkewSeconds) throw new InvalidTokenError('invalid', 'the token claims to be issued in the future');
    if (exp - iat > max) throw new InvalidTokenError('invalid', `the token lives longer (exp - iat) than the ${max} s allowed`);
  }
  if (exp - now > max + clockSkewSeconds) throw new InvalidTokenError('invalid', `the token expires later than ${max} s from now`);
}
