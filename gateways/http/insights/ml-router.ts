/**
 * cloud-ml-model-service as an internal endpoint (spec §5.1), an ApiRouter (gateways/http/api/)
 * documented with the `service` security scheme:
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
import { z } from 'zod';
import { predictGrowth, predictRequestSchema, UnknownSpecies } from '../../../insights/ml/growth-reference-model';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { utf8Only } from '../charset';
import { HttpError } from '../errors';
import { requestId as requestIdMiddleware } from '../request-id';
import { internalBodyErrors, requireServiceToken, type InternalRouterDeps } from '../service-auth';
import { bodyRefusal, predictionsWireSchema } from './insight-requests';

export type { InternalRouterDeps } from '../service-auth';

const predictedSchema = z.object({ predictions: predictionsWireSchema }).meta({ id: 'GrowthPredictions' });
const errorAnswer = (description: string) => ({ description, schema: errorBodySchema });

/** 'public' to the kit: the route checks the service token itself (before the body is read). */
export function createMlRouter({ log, serviceToken, tokens }: InternalRouterDeps): ApiRouter {
  const api = new ApiRouter('internal');
  api.route(
    {
      method: 'post',
      path: '/api/v1/ml/predict',
      role: 'public',
      security: 'service',
      summary: 'Growth predictions per barn (internal: cloud-ml-model-service)',
      description: 'Called by the insight workflow when ML_SERVICE_URL is set. Per-barn features in, never readings.',
      before: [requestIdMiddleware, requireServiceToken(serviceToken, tokens), utf8Only()],
      body: predictRequestSchema,
      bodyLimit: '256kb',
      invalid: bodyRefusal('invalid_body'),
      responses: {
        200: { description: 'the predictions', schema: predictedSchema },
        413: errorAnswer('the body is larger than 256 kB (payload_too_large)'),
        415: errorAnswer('a charset other than UTF-8 (unsupported_charset)'),
      },
    },
    async ({ body, res }) => {
      const requestId = res.locals.requestId as string;
      try {
        const predictions = predictGrowth(body);
        log.info({ requestId, model: predictions.model, barns: predictions.barns.length }, 'growth predictions');
        return { status: 200, body: { predictions } };
      } catch (err) {
        if (err instanceof UnknownSpecies) throw new HttpError(400, 'unknown_species', err.message, 'species');
        throw err;
      }
    },
  );
  // After the route: it sees its errors (and answers the caller's own, < 500, itself).
  api.router.use(internalBodyErrors);
  return api;
}
