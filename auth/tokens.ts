/// <reference path="./jsonwebtoken.d.ts" />
/**
 * Dashboard tokens: short-lived HS256 JWTs (jsonwebtoken) that carry the user, the tenant and the
 * role. The algorithm, issuer and audience are pinned on verification, so a token minted for another
 * audience, an `alg: none` token or one signed with another key is refused.
 *
 * Claims: sub = user id, tid = tenant id, role = viewer | operator | admin, plus iss/aud/iat/exp.
 */
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { z } from 'zod';
import { settings } from '../config/settings';
import { isRole, type Role } from './roles';

export { roles, hasRole, isRole, type Role } from './roles';

export const tokenIssuer = 'farmiq';
export const tokenAudience = 'farmiq-dashboard';

/** Who a request acts as: what a verified token says. */
export interface AuthContext {
  userId: string;
  tenantId: string;
  role: Role;
}

export interface IssueOptions {
  /** Seconds, or a jsonwebtoken duration ("15m", "1h"); default AUTH_TOKEN_TTL (1 h). */
  expiresIn?: number | string;
  /** Signing key; default AUTH_JWT_SECRET. */
  secret?: string;
}

export interface VerifyOptions {
  secret?: string;
  /** Clock for expiry checks, in seconds since the epoch (tests). */
  clockTimestamp?: number;
}

export type TokenProblem = 'expired' | 'invalid';

export class InvalidTokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

const uuid = z.string().uuid();
const claims = z.object({
  sub: uuid,
  tid: uuid,
  role: z.string().refine(isRole, 'unknown role'),
});

export function issueToken(ctx: AuthContext, opts: IssueOptions = {}): string {
  const parsed = claims.safeParse({ sub: ctx.userId, tid: ctx.tenantId, role: ctx.role });
  if (!parsed.success) throw new Error(`cannot issue a token: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return jwt.sign({ tid: ctx.tenantId, role: ctx.role }, opts.secret ?? settings().AUTH_JWT_SECRET, {
    algorithm: 'HS256',
    subject: ctx.userId,
    issuer: tokenIssuer,
    audience: tokenAudience,
    expiresIn: opts.expiresIn ?? settings().AUTH_TOKEN_TTL,
  });
}

/** The AuthContext of a valid token; InvalidTokenError for anything else. */
export function verifyToken(token: string, opts: VerifyOptions = {}): AuthContext {
  let payload: string | JwtPayload;
  try {
    payload = jwt.verify(token, opts.secret ?? settings().AUTH_JWT_SECRET, {
      algorithms: ['HS256'],
      issuer: tokenIssuer,
      audience: tokenAudience,
      clockTimestamp: opts.clockTimestamp,
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new InvalidTokenError('expired', 'the token has expired');
    throw new InvalidTokenError('invalid', `the token is not valid: ${(err as Error).message}`);
  }
  const parsed = claims.safeParse(payload);
  if (!parsed.success) throw new InvalidTokenError('invalid', 'the token lacks a user, tenant or known role');
  return { userId: parsed.data.sub, tenantId: parsed.data.tid, role: parsed.data.role as Role };
}
