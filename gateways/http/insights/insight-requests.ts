/**
 * The wire shapes of the dashboard insight endpoints (insights-router.ts): the request bodies and
 * queries as zod schemas, their translation into the workflow's input, and the response body.
 * Every refusal is an HttpError with this API's code (errors.ts).
 */
import { z } from 'zod';
import { isUuid } from '../../../domain/contracts/identifiers';
import type { GenerateInsightInput, GenerateInsightResult } from '../../../insights/insight-contract';
import type { InsightRecord } from '../../../insights/insight-store';
import { notificationChannels } from '../../../notifications/model';
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

/** The generate body, or 400 invalid_body naming the first offending field. */
export function parseGenerateBody(raw: unknown): ParsedGenerateBody {
  const parsed = generateInsightBody.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new HttpError(400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.') || undefined);
}

/** The list query, or 400 invalid_query naming the offending parameter. */
export function parseListQuery(raw: unknown): z.output<typeof listInsightsQuery> {
  const q = listInsightsQuery.safeParse(raw);
  if (q.success) return q.data;
  const issue = q.error.issues[0];
  throw new HttpError(400, 'invalid_query', `${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
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

export function generatedResponse(result: GenerateInsightResult, replayed: boolean) {
  return {
    insight: result.insight,
    predictions_error: result.predictionsError,
    notification: result.notification && { workflow_id: result.notification.workflowId, started: result.notification.started },
    replayed,
  };
}
