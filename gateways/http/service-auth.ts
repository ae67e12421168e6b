/**
 * What the internal service endpoints (spec §5.1: ml-router.ts, llm-router.ts) share: the service
 * token check and the mapping of body-parser's errors to this API's codes. Service callers, not
 * dashboard users, hold the token: a dashboard token is refused here.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { verifyToken, type TokenConfig } from '../../auth/tokens';
import type { Logger } from '../../platform/logger';
import { HttpError, requestErrorOf, sendError } from './errors';

export interface InternalRouterDeps {
  log: Logger;
  /** INTERNAL_SERVICE_TOKEN: the bearer token callers must present. */
  serviceToken: string;
  /** How dashboard tokens verify (to tell a user's token, 403, from none, 401): the process's tokenConfig(). */
  tokens: TokenConfig;
}

/**
 * Lets a request through only with `Authorization: Bearer <internal service token>` (compared in
 * constant time). A valid dashboard token is 403 forbidden (a user, but not a service); anything
 * else is 401 unauthenticated.
 */
export function requireServiceToken(token: string, tokens: TokenConfig): RequestHandler {
  const expected = Buffer.from(token, 'utf8');
  return (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = m ? Buffer.from(m[1], 'utf8') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    if (m && isDashboardToken(m[1], tokens)) {
      return sendError(res, new HttpError(403, 'forbidden', 'this internal endpoint is for FarmIQ services, not dashboard users'));
    }
    res.setHeader('www-authenticate', 'Bearer realm="farmiq-internal"');
    return sendError(res, new HttpError(401, 'unauthenticated', 'this internal endpoint needs the service token'));
  };
}

function isDashboardToken(token: string, tokens: TokenConfig): boolean {
  try {
    verifyToken(token, tokens);
    return true;
  } catch {
    return false;
  }
}

export const internalBodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return sendError(res, new HttpError(400, 'invalid_json', 'the request body is not valid JSON'));
  if (type === 'entity.too.large') return sendError(res, new HttpError(413, 'payload_too_large', 'the request body is too large'));
  // Another charset (utf8Only), an unknown encoding, a broken path parameter: the caller's, with a code.
  const known = err instanceof HttpError ? err : requestErrorOf(err);
  if (known && known.status < 500) return sendError(res, { status: known.status, code: known.code, message: known.message, field: known.field || undefined });
  next(err);
};
