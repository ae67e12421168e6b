/**
 * What an insight generator is. Its input type is the feature summary and nothing else — there is
 * no parameter through which raw telemetry could reach a model (DESIGN §4; the compile-time proof
 * is test/insights/llm-input.types.ts).
 */
import type { FeatureSummary } from '../feature-summary';
import type { FallbackReason, Insight, InsightGenerator } from '../insight-schema';

export interface WriteContext {
  /** x-request-id of the request being served; sent on any outgoing call. */
  requestId: string;
  signal?: AbortSignal;
}

export interface InsightWriter {
  readonly generator: InsightGenerator;
  /** The model name, for an LLM writer. */
  readonly model: string | null;
  /** An insight for the summary; an LLM writer throws LlmRejected when it cannot give a valid one. */
  write(summary: FeatureSummary, ctx: WriteContext): Promise<Insight>;
}

/** An LLM answer that cannot be used, with the reason recorded on the stored insight. */
export class LlmRejected extends Error {
  constructor(
    readonly reason: FallbackReason,
    message: string,
  ) {
    super(message);
    this.name = 'LlmRejected';
  }
}
