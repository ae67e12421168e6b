/**
 * The structured insight — what a generator (template writer or LLM) must produce. An LLM's
 * answer is parsed as JSON, checked against this schema and then number-checked against the
 * feature summary (insights/llm/number-check.ts) before it is accepted.
 */
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

export const insightTopics = ['climate', 'feed', 'growth', 'uniformity', 'forecast', 'anomaly', 'data_quality'] as const;

export const insightSchema = z.strictObject({
  title: text(160),
  summary: text(1500),
  findings: z
    .array(
      z.strictObject({
        severity: z.enum(['info', 'warning', 'critical']),
        topic: z.enum(insightTopics),
        barn_id: z.string().max(128).nullable(),
        text: text(600),
      }),
    )
    .max(40),
  recommendations: z
    .array(
      z.strictObject({
        priority: z.enum(['low', 'medium', 'high']),
        text: text(600),
      }),
    )
    .max(12),
  key_metrics: z
    .array(
      z.strictObject({
        label: text(80),
        value: z.number(),
        unit: z.string().max(24),
        barn_id: z.string().max(128).nullable(),
      }),
    )
    .max(40),
});

export type Insight = z.infer<typeof insightSchema>;

/** Which generator wrote a stored insight (insights.generator). */
export type InsightGenerator = 'template' | 'llm';

/** Why the template writer answered although an LLM was configured. */
export type FallbackReason =
  'llm_timeout' | 'llm_http_error' | 'llm_unreachable' | 'llm_invalid_json' | 'llm_schema_violation' | 'llm_numbers_not_in_summary' | 'llm_activity_failed';

export interface LlmFallback {
  reason: FallbackReason;
  /** The rejection, shortened, for an operator. */
  detail: string | null;
  /** The LLM model whose answer was not used. */
  model: string | null;
}

export interface GeneratedInsight {
  insight: Insight;
  generator: InsightGenerator;
  /** The LLM model, when generator = 'llm'. */
  model: string | null;
  /** Set when an LLM was configured but the template writer answered. */
  fallback: LlmFallback | null;
}
