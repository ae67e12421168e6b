/**
 * Dead sync events on the edge HTTP API (docs/sync.md): what the cloud rejected (`failed`, with its
 * reason) and what failed 10 times (`dlq`, with the last error), for the operator to inspect and
 * send again once the cause is fixed.
 *
 *   GET  /api/v1/sync/dlq?status=dlq|failed&limit=&before=   newest first, keyset-paginated by id
 *   GET  /api/v1/sync/dlq/:id                                one outbox row with its envelope
 *   POST /api/v1/sync/dlq/requeue   { "ids": [...] } | { "all": true, "status": "dlq"|"failed" }
 *
 * Requeue puts the rows back to pending with a fresh budget of attempts, keeping the last error in
 * a note; it is idempotent (a row that is not dead is reported as unchanged).
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { getRow, listDead, requeueAllDead, requeueDead, type DeadRowSummary, type OutboxRow } from '../../../sync/outbox';
import { operatorOf } from '../operator-auth';
import { outboxIdPattern, parseBody, parseQuery, syncHttpError } from './sync-http';
import { syncJsonBody } from './status';

const id = z.string().regex(outboxIdPattern, 'must be an outbox row id (a positive integer)');

const listQuery = z
  .object({
    status: z.enum(['dlq', 'failed']).default('dlq'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** The `next_before` of the previous page. */
    before: id.optional(),
  })
  .strict();

const requeueBody = z.union([
  z.object({ ids: z.array(id).min(1).max(1000) }).strict(),
  z.object({ all: z.literal(true), status: z.enum(['dlq', 'failed']) }).strict(),
]);

const noQuery = z.object({}).strict();

function summary(r: DeadRowSummary) {
  return {
    id: r.id,
    status: r.status,
    tenant_id: r.tenant_id,
    event_id: r.event_id,
    event_type: r.event_type,
    attempts: r.attempt_count,
    last_error: r.last_error,
    occurred_at: r.occurred_at.toISOString(),
    created_at: r.created_at.toISOString(),
    batch_id: r.claimed_by,
  };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function detail(r: OutboxRow) {
  return {
    id: r.id,
    status: r.status,
    tenant_id: r.tenant_id,
    event_id: r.event_id,
    event_type: r.event_type,
    trace_id: r.trace_id,
    priority: r.priority,
    attempts: r.attempt_count,
    last_error: r.last_error,
    /** The batch that last held the row (the batch id is also the x-request-id the cloud logged). */
    batch_id: r.claimed_by,
    occurred_at: iso(r.occurred_at),
    created_at: iso(r.created_at),
    next_attempt_at: iso(r.next_attempt_at),
    claimed_at: iso(r.claimed_at),
    lease_expires_at: iso(r.lease_expires_at),
    sent_at: iso(r.sent_at),
    acked_at: iso(r.acked_at),
    envelope: r.envelope,
  };
}

export function syncDlqRouter(pool: Pool): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const q = parseQuery(listQuery, req);
    const rows = await listDead(pool, { status: q.status, limit: q.limit + 1, before: q.before });
    const page = rows.slice(0, q.limit);
    res.json({ status: q.status, items: page.map(summary), next_before: rows.length > q.limit ? page[page.length - 1].id : null });
  });

  router.post('/requeue', syncJsonBody, async (req, res) => {
    parseQuery(noQuery, req);
    const body = parseBody(requeueBody, req);
    const operator = operatorOf(res)?.name;
    const note = `requeued ${new Date().toISOString()} via edge API${operator ? ` by operator ${operator}` : ''} (request ${res.locals.requestId})`;
    if ('all' in body) {
      const requeued = await requeueAllDead(pool, body.status, note);
      res.json({ status: body.status, requeued });
      return;
    }
    const result = await requeueDead(pool, [...new Set(body.ids)], note);
    res.json({ requeued: result.requeued, unchanged: result.unchanged, not_found: result.notFound });
  });

  router.get('/:id', async (req, res) => {
    parseQuery(noQuery, req);
    const rowId = String(req.params.id);
    if (!outboxIdPattern.test(rowId)) throw syncHttpError(400, 'invalid_query', 'path parameter id: must be an outbox row id (a positive integer)', 'id');
    const row = await getRow(pool, rowId);
    if (!row) throw syncHttpError(404, 'not_found', `no outbox row ${rowId}`);
    res.json({ item: detail(row) });
  });

  return router;
}
