/**
 * The insight generators and the ML predictor as the settings choose them (config/settings.ts):
 * in process by default, or the internal HTTP services when their URLs are set.
 */
import type { Settings } from '../config/settings';
import { LocalInsightAnalyzer, type AnalyzerLog, type InsightAnalyzer } from './llm/analyzer';
import { HttpInsightAnalyzer } from './llm/http-analyzer';
import { OpenAiCompatibleWriter } from './llm/openai-compatible';
import type { InsightWriter } from './llm/writer';
import { HttpPredictor, localPredictor, type GrowthPredictor } from './ml/predictor';

type InsightSettings = Pick<
  Settings,
  | 'LLM_PROVIDER'
  | 'LLM_BASE_URL'
  | 'LLM_MODEL'
  | 'LLM_API_KEY'
  | 'LLM_TIMEOUT_MS'
  | 'LLM_MAX_TOKENS'
  | 'ML_SERVICE_URL'
  | 'LLM_INSIGHTS_SERVICE_URL'
  | 'INTERNAL_SERVICE_TOKEN'
>;

/** The LLM writer, or null for the template writer. Throws (fail fast) on an incomplete LLM setup. */
export function llmWriterFromSettings(s: InsightSettings): InsightWriter | null {
  if (s.LLM_PROVIDER === 'template') return null;
  if (!s.LLM_MODEL) throw new Error('LLM_PROVIDER=openai needs LLM_MODEL (e.g. gpt-4o-mini, llama3.1:8b)');
  return new OpenAiCompatibleWriter({
    baseUrl: s.LLM_BASE_URL,
    model: s.LLM_MODEL,
    apiKey: s.LLM_API_KEY || undefined,
    timeoutMs: s.LLM_TIMEOUT_MS,
    maxTokens: s.LLM_MAX_TOKENS,
  });
}

export interface InsightServices {
  analyzer: InsightAnalyzer;
  predictor: GrowthPredictor;
  /** The configured LLM model (null: template writer). */
  llmModel: string | null;
}

export function insightServicesFromSettings(s: InsightSettings, log?: AnalyzerLog): InsightServices {
  const llm = llmWriterFromSettings(s);
  const analyzer = s.LLM_INSIGHTS_SERVICE_URL
    ? new HttpInsightAnalyzer({ baseUrl: s.LLM_INSIGHTS_SERVICE_URL, serviceToken: s.INTERNAL_SERVICE_TOKEN, timeoutMs: s.LLM_TIMEOUT_MS + 5000 })
    : new LocalInsightAnalyzer(llm, log);
  const predictor = s.ML_SERVICE_URL
    ? new HttpPredictor({ baseUrl: s.ML_SERVICE_URL, serviceToken: s.INTERNAL_SERVICE_TOKEN, timeoutMs: 8000 })
    : localPredictor;
  return { analyzer, predictor, llmModel: llm?.model ?? null };
}
