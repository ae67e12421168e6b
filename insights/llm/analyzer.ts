/**
 * cloud-llm-insights-service: turns a feature summary into a stored-ready insight. The summary is
 * checked strictly first (an object with anything beyond the summary's own fields, such as raw
 * readings, is refused before any model sees it); then the configured LLM writes, and on any
 * rejection — invalid JSON, schema violation, numbers not in the summary, timeout, HTTP error —
 * the template writer answers and the result says so (generator, fallback reason).
 */
import { parseFeatureSummary, type FeatureSummary } from '../feature-summary';
import type { GeneratedInsight, LlmFallback } from '../insight-schema';
import { writeTemplateInsight } from './template-writer';
import { LlmRejected, type InsightWriter, type WriteContext } from './writer';

export interface InsightAnalyzer {
  analyze(summary: FeatureSummary, ctx: WriteContext): Promise<GeneratedInsight>;
}

export interface AnalyzerLog {
  warn(obj: object, msg: string): void;
}

/** The template writer's insight, as a result (the default generator, or a fallback). */
export function templateInsight(summary: FeatureSummary, fallback: LlmFallback | null = null): GeneratedInsight {
  return { insight: writeTemplateInsight(summary), generator: 'template', model: null, fallback };
}

export class LocalInsightAnalyzer implements InsightAnalyzer {
  /** `llm` null: the template writer is the generator (the default; no network). */
  constructor(
    private readonly llm: InsightWriter | null,
    private readonly log?: AnalyzerLog,
  ) {}

  async analyze(input: FeatureSummary, ctx: WriteContext): Promise<GeneratedInsight> {
    const summary = parseFeatureSummary(input);
    if (!this.llm) return templateInsight(summary);
    try {
      const insight = await this.llm.write(summary, ctx);
      return { insight, generator: 'llm', model: this.llm.model, fallback: null };
    } catch (err) {
      if (!(err instanceof LlmRejected)) throw err;
      this.log?.warn(
        { requestId: ctx.requestId, reason: err.reason, detail: err.message, model: this.llm.model },
        'LLM answer not used; the template writer answers',
      );
      return templateInsight(summary, { reason: err.reason, detail: err.message.slice(0, 500), model: this.llm.model });
    }
  }
}
