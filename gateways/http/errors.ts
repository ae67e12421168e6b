/**
 * Errors leave every HTTP gateway as `{ "error": { "code", "message", "field"? } }` with a stable,
 * machine-readable code (clients branch on it; never rename one, only add) and a sentence for a
 * human — written by sendError() below and nowhere else. Edge batch ingestion has its own codes
 * (cloud/ingestion/errors.ts, the edge forwarder branches on them) in the same body.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../../db/errors';
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
  | 'session_not_owned'
  | 'media_not_found'
  | 'object_missing'
  | 'object_size_mismatch'
  | 'object_type_mismatch'
  | 'temporal_unavailable'
  | 'object_store_unavailable'
  // every JSON route (gateways/http/charset.ts) and express's own request errors (below)
  | 'unsupported_charset'
  | 'unsupported_content_encoding'
  | 'payload_too_large'
  | 'invalid_request'
  // the edge operator API (gateways/http/operator-auth.ts)
  | 'operator_unauthenticated'
  // dashboard insights (gateways/http/insights/insights-router.ts)
  | 'invalid_window'
  | 'window_too_long'
  | 'unknown_recipient'
  | 'request_id_reused'
  | 'insight_failed'
  | 'insight_timeout'
  // internal ML / LLM services (gateways/http/insights/ml-router.ts, llm-router.ts)
  | 'invalid_feature_summary'
  | 'unknown_species'
  // sign-in and users (gateways/http/auth/, docs/auth.md)
  | 'invalid_credentials'
  | 'sign_in_locked'
  | 'tenant_choice_required'
  | 'session_expired'
  | 'session_revoked'
  | 'csrf_header_missing'
  | 'weak_password'
  | 'last_admin'
  | 'email_taken'
  // the directory (gateways/http/directory/, docs/directory.md)
  | 'farm_exists'
  | 'barn_exists'
  | 'device_exists'
  | 'edge_exists'
  | 'farm_not_found'
  | 'barn_not_found'
  | 'device_not_found'
  | 'edge_not_found'
  | 'edge_shared'
  | 'edge_revoked';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** The offending parameter or body field, when there is one. */
    readonly field?: string,
    /** More machine-readable members of the error object (e.g. `workflow_id` of a run that goes on). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** What sendError() writes: an HttpError, an IngestionError, or anything else with a status and a code. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  field?: string;
  details?: Record<string, unknown>;
}

/** The one error body: `{ error: { code, message, field?, ...details } }`; a 503 also says retry-after. */
export function sendError(res: Response, err: ErrorAnswer): void {
  if (err.status === 503) res.setHeader('retry-after', '5');
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}), ...err.details } });
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * Errors that express's own machinery (body-parser, the router) raises because of the request — a
 * body that is not JSON, too large, in an unknown charset or encoding, a path parameter that is not
 * valid percent-encoding — carry a 4xx `status`: they are the caller's, with a code, never a 500.
 */
export function requestErrorOf(err: unknown): HttpError | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || !Number.isInteger(status) || status < 400 || status > 499) return undefined;
  const message = typeof e.message === 'string' && e.message ? e.message.slice(0, 300) : 'the request could not be read';
  switch (e.type) {
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_charset', 'request bodies must be UTF-8 JSON (send charset=utf-8 or none)');
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported_content_encoding', message);
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'the request body is too large');
    default:
      return new HttpError(status, 'invalid_request', message);
  }
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    // An answer already on its way cannot become an error body; express closes the connection.
    if (res.headersSent) return next(err);
    let body: HttpError;
    const requestError = err instanceof HttpError ? undefined : requestErrorOf(err);
    if (err instanceof HttpError) {
      body = err;
    } else if (requestError) {
      body = requestError;
      log.info({ requestId: res.locals.requestId, path: req.path, code: body.code, err: (err as Error).message }, 'request refused');
    } else if (isDatabaseUnavailable(err)) {
      // db/errors.ts decides for every process what "the database is not there right now" is.
      body = new HttpError(503, 'database_unavailable', 'the database is not reachable; retry shortly');
      log.warn({ requestId: res.locals.requestId, path: req.path, err: (err as Error).message }, 'database unavailable');
    } else {
      body = new HttpError(500, 'internal_error', 'the request failed; the error is logged with this request id');
      log.error({ requestId: res.locals.requestId, path: req.path, err: (err as Error).message, stack: (err as Error).stack }, 'request failed');
    }
    sendError(res, { status: body.status, code: body.code, message: body.message, field: body.field || undefined, details: body.details });
  };
}
