/**
 * cloud-llm-insights-service over HTTP (`LLM_INSIGHTS_SERVICE_URL` set): POST
 * /api/v1/llm-insights/analyze with the feature summary — and only it — as the body, the request's
 * x-request-id and the internal service token. The service does the LLM call and the template
 * fallback; an error here (service down) fails the activity, which Temporal retries and the
 * workflow finally answers with the template writer.
 */
import type { FeatureSummary } from '../feature-summary';
import { insightSchema, type GeneratedInsight } from '../insight-schema';
import type { InsightAnalyzer } from './analyzer';
import type { WriteContext } from './writer';

export class HttpInsightAnalyzer implements InsightAnalyzer {
  constructor(private readonly opts: { baseUrl: string; serviceToken: string; timeoutMs: number; fetch?: typeof fetch }) {}

  async analyze(summary: FeatureSummary, ctx: WriteContext): Promise<GeneratedInsight> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/api/v1/llm-insights/analyze`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const res = await (this.opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': ctx.requestId, authorization: `Bearer ${this.opts.serviceToken}` },
      body: JSON.stringify({ summary }),
      signal: ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
    const result = (JSON.parse(text) as { result: GeneratedInsight }).result;
    // What gets stored must be a valid insight, whoever produced it.
    return { ...result, insight: insightSchema.parse(result.insight) };
  }
}
