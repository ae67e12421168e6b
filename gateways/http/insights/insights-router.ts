/**
 * Dashboard insights (spec §5; issue 5), an ApiRouter (gateways/http/api/): the OpenAPI document
 * describes every answer below.
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
import type { ErrorRequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { withTenant } from '../../../auth/tenant-db';
import { isDataRefusal } from '../../../db/errors';
import { checkInsightRequest, farmExists } from '../../../insights/insight-directory';
import { decodeCursor, getInsight, listInsights } from '../../../insights/insight-store';
import type { TokenConfig } from '../../../auth/tokens';
import type { Logger } from '../../../platform/logger';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { assertTenant, requireUser } from '../auth-middleware';
import { utf8Only } from '../charset';
import { HttpError, requestErrorOf } from '../errors';
import {
  bodyRefusal,
  foreignCursor,
  generatedResponse,
  generateInput,
  generateInsightBody,
  insightGeneratedSchema,
  insightPageSchema,
  insightRecordSchema,
  isInsightId,
  listInsightsQuery,
  requestIdReused,
  sameRequest,
} from './insight-requests';
import { runInsight } from './insight-run';
import { requestId as requestIdMiddleware, requestIdOf } from '../request-id';

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

const errorAnswer = (description: string) => ({ description, schema: errorBodySchema });
const idParams = z.object({ id: z.string() });

export function createInsightsRouter(deps: InsightsRouterDeps): ApiRouter {
  const { pool, log } = deps;
  // Its own authentication: the router also works mounted outside the app's requireUser() (next
  // to the internal ML / LLM routes, as test/insights/insights-router.test.ts does); behind it,
  // the token is simply verified twice.
  const authenticate = requireUser(deps.tokens);
  // The request id before the input is parsed, so a refusal carries it too (a no-op behind the app's).
  const before = [authenticate, requestIdMiddleware];
  const api = new ApiRouter('insights');

  api.route(
    {
      method: 'post',
      path: '/api/v1/dashboard/insights/generate',
      role: 'operator',
      summary: 'Generate an insight (or collect the one of this x-request-id)',
      description:
        'Starts (or joins) the insight workflow and answers with its result. The x-request-id is the business key: sent again, the stored insight is returned (replayed) and nothing is generated twice; after a 504 the same x-request-id collects the insight.',
      before: [...before, utf8Only()],
      body: generateInsightBody,
      invalid: bodyRefusal('invalid_body'),
      responses: {
        200: { description: 'the insight', schema: insightGeneratedSchema, headers: { 'x-request-id': 'the request id: the one sent, or a new UUID' } },
        409: errorAnswer('this x-request-id was already used for a different farm, barn or window (request_id_reused)'),
        413: errorAnswer('the body is larger than 64 kB (payload_too_large)'),
        415: errorAnswer('a charset other than UTF-8 (unsupported_charset)'),
        502: errorAnswer('generating the insight failed (insight_failed; workflow_id, request_id)'),
        504: errorAnswer('not ready in time; it is still being generated — repeat with the same x-request-id (insight_timeout; workflow_id, request_id)'),
      },
    },
    async ({ body, auth, req, res }) => {
      const requestId = requestIdOf(req, res);
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
        return { status: 200, body: generatedResponse({ insight: check.stored, predictionsError: null, notification: null }, true) };
      }
      if ('missing' in check) throw new HttpError(404, 'not_found', `${check.missing} does not exist`);
      if ('unknownRecipient' in check)
        throw new HttpError(400, 'unknown_recipient', 'options.notify.user_id is not a user of this tenant', 'options.notify.user_id');

      const { result, replayed } = await runInsight(
        { temporalClient: deps.temporalClient, taskQueue: deps.taskQueue, responseTimeoutMs: deps.responseTimeoutMs, log },
        input,
      );
      if (!sameRequest(result.insight, input)) throw requestIdReused();
      return { status: 200, body: generatedResponse(result, replayed) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/dashboard/insights',
      role: 'viewer',
      summary: "A farm's insights, newest first",
      before,
      query: listInsightsQuery,
      responses: { 200: { description: 'one page', schema: insightPageSchema } },
    },
    async ({ query: q, auth }) => {
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
      return { status: 200, body: { items: page.items, next_cursor: page.nextCursor } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/dashboard/insights/:id',
      role: 'viewer',
      summary: 'One insight with its feature summary',
      before,
      params: idParams,
      responses: { 200: { description: 'the insight', schema: insightRecordSchema } },
    },
    async ({ params, auth }) => {
      const { id } = params;
      const record = isInsightId(id) ? await withTenant(pool, auth.tenantId, (c) => getInsight(c, auth.tenantId, id)) : null;
      if (!record) throw new HttpError(404, 'not_found', 'no such insight');
      return { status: 200, body: record };
    },
  );

  // After every route: it sees their errors.
  api.router.use(bodyErrors);
  return api;
}
