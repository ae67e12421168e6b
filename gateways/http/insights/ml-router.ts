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
 * callers, not dashboard users, hold the token: dashboard tokens are refused here (service-auth.ts).
 */
import express, { Router } from 'express';
import { predictGrowth, predictRequestSchema, UnknownSpecies } from '../../../insights/ml/growth-reference-model';
import { utf8Only } from '../charset';
import { HttpError, sendError } from '../errors';
import { requestId as requestIdMiddleware } from '../request-id';
import { internalBodyErrors, requireServiceToken, type InternalRouterDeps } from '../service-auth';

export type { InternalRouterDeps } from '../service-auth';

export function createMlRouter({ log, serviceToken, tokens }: InternalRouterDeps): Router {
  const router = Router();
  router.post(
    '/api/v1/ml/predict',
    requestIdMiddleware,
    requireServiceToken(serviceToken, tokens),
    utf8Only(),
    express.json({ limit: '256kb' }),
    (req, res) => {
      const requestId = res.locals.requestId as string;
      const parsed = predictRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return sendError(res, new HttpError(400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.') || undefined));
      }
      try {
        const predictions = predictGrowth(parsed.data);
        log.info({ requestId, model: predictions.model, barns: predictions.barns.length }, 'growth predictions');
        res.json({ predictions });
      } catch (err) {
        if (err instanceof UnknownSpecies) return sendError(res, new HttpError(400, 'unknown_species', err.message, 'species'));
        throw err;
      }
    },
  );
  router.use(internalBodyErrors);
  return router;
}
