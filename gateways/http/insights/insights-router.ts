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
 * Sending the same request id again never generates twice: an insight already stored for it is
 * returned from the database (no workflow at all); otherwise the run is started or joined
 * (insight-run.ts says how), so a retry after a 5xx works. A request id already used for a
 * different farm, barn or window answers 409 request_id_reused.
 *
 * This file only wires: the wire shapes are insight-requests.ts, the directory checks
 * insights/insight-directory.ts, the stored insights insights/insight-store.ts, the run on
 * Temporal insight-run.ts.
 *
 * Errors: { error: { code, message, field? } }
 *   400 invalid_json | invalid_body | invalid_window | window_too_long | unknown_recipient | invalid_query
 *   401 unauthenticated   403 forbidden   404 not_found   409 request_id_reused   415 unsupported_charset
 *   502 insight_failed    503 temporal_unavailable   504 insight_timeout (the run goes on; retry
 *   with the same x-request-id to collect it)
 */
import express, { Router, type ErrorRequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Client } from '@temporalio/client';
import { withTenant } from '../../../auth/tenant-db';
import { isDataRefusal } from '../../../db/errors';
import { checkInsightRequest, farmExists } from '../../../insights/insight-directory';
import { decodeCursor, getInsight, listInsights } from '../../../insights/insight-store';
import type { TokenConfig } from '../../../auth/tokens';
import type { Logger } from '../../../platform/logger';
import { assertTenant, authOf, requireRole, requireUser } from '../auth-middleware';
import { utf8Only } from '../charset';
import { HttpError, requestErrorOf } from '../errors';
import {
  foreignCursor,
  generatedResponse,
  generateInput,
  isInsightId,
  parseGenerateBody,
  parseListQuery,
  requestIdReused,
  sameRequest,
} from './insight-requests';
import { runInsight } from './insight-run';
import { requestIdOf } from '../request-id';

export { generateInsightBody, maxWindowDays, type GenerateInsightBody } from './insight-requests';

export interface InsightsRouterDeps {
  temporalClient: Client;
  /** The tenant pool (auth/tenant-db.ts createTenantPool): farmiq_app, subject to RLS. */
  pool: Pool;
  log: Logger;
  /** CLOUD_TASK_QUEUE: where the insight workflows run. */
  taskQueue: string;
  /** INSIGHT_RESPONSE_TIMEOUT_MS: how long a generate request waits for the result (then 504). */
  responseTimeoutMs: number;
  /** How dashboard tokens verify: the process's tokenConfig() (tests pass their own key). */
  tokens: TokenConfig;
}

const bodyErrors: ErrorRequestHandler = (err, _req, _res, next) => {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return next(new HttpError(400, 'invalid_json', 'the request body is not valid JSON'));
  if (type === 'entity.too.large') return next(new HttpError(413, 'payload_too_large', 'the request body is too large'));
  if (typeof type === 'string' && type.startsWith('entity.'))
    return next(new HttpError(400, 'invalid_body', `the request body could not be read: ${(err as Error).message}`));
  // Unknown charset or encoding, a broken path parameter: the request's fault, with its own code.
  const known = err instanceof HttpError ? undefined : requestErrorOf(err);
  next(known ?? err);
};

export function createInsightsRouter(deps: InsightsRouterDeps): Router {
  const { pool, log } = deps;
  const authenticate = requireUser(deps.tokens);
  const router = Router();

  router.post('/api/v1/dashboard/insights/generate', authenticate, requireRole('operator'), utf8Only(), express.json({ limit: '64kb' }), async (req, res) => {
    const requestId = requestIdOf(req, res);
    const auth = authOf(req);
    const body = parseGenerateBody(req.body);
    if (body.tenant_id !== undefined) assertTenant(req, body.tenant_id);
    const input = generateInput(body, { tenantId: auth.tenantId, userId: auth.userId, requestId });

    // Directory and idempotency checks in one tenant-scoped transaction.
    const check = await withTenant(pool, auth.tenantId, (c) =>
      checkInsightRequest(c, {
        tenantId: auth.tenantId,
        requestId,
        farmId: input.farmId,
        barnId: input.barnId,
        callerId: auth.userId,
        recipientId: input.options.notify?.userId,
      }),
    );
    if ('stored' in check) {
      if (!sameRequest(check.stored, input)) throw requestIdReused();
      log.info({ requestId, insightId: check.stored.id }, 'insight request repeated; returning the stored insight');
      return res.status(200).json(generatedResponse({ insight: check.stored, predictionsError: null, notification: null }, true));
    }
    if ('missing' in check) throw new HttpError(404, 'not_found', `${check.missing} does not exist`);
    if ('unknownRecipient' in check)
      throw new HttpError(400, 'unknown_recipient', 'options.notify.user_id is not a user of this tenant', 'options.notify.user_id');

    const { result, replayed } = await runInsight(
      { temporalClient: deps.temporalClient, taskQueue: deps.taskQueue, responseTimeoutMs: deps.responseTimeoutMs, log },
      input,
    );
    if (!sameRequest(result.insight, input)) throw requestIdReused();
    res.status(200).json(generatedResponse(result, replayed));
  });

  router.get('/api/v1/dashboard/insights', authenticate, requireRole('viewer'), async (req, res) => {
    requestIdOf(req, res);
    const auth = authOf(req);
    const q = parseListQuery(req.query);
    const cursor = q.cursor ? decodeCursor(q.cursor) : null;
    if (q.cursor && !cursor) throw foreignCursor();
    let page;
    try {
      page = await withTenant(pool, auth.tenantId, async (c) => {
        if (!(await farmExists(c, auth.tenantId, q.farm_id))) return null;
        return listInsights(c, { tenantId: auth.tenantId, farmId: q.farm_id, limit: q.limit, cursor });
      });
    } catch (err) {
      // A cursor of the right shape whose time Postgres refuses (month 13, year 0): not one this API issued.
      if (cursor && isDataRefusal(err)) throw foreignCursor();
      throw err;
    }
    // Another tenant's farm is as absent as one that does not exist.
    if (!page) throw new HttpError(404, 'not_found', `farm ${q.farm_id} does not exist`);
    res.json({ items: page.items, next_cursor: page.nextCursor });
  });

  router.get('/api/v1/dashboard/insights/:id', authenticate, requireRole('viewer'), async (req, res) => {
    requestIdOf(req, res);
    const auth = authOf(req);
    const id = String(req.params.id);
    const record = isInsightId(id) ? await withTenant(pool, auth.tenantId, (c) => getInsight(c, auth.tenantId, id)) : null;
    if (!record) throw new HttpError(404, 'not_found', 'no such insight');
    res.json(record);
  });

  router.use(bodyErrors);
  return router;
}
