/**
 * An LLM insight writer for any OpenAI-compatible chat-completions endpoint: OpenAI
 * (https://api.openai.com/v1), vLLM (http://host:8000/v1), Ollama (http://host:11434/v1), …
 * Configured by LLM_BASE_URL, LLM_MODEL and LLM_API_KEY (config/settings.ts).
 *
 * It asks for a JSON object (`response_format: json_object`, temperature 0) and accepts the answer
 * only if it parses, matches the insight schema, names only barns of the summary and quotes only
 * numbers of the summary. Anything else — and a timeout, an HTTP error or an unreachable server —
 * is an LlmRejected with the reason, on which the analyzer falls back to the template writer.
 */
import type { FeatureSummary } from '../feature-summary';
import { insightSchema, type Insight } from '../insight-schema';
import { checkInsightNumbers } from './number-check';
import { insightMessages } from './prompt';
import { LlmRejected, type InsightWriter, type WriteContext } from './writer';

export interface OpenAiCompatibleConfig {
  /** Up to and including the API version, e.g. https://api.openai.com/v1; /chat/completions is appended. */
  baseUrl: string;
  model: string;
  /** Sent as a bearer token when set (OpenAI needs one; a local Ollama or vLLM usually does not). */
  apiKey?: string;
  /** Whole-call deadline (connect, generate, read). */
  timeoutMs: number;
  maxTokens?: number;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const maxResponseBytes = 1_000_000;

/** The model's text, without the ```json fences some models wrap JSON in. */
function unfence(content: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(content);
  return m ? m[1] : content.trim();
}

/** Parses and checks an answer's content against the schema and the summary. */
export function acceptInsight(content: string, summary: FeatureSummary): Insight {
  let json: unknown;
  try {
    json = JSON.parse(unfence(content));
  } catch (err) {
    throw new LlmRejected('llm_invalid_json', `the model's answer is not JSON: ${(err as Error).message}`);
  }
  const parsed = insightSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new LlmRejected('llm_schema_violation', `the model's answer does not match the insight schema: ${issues.join('; ')}`);
  }
  const barnIds = new Set(summary.barns.map((b) => b.barn_id));
  const strangers = [...parsed.data.findings, ...parsed.data.key_metrics].map((x) => x.barn_id).filter((id): id is string => id !== null && !barnIds.has(id));
  if (strangers.length > 0) {
    throw new LlmRejected(
      'llm_schema_violation',
      `the model's answer names barns that are not in the summary: ${[...new Set(strangers)].slice(0, 3).join(', ')}`,
    );
  }
  const numbers = checkInsightNumbers(parsed.data, summary);
  if (!numbers.ok) {
    throw new LlmRejected('llm_numbers_not_in_summary', `the model quoted numbers that are not in the summary: ${numbers.unmatched.slice(0, 5).join(', ')}`);
  }
  return parsed.data;
}

export class OpenAiCompatibleWriter implements InsightWriter {
  readonly generator = 'llm' as const;
  readonly model: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly config: OpenAiCompatibleConfig) {
    this.model = config.model;
    this.fetch = config.fetch ?? fetch;
  }

  async write(summary: FeatureSummary, ctx: WriteContext): Promise<Insight> {
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': ctx.requestId };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const body = JSON.stringify({
      model: this.config.model,
      messages: insightMessages(summary),
      temperature: 0,
      response_format: { type: 'json_object' },
      ...(this.config.maxTokens ? { max_tokens: this.config.maxTokens } : {}),
    });

    let text: string;
    try {
      const res = await this.fetch(url, { method: 'POST', headers, body, signal });
      text = await res.text();
      if (!res.ok) throw new LlmRejected('llm_http_error', `${url} answered ${res.status}: ${text.slice(0, 200)}`);
    } catch (err) {
      if (err instanceof LlmRejected) throw err;
      if (timeout.aborted) throw new LlmRejected('llm_timeout', `no answer from ${url} within ${this.config.timeoutMs} ms`);
      if (ctx.signal?.aborted) throw err; // the caller gave up (activity cancelled): not the model's fault
      throw new LlmRejected('llm_unreachable', `${url} could not be reached: ${(err as Error).message}`);
    }
    if (text.length > maxResponseBytes) throw new LlmRejected('llm_http_error', `the answer is larger than ${maxResponseBytes} bytes`);

    let content: unknown;
    try {
      content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    } catch {
      throw new LlmRejected('llm_http_error', `${url} did not answer with a chat-completions JSON body`);
    }
    if (typeof content !== 'string' || content.trim() === '') throw new LlmRejected('llm_invalid_json', 'the model gave an empty answer');
    return acceptInsight(content, summary);
  }
}
