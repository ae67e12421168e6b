/**
 * Dashboard insights (spec §5; issue 5):
 *
 *   POST /api/v1/dashboard/insights/generate   operator+   starts (or joins) the insight workflow and
 *                                                          answers with its result
 *   GET  /api/v1/dashboard/insights?farm_id=…&limit=…&cursor=…   viewer+   a farm's insights, newest first
 *   GET  /api/v1/dashboard/insights/:id         viewer+   one insight with its feature summary
 *
 * The tenant is always the token's (req.auth.tenantId): a body may name `tenant_id`, but only its
 * own — any other answers 404 like every other tenant's resource. Tenant data is read through
 * withTenant on the row-level-security pool.
 *
 * Request id and idempotency. `x-request-id` (accepted, or minted as a UUID) is returned in the
 * response header and is the business key of the run: workflow id insight/<tenant>/<request id>.
 * Sending the same request id again never generates twice:
 *   - an insight already stored for it is returned from the database (no workflow at all);
 *   - a run still going is joined (workflowIdConflictPolicy USE_EXISTING) and its result awaited;
 *   - a run that completed but whose insight is gone from view returns that run's result
 *     (the start is refused with WorkflowExecutionAlreadyStarted: reuse policy
 *     ALLOW_DUPLICATE_FAILED_ONLY);
 *   - a run that failed, timed out or was terminated may be started again with the same id
 *     (that is what ALLOW_DUPLICATE_FAILED_ONLY allows), so a retry after a 5xx works.
 * A request id already used for a different farm, barn or window answers 409 request_id_reused.
 *
 * Errors: { error: { code, message, field? } }
 *   400 invalid_json | invalid_body | invalid_window | window_too_long | unknown_recipient | invalid_query
 *   401 unauthenticated   403 forbidden   404 not_found   409 request_id_reused   415 unsupported_charset
 *   502 insight_failed    503 temporal_unavailable   504 insight_timeout (the run goes on; retry
 *   with the same x-request-id to collect it)
 */
