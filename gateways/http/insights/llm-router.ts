/**
 * cloud-llm-insights-service as an internal endpoint (spec §5.1), an ApiRouter (gateways/http/api/)
 * documented with the `service` security scheme:
 *
 *   POST /api/v1/llm-insights/analyze   Authorization: Bearer <INTERNAL_SERVICE_TOKEN>
 *     body  { summary: FeatureSummary }   — the feature summary and nothing else (spec §5.3): the
 *           body and the summary are strict, so a body carrying readings is refused (400)
 *     200   { result: { insight, generator: "llm" | "template", model, fallback } }
 *     400   invalid_json | invalid_feature_summary
 *     401   unauthenticated (no or a wrong token)        403 forbidden (a dashboard user's token)
 *     415   unsupported_charset (a charset other than UTF-8)
 *
 * The configured LLM writes the insight (with the request's x-request-id on the outgoing call);
 * invalid output, a timeout or an error fall back to the template writer and `fallback` says why.
 * Called by the insight workflow's analyzeWithLlm activity when LLM_INSIGHTS_SERVICE_URL is set.
 */
import { z } from 'zod';
import { LocalInsightAnalyzer } from '../../../insights/llm/analyzer';
import type { InsightWriter } from '../../../insights/llm/writer';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema, orNull } from '../api/openapi';
import { utf8Only } from '../charset';
import { requestId as requestIdMiddleware } from '../request-id';
import { internalBodyErrors, requireServiceToken, type InternalRouterDeps } from '../service-auth';
import { bodyRefusal, featureSummaryWireSchema, insightGeneratorSchema, insightTextSchema, llmFallbackSchema } from './insight-requests';

export interface LlmRouterDeps extends InternalRouterDeps {
  /** The LLM writer (insights/services.ts llmWriterFromSettings); null: the template writer. */
  llm: InsightWriter | null;
}

const analyzeBody = z.strictObject({ summary: featureSummaryWireSchema });
const analyzedSchema = z
  .object({
    result: z.object({ insight: insightTextSchema, generator: insightGeneratorSchema, model: z.string().nullable(), fallback: orNull(llmFallbackSchema) }),
  })
  .meta({ id: 'AnalyzedInsight' });
const errorAnswer = (description: string) => ({ description, schema: errorBodySchema });

/** 'public' to the kit: the route checks the service token itself (before the body is read). */
export function createLlmRouter({ log, serviceToken, tokens, llm }: LlmRouterDeps): ApiRouter {
  const analyzer = new LocalInsightAnalyzer(llm, log);
  const api = new ApiRouter('internal');
  api.route(
    {
      method: 'post',
      path: '/api/v1/llm-insights/analyze',
      role: 'public',
      security: 'service',
      summary: 'Write an insight from a feature summary (internal: cloud-llm-insights-service)',
      description:
        'Called by the insight workflow when LLM_INSIGHTS_SERVICE_URL is set. The feature summary and nothing else: a body carrying readings is refused. Invalid LLM output, a timeout or an error fall back to the template writer (fallback says why).',
      before: [requestIdMiddleware, requireServiceToken(serviceToken, tokens), utf8Only()],
      body: analyzeBody,
      bodyLimit: '1mb',
      invalid: bodyRefusal('invalid_feature_summary'),
      responses: {
        200: { description: 'the insight', schema: analyzedSchema },
        413: errorAnswer('the body is larger than 1 MB (payload_too_large)'),
        415: errorAnswer('a charset other than UTF-8 (unsupported_charset)'),
      },
    },
    async ({ body, res }) => {
      const requestId = res.locals.requestId as string;
      const result = await analyzer.analyze(body.summary, { requestId });
      log.info({ requestId, generator: result.generator, model: result.model, fallbackReason: result.fallback?.reason ?? null }, 'insight analysed');
      return { status: 200, body: { result } };
    },
  );
  // After the route: it sees its errors (and answers the caller's own, < 500, itself).
  api.router.use(internalBodyErrors);
  return api;
}
