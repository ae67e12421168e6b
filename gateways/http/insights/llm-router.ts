/**
 * cloud-llm-insights-service as an internal endpoint (spec §5.1):
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
import express, { Router } from 'express';
import { z } from 'zod';
import { featureSummarySchema } from '../../../insights/feature-summary';
import { LocalInsightAnalyzer } from '../../../insights/llm/analyzer';
import type { InsightWriter } from '../../../insights/llm/writer';
import { utf8Only } from '../charset';
import { HttpError, sendError } from '../errors';
import { requestId as requestIdMiddleware } from '../request-id';
import { internalBodyErrors, requireServiceToken, type InternalRouterDeps } from '../service-auth';

export interface LlmRouterDeps extends InternalRouterDeps {
  /** The LLM writer (insights/services.ts llmWriterFromSettings); null: the template writer. */
  llm: InsightWriter | null;
}

const analyzeBody = z.strictObject({ summary: featureSummarySchema });

export function createLlmRouter({ log, serviceToken, tokens, llm }: LlmRouterDeps): Router {
  const analyzer = new LocalInsightAnalyzer(llm, log);
  const router = Router();
  router.post(
    '/api/v1/llm-insights/analyze',
    requestIdMiddleware,
    requireServiceToken(serviceToken, tokens),
    utf8Only(),
    express.json({ limit: '1mb' }),
    async (req, res) => {
      const requestId = res.locals.requestId as string;
      const parsed = analyzeBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return sendError(
          res,
          new HttpError(400, 'invalid_feature_summary', `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.') || undefined),
        );
      }
      const result = await analyzer.analyze(parsed.data.summary, { requestId });
      log.info({ requestId, generator: result.generator, model: result.model, fallbackReason: result.fallback?.reason ?? null }, 'insight analysed');
      res.json({ result });
    },
  );
  router.use(internalBodyErrors);
  return router;
}
