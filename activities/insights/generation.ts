/**
 * The activities of the insight workflow (spec §5; workflows/insights/generation.ts), built by a
 * factory that closes over the clients the cloud worker creates once:
 *
 *   aggregateFeatureSummary  rollups + daily aggregates → FeatureSummary (insights/aggregation.ts)
 *   predict                  FeatureSummary → ML predictions (cloud-ml-model-service)
 *   analyzeWithLlm           FeatureSummary → insight, LLM or template (cloud-llm-insights-service)
 *   writeTemplateInsight     the workflow's last resort when analyzeWithLlm itself failed
 *   storeInsight             insights row (+ fallback note), once per request id
 *
 * Database work runs inside withTenant on the row-level-security pool (farmiq_app), so an activity
 * can only ever see the tenant of the request it serves. Every log line carries the request id.
 *
 * Failures (activities/failures.ts): transient ones (Postgres away, a timeout, the ML or LLM
 * service down) are thrown as they are and retried by each step's preset. Data Postgres refuses
 * (a window it cannot hold, a stored insight it will not take) and a result too large to hand to
 * Temporal are a non-retryable DataRefused: the same call would fail the same way again. Text an
 * insight carries from outside (the LLM's answer, an error's words) is made storable first, so a
 * NUL in a model's output does not lose the insight.
 */
import type { Pool } from 'pg';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { boundedPayload, refusalsAreFinal, storableJson } from '../failures';
import { aggregateFeatureSummary as aggregate, FarmNotFound, tenantScopedDb } from '../../insights/aggregation';
import { FeatureSummaryRejected, parseFeatureSummary, type FeatureSummary, type MlPredictions } from '../../insights/feature-summary';
import type { FallbackReason, GeneratedInsight } from '../../insights/insight-schema';
import { storeInsight as store, type InsightRecord, type StoreInsightInput } from '../../insights/insight-store';
import { templateInsight, type InsightAnalyzer } from '../../insights/llm/analyzer';
import { UnknownSpecies } from '../../insights/ml/growth-reference-model';
import { PredictionRejected, predictRequestFromSummary, type GrowthPredictor } from '../../insights/ml/predictor';

export interface AggregateFeatureSummaryInput {
  tenantId: string;
  farmId: string;
  barnId: string | null;
  window: { from: string; to: string };
  forecastDays?: number;
  targetWeightKg?: number | null;
  requestId: string;
}

export interface PredictInput {
  summary: FeatureSummary;
  requestId: string;
}

export interface AnalyzeWithLlmInput {
  /** The feature summary — the activity's only data input (DESIGN §4 LLM guardrail). */
  summary: FeatureSummary;
  requestId: string;
}

export interface WriteTemplateInsightInput {
  summary: FeatureSummary;
  requestId: string;
  reason: FallbackReason;
  detail: string;
  model: string | null;
}

export type StoreInsightActivityInput = StoreInsightInput;

export interface InsightActivityDeps {
  /** The tenant pool (auth/tenant-db.ts createTenantPool): farmiq_app, subject to RLS. */
  pool: Pool;
  predictor: GrowthPredictor;
  analyzer: InsightAnalyzer;
  /** The configured LLM model, recorded when the workflow falls back; null with the template writer. */
  llmModel: string | null;
}

/** The summary as a typed failure when it is not one; guards every activity that receives one. */
function checkedSummary(summary: unknown): FeatureSummary {
  try {
    return parseFeatureSummary(summary);
  } catch (err) {
    if (err instanceof FeatureSummaryRejected) throw ApplicationFailure.nonRetryable(err.message, 'InvalidFeatureSummary');
    throw err;
  }
}

export function createInsightActivities({ pool, predictor, analyzer, llmModel }: InsightActivityDeps) {
  return {
    async aggregateFeatureSummary(input: AggregateFeatureSummaryInput): Promise<FeatureSummary> {
      const started = Date.now();
      try {
        const summary = boundedPayload(
          'aggregateFeatureSummary',
          await refusalsAreFinal('aggregateFeatureSummary', () => aggregate(tenantScopedDb(pool, input.tenantId), input)),
        );
        log.info('feature summary aggregated', {
          requestId: input.requestId,
          farmId: input.farmId,
          barnId: input.barnId,
          barns: summary.farm.barns,
          anomalies: summary.farm.anomalies,
          ms: Date.now() - started,
        });
        return summary;
      } catch (err) {
        if (err instanceof FarmNotFound) throw ApplicationFailure.nonRetryable(err.message, 'FarmNotFound');
        throw err;
      }
    },

    /** null when no barn has what the model needs (an age and a weighing). */
    async predict({ summary, requestId }: PredictInput): Promise<MlPredictions | null> {
      const request = predictRequestFromSummary(checkedSummary(summary));
      if (!request) {
        log.info('no barn has an age and a weighing; no predictions', { requestId });
        return null;
      }
      try {
        const predictions = boundedPayload('predict', await predictor.predict(request, { requestId, signal: Context.current().cancellationSignal }));
        log.info('ML predictions received', { requestId, model: predictions.model, barns: predictions.barns.length });
        return predictions;
      } catch (err) {
        if (err instanceof UnknownSpecies || err instanceof PredictionRejected) throw ApplicationFailure.nonRetryable(err.message, 'PredictionRejected');
        throw err;
      }
    },

    async analyzeWithLlm({ summary, requestId }: AnalyzeWithLlmInput): Promise<GeneratedInsight> {
      const checked = checkedSummary(summary);
      const started = Date.now();
      const result = boundedPayload('analyzeWithLlm', await analyzer.analyze(checked, { requestId, signal: Context.current().cancellationSignal }));
      log.info('insight written', {
        requestId,
        generator: result.generator,
        model: result.model,
        fallbackReason: result.fallback?.reason ?? null,
        ms: Date.now() - started,
      });
      return result;
    },

    async writeTemplateInsight({ summary, requestId, reason, detail, model }: WriteTemplateInsightInput): Promise<GeneratedInsight> {
      log.warn('the LLM analysis failed; the template writer answers', { requestId, reason, detail });
      return templateInsight(checkedSummary(summary), { reason, detail: detail.slice(0, 500), model: model ?? llmModel });
    },

    async storeInsight(input: StoreInsightActivityInput): Promise<InsightRecord> {
      const storable: StoreInsightActivityInput = {
        ...input,
        summary: storableJson(input.summary),
        predictions: storableJson(input.predictions),
        generated: storableJson(input.generated),
      };
      const record = boundedPayload(
        'storeInsight',
        await refusalsAreFinal('storeInsight', () => tenantScopedDb(pool, input.tenantId)((client) => store(client, storable))),
      );
      log.info('insight stored', { requestId: input.requestId, insightId: record.id, generator: record.generator });
      return record;
    },
  };
}

export type InsightActivities = ReturnType<typeof createInsightActivities>;