import { randomUUID } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { isGrpcServiceError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { settings } from '../../config/settings';
import { withTenant } from '../../auth/tenant-db';
import { isDataRefusal } from '../../db/errors';
import { decodeCursor, findInsightByRequestId, getInsight, listInsights, type InsightRecord } from '../../insights/insight-store';
import { notificationChannels } from '../../notifications/model';
import type { Logger } from '../../platform/logger';
import { farmiqBarn, farmiqFarm, farmiqTenant } from '../../temporal/search-attributes';
import { insightWorkflowId } from '../../temporal/workflow-ids';
import type { generateInsight, GenerateInsightInput, GenerateInsightResult } from '../../workflows/insight-generation';
import { assertTenant, authOf, requireRole, requireUser } from './auth-middleware';
import { utf8Only } from './charset';
import { HttpError, requestErrorOf } from './errors';

export interface InsightsRouterDeps {
  temporalClient: Client;
  /** The tenant pool (auth/tenant-db.ts createTenantPool): farmiq_app, subject to RLS. */
  pool: Pool;
  log: Logger;
  /** Default CLOUD_TASK_QUEUE. */
  taskQueue?: string;
  /** Default INSIGHT_RESPONSE_TIMEOUT_MS. */
  responseTimeoutMs?: number;
  /** Token verification key; default AUTH_JWT_SECRET (tests pass their own). */
  authSecret?: string;
}

export const maxWindowDays = 180;
const dayMs = 86_400_000;

const idString = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
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

const listQuery = z.object({
  farm_id: idString,
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

type Code =
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_window'
  | 'window_too_long'
  | 'unknown_recipient'
  | 'invalid_query'
  | 'not_found'
  | 'payload_too_large'
  | 'request_id_reused'
  | 'insight_failed'
  | 'temporal_unavailable'
  | 'insight_timeout';

function sendError(res: Response, status: number, code: Code, message: string, extra: Record<string, unknown> = {}): void {
  if (status === 503) res.setHeader('retry-after', '5');
  res.status(status).json({ error: { code, message, ...extra } });
}

/** The request's id: the app's requestId middleware set it, else the caller's header or a new one. */
function requestIdOf(req: Request, res: Response): string {
  const given = req.get('x-request-id');
  const id = (res.locals.requestId as string | undefined) ?? (given && acceptableRequestId.test(given) ? given : randomUUID());
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  return id;
}

/** Same farm, barn and window: a request id may only ever mean one request. */
function sameRequest(record: InsightRecord, input: GenerateInsightInput): boolean {
  return (
    record.farm_id === input.farmId &&
    record.barn_id === input.barnId &&
    Date.parse(record.window.from) === Date.parse(input.window.from) &&
    Date.parse(record.window.to) === Date.parse(input.window.to)
  );
}

function generatedResponse(result: GenerateInsightResult, replayed: boolean) {
  return {
    insight: result.insight,
    predictions_error: result.predictionsError,
    notification: result.notification && { workflow_id: result.notification.workflowId, started: result.notification.started },
    replayed,
  };
}

const bodyErrors: ErrorRequestHandler = (err, req, res, next) => {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON');
  if (type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'the request body is too large');
  if (typeof type === 'string' && type.startsWith('entity.')) return sendError(res, 400, 'invalid_body', `the request body could not be read: ${(err as Error).message}`);
  // Unknown charset or encoding, a broken path parameter: the request's fault, with its own code.
  const known = err instanceof HttpError ? undefined : requestErrorOf(err);
  if (known) return next(known);
  next(err);
};

export function createInsightsRouter(deps: InsightsRouterDeps): Router {
  const { temporalClient, pool, log } = deps;
  const taskQueue = deps.taskQueue ?? settings().CLOUD_TASK_QUEUE;
  const responseTimeoutMs = deps.responseTimeoutMs ?? settings().INSIGHT_RESPONSE_TIMEOUT_MS;
  const authenticate = requireUser({ secret: deps.authSecret });
  const router = Router();

  router.post('/api/v1/dashboard/insights/generate', authenticate, requireRole('operator'), utf8Only(), express.json({ limit: '64kb' }), async (req, res) => {
    const requestId = requestIdOf(req, res);
    const auth = authOf(req);
    const parsed = generateInsightBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendError(res, 400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`, { field: issue.path.join('.') || undefined });
    }
    const body = parsed.data;
    if (body.tenant_id !== undefined) assertTenant(req, body.tenant_id);
    const from = Date.parse(body.window.from);
    const to = Date.parse(body.window.to);
    if (!(from < to)) return sendError(res, 400, 'invalid_window', 'window.from must be before window.to', { field: 'window' });
    if (to - from > maxWindowDays * dayMs) {
      return sendError(res, 400, 'window_too_long', `a window may span at most ${maxWindowDays} days`, { field: 'window' });
    }

    const input: GenerateInsightInput = {
      tenantId: auth.tenantId,
      farmId: body.farm_id,
      barnId: body.barn_id ?? null,
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      requestId,
      userId: auth.userId,
      options: {
        predictions: body.options.predictions,
        forecastDays: body.options.forecast_days,
        targetWeightKg: body.options.target_weight_kg ?? null,
        notify: body.options.notify ? { channel: body.options.notify.channel, userId: body.options.notify.user_id ?? auth.userId } : null,
      },
    };

    // Directory and idempotency checks in one tenant-scoped transaction.
    const check = await withTenant(pool, auth.tenantId, async (c) => {
      const stored = await findInsightByRequestId(c, auth.tenantId, requestId);
      if (stored) return { stored } as const;
      const farm = await c.query(
        `SELECT 1 FROM farms f WHERE f.tenant_id = $1 AND f.farm_id = $2
           AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM barns b WHERE b.tenant_id = f.tenant_id AND b.farm_id = f.farm_id AND b.barn_id = $3))`,
        [auth.tenantId, input.farmId, input.barnId],
      );
      if (farm.rowCount === 0) return { missing: input.barnId ? `barn ${input.barnId} of farm ${input.farmId}` : `farm ${input.farmId}` } as const;
      const recipient = input.options.notify?.userId;
      if (recipient && recipient !== auth.userId) {
        const user = await c.query('SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL', [auth.tenantId, recipient]);
        if (user.rowCount === 0) return { unknownRecipient: true } as const;
      }
      return {} as const;
    });
    if ('stored' in check && check.stored) {
      if (!sameRequest(check.stored, input)) {
        return sendError(res, 409, 'request_id_reused', 'this x-request-id was already used for a different farm, barn or window');
      }
      log.info({ requestId, insightId: check.stored.id }, 'insight request repeated; returning the stored insight');
      return res.status(200).json(generatedResponse({ insight: check.stored, predictionsError: null, notification: null }, true));
    }
    if ('missing' in check && check.missing) return sendError(res, 404, 'not_found', `${check.missing} does not exist`);
    if ('unknownRecipient' in check) return sendError(res, 400, 'unknown_recipient', 'options.notify.user_id is not a user of this tenant', { field: 'options.notify.user_id' });

    const workflowId = insightWorkflowId(auth.tenantId, requestId);
    let handle;
    let replayed = false;
    try {
      handle = await temporalClient.workflow.start<typeof generateInsight>('generateInsight', {
        taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        workflowExecutionTimeout: '10 minutes',
        memo: { requestId, userId: auth.userId },
        typedSearchAttributes: [
          { key: farmiqTenant, value: auth.tenantId },
          { key: farmiqFarm, value: input.farmId },
          ...(input.barnId ? [{ key: farmiqBarn, value: input.barnId }] : []),
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // A completed run of this request id: its result is the answer.
        handle = temporalClient.workflow.getHandle<typeof generateInsight>(workflowId);
        replayed = true;
      } else if (isGrpcServiceError(err) || (err as Error).name === 'ServiceError') {
        log.warn({ requestId, err: (err as Error).message }, 'could not start the insight workflow');
        return sendError(res, 503, 'temporal_unavailable', 'the workflow service is not reachable; retry shortly with the same x-request-id');
      } else {
        throw err;
      }
    }

    const deadline = AbortSignal.timeout(responseTimeoutMs);
    let result: GenerateInsightResult;
    try {
      result = await temporalClient.withAbortSignal(deadline, () => handle.result());
    } catch (err) {
      if (deadline.aborted) {
        log.warn({ requestId, workflowId, timeoutMs: responseTimeoutMs }, 'insight not ready in time; the workflow carries on');
        return sendError(res, 504, 'insight_timeout', `the insight was not ready within ${responseTimeoutMs} ms; it is still being generated — repeat the request with the same x-request-id to collect it`, {
          workflow_id: workflowId,
          request_id: requestId,
        });
      }
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && cause.type === 'FarmNotFound') return sendError(res, 404, 'not_found', cause.message);
        log.error({ requestId, workflowId, err: cause?.message ?? err.message }, 'insight workflow failed');
        return sendError(res, 502, 'insight_failed', `generating the insight failed: ${cause?.message ?? err.message}`, { workflow_id: workflowId, request_id: requestId });
      }
      if (isGrpcServiceError(err)) {
        return sendError(res, 503, 'temporal_unavailable', 'the workflow service is not reachable; retry shortly with the same x-request-id');
      }
      throw err;
    }
    if (!sameRequest(result.insight, input)) {
      return sendError(res, 409, 'request_id_reused', 'this x-request-id was already used for a different farm, barn or window');
    }
    res.status(200).json(generatedResponse(result, replayed));
  });

  router.get('/api/v1/dashboard/insights', authenticate, requireRole('viewer'), async (req, res) => {
    requestIdOf(req, res);
    const auth = authOf(req);
    const q = listQuery.safeParse(req.query);
    if (!q.success) {
      const issue = q.error.issues[0];
      return sendError(res, 400, 'invalid_query', `${issue.path.join('.')}: ${issue.message}`, { field: issue.path.join('.') });
    }
    const cursor = q.data.cursor ? decodeCursor(q.data.cursor) : null;
    if (q.data.cursor && !cursor) return sendError(res, 400, 'invalid_query', 'cursor: not a cursor this API issued', { field: 'cursor' });
    let page;
    try {
      page = await withTenant(pool, auth.tenantId, async (c) => {
        const farm = await c.query('SELECT 1 FROM farms WHERE tenant_id = $1 AND farm_id = $2', [auth.tenantId, q.data.farm_id]);
        if (farm.rowCount === 0) return null;
        return listInsights(c, { tenantId: auth.tenantId, farmId: q.data.farm_id, limit: q.data.limit, cursor });
      });
    } catch (err) {
      // A cursor of the right shape whose time Postgres refuses (month 13, year 0): not one this API issued.
      if (cursor && isDataRefusal(err)) return sendError(res, 400, 'invalid_query', 'cursor: not a cursor this API issued', { field: 'cursor' });
      throw err;
    }
    // Another tenant's farm is as absent as one that does not exist.
    if (!page) return sendError(res, 404, 'not_found', `farm ${q.data.farm_id} does not exist`);
    res.json({ items: page.items, next_cursor: page.nextCursor });
  });

  router.get('/api/v1/dashboard/insights/:id', authenticate, requireRole('viewer'), async (req, res) => {
    requestIdOf(req, res);
    const auth = authOf(req);
    const id = String(req.params.id);
    const record = uuidPattern.test(id) ? await withTenant(pool, auth.tenantId, (c) => getInsight(c, auth.tenantId, id)) : null;
    if (!record) return sendError(res, 404, 'not_found', 'no such insight');
    res.json(record);
  });

  router.use(bodyErrors);
  return router;
}
