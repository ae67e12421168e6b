/**
 * cloud-notification-service's HTTP API (spec §6), mounted behind requireUser():
 *
 *   POST /api/v1/notifications/send        operator+  201 created | 200 duplicate (same idempotency_key)
 *   GET  /api/v1/notifications/inbox       viewer+    ?limit=1..100&cursor=…  → { items, next_cursor, unread_count }
 *   POST /api/v1/notifications/read-all    operator+  → { marked }
 *   POST /api/v1/notifications/:id/read    operator+  → { id, read_at }
 *   GET  /api/v1/notifications/:id         viewer+    one notification with its delivery status
 *
 * The tenant is always the token's. A body naming another tenant, a recipient or a notification
 * of another tenant answers 404 (row-level security hides them; the answer does not say they exist).
 */
import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { isStorableText, storableTextMessage, text } from '../../../domain/contracts/storable';
import { isDataRefusal } from '../../../db/errors';
import type { Logger } from '../../../platform/logger';
import { NotificationError, notificationChannels, type Notification } from '../../../notifications/model';
import { getNotification, inbox, InvalidCursorError, markAllRead, markRead, maxInboxPageSize } from '../../../notifications/inbox';
import type { DeliveryPublisher } from '../../../notifications/queue';
import { sendNotification } from '../../../notifications/send';
import { assertTenant, authOf, requireRole } from '../auth-middleware';
import { HttpError, requestErrorOf } from '../errors';

export interface NotificationsRouterDeps {
  /** The tenant pool (farmiq_app): every query runs under row-level security. */
  pool: Pool;
  publisher: DeliveryPublisher;
  log: Logger;
}

/** Deepest nesting of `data` (jsonb refuses very deep values; nothing a notification carries needs more). */
export const maxDataDepth = 16;

