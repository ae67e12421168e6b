/**
 * Errors leave the HTTP gateways as `{ "error": { "code", "message" } }` with a stable,
 * machine-readable code (clients branch on it; never rename one, only add) and a sentence for a human.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../platform/logger';

export type ErrorCode =
  | 'invalid_query'
  | 'not_found'
  | 'database_unavailable'
  | 'internal_error'
  // auth and dashboard APIs (gateways/http/auth-middleware.ts, notifications-router.ts)
  | 'unauthenticated'
  | 'forbidden'
  | 'invalid_body'
  // WeighVision image uploads (gateways/http/device-auth.ts, media-router.ts)
  | 'device_unauthenticated'
  | 'device_scope_violation'
  | 'invalid_json'
  | 'unsupported_content_type'
  | 'image_too_large'
  | 'session_not_found'
  | 'session_not_open'
  | 'media_not_found'
  | 'object_missing'
  | 'object_size_mismatch'
  | 'object_type_mismatch'
  | 'temporal_unavailable'
  | 'object_store_unavailable';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** The offending query parameter, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

// Connection-level failures (Postgres down or restarting) are the caller's cue to retry later.
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001']);

function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code !== undefined && unavailableCodes.has(e.code)) || /timeout exceeded when trying to connect|Connection terminated/i.test(e.message ?? '');
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let body: HttpError;
    if (err instanceof HttpError) {
      body = err;
    } else if (isDatabaseUnavailable(err)) {
      body = new HttpError(503, 'database_unavailable', 'the database is not reachable; retry shortly');
      log.warn({ requestId: res.locals.requestId, path: req.path, err: (err as Error).message }, 'database unavailable');
    } else {
      body = new HttpError(500, 'internal_error', 'the request failed; the error is logged with this request id');
      log.error({ requestId: res.locals.requestId, path: req.path, err: (err as Error).message, stack: (err as Error).stack }, 'request failed');
    }
    if (body.status === 503) res.setHeader('retry-after', '5');
    res.status(body.status).json({ error: { code: body.code, message: body.message, ...(body.field ? { field: body.field } : {}) } });
  };
}
