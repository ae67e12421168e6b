/**
 * The wire shapes of the dashboard insight endpoints (insights-router.ts): the request bodies and
 * queries as zod schemas, their translation into the workflow's input, and the response bodies
 * with their schemas for the OpenAPI document. Every refusal is an HttpError with this API's code
 * (errors.ts).
 */
import { z } from 'zod';
import { isUuid } from '../../../domain/contracts/identifiers';
import { featureSummarySchema, predictionsSchema } from '../../../insights/feature-summary';
import type { GenerateInsightInput, GenerateInsightResult } from '../../../insights/insight-contract';
import { insightSchema, type FallbackReason } from '../../../insights/insight-schema';
import type { InsightRecord } from '../../../insights/insight-store';
import { notificationChannels } from '../../../notifications/model';
import { orNull } from '../api/openapi';
import { HttpError } from '../errors';

export const maxWindowDays = 180;
const dayMs = 86_400_000;

const idString = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const instant = z.iso.datetime({ offset: true });

export const generateInsightBody = z.strictObject({
  /** Optional and redundant: when present it must be the caller's own tenant. */
  tenant_id: z.string().optional(),
  farm_id: idString,
  barn_id: idString.nullable().optional(),
  window: z.strictObject({ from: instant, to: instant }),
  options: z
    .strictObject({
      predictions: z.boolean().default(false),
      forecast_days: z.number().int().min(1).max(90).optional(),
      target_weight_kg: z.number().positive().max(5000).optional(),
      notify: z.strictObject({ channel: z.enum(notificationChannels), user_id: z.uuid().optional() }).optional(),
    })
    .default({ predictions: false }),
});

export type GenerateInsightBody = z.input<typeof generateInsightBody>;
type ParsedGenerateBody = z.output<typeof generateInsightBody>;

export const listInsightsQuery = z.object({
  farm_id: idString,
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** True when `id` can be an insight id (anything else is simply not found). */
export function isInsightId(id: string): boolean {
  return isUuid(id);
}

/**
 * A body's refusal with `code`, naming the first offending field ("body" when it is the whole body):
 * the generate body (invalid_body) and the internal ML / LLM bodies (ml-router.ts, llm-router.ts).
 */
export function bodyRefusal(code: 'invalid_body' | 'invalid_feature_summary') {
  return (issues: z.core.$ZodIssue[]): HttpError => {
    const field = issues[0]?.path.join('.') ?? '';
    return new HttpError(400, code, `${field || 'body'}: ${issues[0]?.message ?? 'not valid'}`, field || undefined);
  };
}

export const foreignCursor = () => new HttpError(400, 'invalid_query', 'cursor: not a cursor this API issued', 'cursor');

/** The workflow input of a valid body: the window checked (400 invalid_window, window_too_long) and normalised. */
export function generateInput(body: ParsedGenerateBody, who: { tenantId: string; userId: string; requestId: string }): GenerateInsightInput {
  const from = Date.parse(body.window.from);
  const to = Date.parse(body.window.to);
  if (!(from < to)) throw new HttpError(400, 'invalid_window', 'window.from must be before window.to', 'window');
  if (to - from > maxWindowDays * dayMs) throw new HttpError(400, 'window_too_long', `a window may span at most ${maxWindowDays} days`, 'window');
  return {
    tenantId: who.tenantId,
    farmId: body.farm_id,
    barnId: body.barn_id ?? null,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    requestId: who.requestId,
    userId: who.userId,
    options: {
      predictions: body.options.predictions,
      forecastDays: body.options.forecast_days,
      targetWeightKg: body.options.target_weight_kg ?? null,
      notify: body.options.notify ? { channel: body.options.notify.channel, userId: body.options.notify.user_id ?? who.userId } : null,
    },
  };
}

/** Same farm, barn and window: a request id may only ever mean one request. */
export function sameRequest(record: InsightRecord, input: GenerateInsightInput): boolean {
  return (
    record.farm_id === input.farmId &&
    record.barn_id === input.barnId &&
    Date.parse(record.window.from) === Date.parse(input.window.from) &&
    Date.parse(record.window.to) === Date.parse(input.window.to)
  );
}

export const requestIdReused = () => new HttpError(409, 'request_id_reused', 'this x-request-id was already used for a different farm, barn or window');

// ── Response bodies, as the OpenAPI document describes them ──────────────────────────────────

const insightWindow = z.object({ from: instant, to: instant });

/** Every FallbackReason, and nothing else (the compiler checks both). */
const fallbackReasons = Object.keys({
  llm_timeout: 1,
  llm_http_error: 1,
  llm_unreachable: 1,
  llm_invalid_json: 1,
  llm_schema_violation: 1,
  llm_numbers_not_in_summary: 1,
  llm_activity_failed: 1,
} satisfies Record<FallbackReason, 1>) as [FallbackReason, ...FallbackReason[]];

export const insightTextSchema = insightSchema.meta({ id: 'InsightText', description: 'the structured insight a generator wrote' });
export const featureSummaryWireSchema = featureSummarySchema.meta({ id: 'FeatureSummary', description: 'the only input the generator saw' });
export const predictionsWireSchema = predictionsSchema.meta({ id: 'MlPredictions' });
export const insightGeneratorSchema = z.enum(['template', 'llm']);
export const llmFallbackSchema = z
  .object({ reason: z.enum(fallbackReasons), detail: z.string().nullable(), model: z.string().nullable() })
  .meta({ id: 'LlmFallback', description: 'why the template writer answered although an LLM was configured' });

/** InsightRecord (insights/insight-store.ts). */
export const insightRecordSchema = z
  .object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    farm_id: z.string(),
    barn_id: z.string().nullable(),
    window: insightWindow,
    request_id: z.string(),
    workflow_id: z.string().nullable(),
    generator: insightGeneratorSchema,
    model: z.string().nullable(),
    fallback: orNull(llmFallbackSchema),
    insight: insightTextSchema,
    summary: featureSummaryWireSchema,
    predictions: orNull(predictionsWireSchema),
    created_by: z.uuid().nullable(),
    created_at: instant,
  })
  .meta({ id: 'Insight' });

/** InsightListItem (insights/insight-store.ts). */
const insightListItemSchema = z
  .object({
    id: z.uuid(),
    farm_id: z.string(),
    barn_id: z.string().nullable(),
    window: insightWindow,
    request_id: z.string(),
    generator: insightGeneratorSchema,
    title: z.string(),
    created_at: instant,
  })
  .meta({ id: 'InsightListItem' });

export const insightPageSchema = z.object({ items: z.array(insightListItemSchema), next_cursor: z.string().nullable() }).meta({ id: 'InsightPage' });

/** generatedResponse(). */
export const insightGeneratedSchema = z
  .object({
    insight: insightRecordSchema,
    predictions_error: z.string().nullable().meta({ description: 'set when predictions were asked for but could not be made' }),
    notification: z
      .object({ workflow_id: z.string(), started: z.boolean() })
      .nullable()
      .meta({ description: 'the notification run, when one was asked for (it goes on after this answer)' }),
    replayed: z.boolean().meta({ description: 'true: this x-request-id was answered before; nothing was generated again' }),
  })
  .meta({ id: 'InsightGenerated' });

export function generatedResponse(result: GenerateInsightResult, replayed: boolean) {
  return {
    insight: result.insight,
    predictions_error: result.predictionsError,
    notification: result.notification && { workflow_id: result.notification.workflowId, started: result.notification.started },
    replayed,
  };
}