/** Why a `data` value could not be stored as jsonb as sent, or undefined when it can. */
export function unstorableJson(value: unknown, depth = 0): string | undefined {
  if (depth > maxDataDepth) return `is nested deeper than ${maxDataDepth} levels`;
  if (typeof value === 'string') return isStorableText(value) ? undefined : storableTextMessage;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'must hold finite numbers only';
  if (value === null || typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const problem = unstorableJson(v, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!isStorableText(k)) return `keys ${storableTextMessage}`;
      const problem = unstorableJson(v, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return 'must be JSON';
}

const sendBody = z
  .object({
    /** Optional; when given it must be the caller's tenant. */
    tenant_id: z.string().optional(),
    recipient_user_id: z.string().uuid().nullable().default(null),
    channel: z.enum(notificationChannels),
    title: z.string().trim().min(1).max(200).refine(isStorableText, storableTextMessage),
    body: text(1, 10_000),
    data: z
      .record(z.string(), z.unknown())
      .superRefine((d, ctx) => {
        const problem = unstorableJson(d);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default({}),
    idempotency_key: text(1, 200).nullable().optional(),
  })
  .strict();

const inboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(maxInboxPageSize).default(20),
  cursor: z.string().min(1).max(200).optional(),
});

export function toWire(n: Notification) {
  return {
    id: n.id,
    tenant_id: n.tenantId,
    recipient_user_id: n.recipientUserId,
    channel: n.channel,
    title: n.title,
    body: n.body,
    data: n.data,
    status: n.status,
    attempt_count: n.attemptCount,
    last_error: n.lastError,
    idempotency_key: n.idempotencyKey,
    created_at: n.createdAt,
    sent_at: n.sentAt,
    read_at: n.readAt,
  };
}

function invalid(issues: z.core.$ZodIssue[], status = 400, code: 'invalid_body' | 'invalid_query' = 'invalid_body'): HttpError {
  const first = issues[0];
  const field = first?.path.join('.') || undefined;
  return new HttpError(status, code, issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), field);
}

function notFound(): HttpError {
  return new HttpError(404, 'not_found', 'no such notification');
}

/** The request id the app's requestId middleware (request-id.ts) chose; it travels with the notification. */
function traceIdOf(req: Request): string | null {
  return (req.res?.locals.requestId as string | undefined) ?? null;
}

export function createNotificationsRouter({ pool, publisher, log }: NotificationsRouterDeps): Router {
  const router = Router();
  // UTF-8 only: cloud-app.ts answers another charset 415 (utf8Only) before this router is reached.
  const json = express.json({ limit: '64kb' });

  router.post('/api/v1/notifications/send', requireRole('operator'), json, async (req, res) => {
    const auth = authOf(req);
    const parsed = sendBody.safeParse(req.body ?? {});
    if (!parsed.success) throw invalid(parsed.error.issues);
    const b = parsed.data;
    if (b.tenant_id !== undefined) assertTenant(req, b.tenant_id);
    try {
      const result = await sendNotification(
        { pool, publisher, log },
        {
          tenantId: auth.tenantId,
          recipientUserId: b.recipient_user_id,
          channel: b.channel,
          title: b.title,
          body: b.body,
          data: b.data,
          idempotencyKey: b.idempotency_key ?? null,
          traceId: traceIdOf(req),
        },
      );
      res.status(result.duplicate ? 200 : 201).json({ notification: toWire(result.notification), duplicate: result.duplicate });
    } catch (err) {
      if (err instanceof NotificationError) {
        if (err.problem === 'recipient_not_found') throw new HttpError(404, 'not_found', err.message);
        throw new HttpError(400, 'invalid_body', err.message, err.problem === 'recipient_required' ? 'recipient_user_id' : undefined);
      }
      throw err;
    }
  });

  router.get('/api/v1/notifications/inbox', requireRole('viewer'), async (req, res) => {
    const parsed = inboxQuery.safeParse(req.query);
    if (!parsed.success) throw invalid(parsed.error.issues, 400, 'invalid_query');
    try {
      const page = await inbox(pool, authOf(req), parsed.data);
      res.json({ items: page.items.map(toWire), next_cursor: page.nextCursor, unread_count: page.unreadCount });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new HttpError(400, 'invalid_query', err.message, 'cursor');
      // A cursor of the right shape whose time Postgres refuses (month 13, year 0): not one this API issued.
      if (parsed.data.cursor !== undefined && isDataRefusal(err)) throw new HttpError(400, 'invalid_query', 'cursor: not a cursor this API issued', 'cursor');
      throw err;
    }
  });

  router.post('/api/v1/notifications/read-all', requireRole('operator'), async (req, res) => {
    res.json({ marked: await markAllRead(pool, authOf(req)) });
  });

  router.post('/api/v1/notifications/:id/read', requireRole('operator'), async (req, res) => {
    const read = await markRead(pool, authOf(req), String(req.params.id));
    if (!read) throw notFound();
    res.json({ id: read.id, read_at: read.readAt });
  });

  router.get('/api/v1/notifications/:id', requireRole('viewer'), async (req, res) => {
    const n = await getNotification(pool, authOf(req), String(req.params.id));
    if (!n) throw notFound();
    res.json({ notification: toWire(n) });
  });

  // express.json()'s errors (malformed JSON, too large) as this API's codes.
  const onBodyError: ErrorRequestHandler = (err, _req, _res, next) => {
    const e = err as { type?: string; message?: string };
    if (e.type === 'entity.too.large') return next(new HttpError(413, 'invalid_body', 'the request body is too large'));
    if (typeof e.type === 'string' && e.type.startsWith('entity.'))
      return next(new HttpError(400, 'invalid_body', `the request body is not valid JSON: ${e.message}`));
    // Unknown charset or encoding, a broken path parameter: 415 unsupported_charset etc. (errors.ts).
    const known = err instanceof HttpError ? undefined : requestErrorOf(err);
    next(known ?? err);
  };
  router.use(onBodyError);
  return router;
}
