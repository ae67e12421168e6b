/**
 * cloud-ml-model-service as an internal endpoint (spec §5.1):
 *
 *   POST /api/v1/ml/predict   Authorization: Bearer <INTERNAL_SERVICE_TOKEN>
 *     body  { model?: "growth-reference/1", species, horizons_days?: number[], barns: [{ barn_id,
 *             age_days, last_weighing_day, mean_weight_kg, animal_count, fcr, target_weight_kg }] }
 *     200   { predictions: { model, barns: [{ barn_id, performance_index, horizons, days_to_target, feed_needed_kg }] } }
 *     400   invalid_json | invalid_body | unknown_species
 *     401   unauthenticated (no or a wrong token)        403 forbidden (a dashboard user's token)
 *     415   unsupported_charset (a charset other than UTF-8)
 *
 * Called by the insight workflow's predict activity when ML_SERVICE_URL is set (otherwise the
 * model runs inside the cloud worker). The inputs are per-barn features, never readings. Service
 * callers, not dashboard users, hold the token: dashboard tokens are refused here.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { verifyToken } from '../../auth/tokens';
import { settings } from '../../config/settings';
import { predictGrowth, predictRequestSchema, UnknownSpecies } from '../../insights/ml/growth-reference-model';
import type { Logger } from '../../platform/logger';
import { utf8Only } from './charset';
import { HttpError, requestErrorOf } from './errors';

export interface InternalRouterDeps {
  log: Logger;
  /** Default INTERNAL_SERVICE_TOKEN. */
  serviceToken?: string;
  /** Verification key of dashboard tokens (to tell a user's token, 403, from none, 401); default AUTH_JWT_SECRET. */
  jwtSecret?: string;
}

export function sendInternalError(res: Response, status: number, code: string, message: string, field?: string): void {
  res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
}

/**
 * Lets a request through only with `Authorization: Bearer <internal service token>` (compared in
 * constant time). A valid dashboard token is 403 forbidden (a user, but not a service); anything
 * else is 401 unauthenticated.
 */
export function requireServiceToken(token: string, opts: { jwtSecret?: string } = {}): RequestHandler {
  const expected = Buffer.from(token, 'utf8');
  return (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = m ? Buffer.from(m[1], 'utf8') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    if (m && isDashboardToken(m[1], opts.jwtSecret)) {
      return sendInternalError(res, 403, 'forbidden', 'this internal endpoint is for FarmIQ services, not dashboard users');
    }
    res.setHeader('www-authenticate', 'Bearer realm="farmiq-internal"');
    return sendInternalError(res, 401, 'unauthenticated', 'this internal endpoint needs the service token');
  };
}

function isDashboardToken(token: string, secret?: string): boolean {
  try {
    verifyToken(token, { secret });
    return true;
  } catch {
    return false;
  }
}

/** Echoes x-request-id (or mints one) so the caller's trace continues in this service's logs. */
export const internalRequestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = (res.locals.requestId as string | undefined) ?? (given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID());
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  next();
};

export const internalBodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return sendInternalError(res, 400, 'invalid_json', 'the request body is not valid JSON');
  if (type === 'entity.too.large') return sendInternalError(res, 413, 'payload_too_large', 'the request body is too large');
  // Another charset (utf8Only), an unknown encoding, a broken path parameter: the caller's, with a code.
  const known = err instanceof HttpError ? err : requestErrorOf(err);
  if (known && known.status < 500) return sendInternalError(res, known.status, known.code, known.message, known.field);
  next(err);
};

export function createMlRouter({ log, serviceToken = settings().INTERNAL_SERVICE_TOKEN, jwtSecret }: InternalRouterDeps): Router {
  const router = Router();
  router.post('/api/v1/ml/predict', internalRequestId, requireServiceToken(serviceToken, { jwtSecret }), utf8Only(), express.json({ limit: '256kb' }), (req, res) => {
    const requestId = res.locals.requestId as string;
    const parsed = predictRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendInternalError(res, 400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.') || undefined);
    }
    try {
      const predictions = predictGrowth(parsed.data);
      log.info({ requestId, model: predictions.model, barns: predictions.barns.length }, 'growth predictions');
      res.json({ predictions });
    } catch (err) {
      if (err instanceof UnknownSpecies) return sendInternalError(res, 400, 'unknown_species', err.message, 'species');
      throw err;
    }
  });
  router.use(internalBodyErrors);
  return router;
}
