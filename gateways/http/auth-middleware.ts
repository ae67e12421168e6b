/**
 * Dashboard authentication and authorisation for the cloud HTTP API (DESIGN §4, tenant isolation):
 *
 *   requireUser()              401 unauthenticated unless `Authorization: Bearer <jwt>` verifies;
 *                              sets req.auth = { userId, tenantId, role }
 *   requireRole('operator')    403 forbidden when the caller's role is weaker
 *   requireTenantParam()       404 not_found when :tenantId is not the caller's tenant
 *   assertTenant(req, id)      the same check inside a handler (tenant from a body or a row)
 *
 * Another tenant's resource answers 404, never 403: a 403 would confirm that the id exists.
 * Edge batch ingestion authenticates edges by request signature and is mounted outside these.
 */
import type { Request, RequestHandler } from 'express';
import { hasRole, InvalidTokenError, verifyToken, type AuthContext, type Role, type TokenConfig } from '../../auth/tokens';
import { HttpError } from './errors';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by requireUser(): who the request acts as. */
      auth?: AuthContext;
    }
  }
}

const bearer = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i;

function unauthenticated(message: string): HttpError {
  return new HttpError(401, 'unauthenticated', message);
}

/**
 * Verifies the bearer token with `tokens` (the process's tokenConfig(); tests pass their own key)
 * and sets req.auth; 401 unauthenticated without a valid one.
 */
export function requireUser(tokens: TokenConfig): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? bearer.exec(header) : null;
    if (!match) {
      res.setHeader('www-authenticate', 'Bearer realm="farmiq"');
      return next(unauthenticated('send a dashboard token as "Authorization: Bearer <token>"'));
    }
    try {
      req.auth = verifyToken(match[1], tokens);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) return next(err);
      res.setHeader('www-authenticate', `Bearer realm="farmiq", error="invalid_token"`);
      return next(unauthenticated(err.problem === 'expired' ? 'the token has expired; sign in again' : 'the token is not valid'));
    }
    next();
  };
}

/** The caller of a request behind requireUser(); 401 if there is none (a route mounted outside it). */
export function authOf(req: Request): AuthContext {
  if (!req.auth) throw unauthenticated('this route needs a dashboard token');
  return req.auth;
}

/** 403 forbidden unless the caller has `min` or a stronger role. */
export function requireRole(min: Role): RequestHandler {
  return (req, _res, next) => {
    if (!req.auth) return next(unauthenticated('this route needs a dashboard token'));
    if (!hasRole(req.auth.role, min)) return next(new HttpError(403, 'forbidden', `this needs the ${min} role or higher`));
    next();
  };
}

/** 404 not_found when `tenantId` is not the caller's tenant (or the caller is unknown: 401). */
export function assertTenant(req: Request, tenantId: string | null | undefined): void {
  const auth = authOf(req);
  if (typeof tenantId !== 'string' || tenantId.toLowerCase() !== auth.tenantId.toLowerCase()) {
    throw new HttpError(404, 'not_found', 'no such resource');
  }
}

/** assertTenant on a route parameter (default :tenantId). */
export function requireTenantParam(name = 'tenantId'): RequestHandler {
  return (req, _res, next) => {
    try {
      assertTenant(req, req.params[name] as string | undefined);
      next();
    } catch (err) {
      next(err);
    }
  };
}
