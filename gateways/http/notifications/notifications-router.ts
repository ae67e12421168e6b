/**
 * cloud-notification-service's HTTP API (spec §6), an ApiRouter (gateways/http/api/) mounted behind
 * requireUser(), so the OpenAPI document describes every answer below:
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
import type { ErrorRequestHandler, Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { isStorableText, storableTextMessage, text } from '../../../domain/contracts/storable';
import { isDataRefusal } from '../../../db/errors';
import type { Logger } from '../../../platform/logger';
import { NotificationError, notificationChannels, notificationStatuses, type Notification } from '../../../notifications/model';
import { getNotification, inbox, InvalidCursorError, markAllRead, markRead, maxInboxPageSize } from '../../../notifications/inbox';
import type { DeliveryPublisher } from '../../../notifications/queue';
import { sendNotification } from '../../../notifications/send';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { assertTenant } from '../auth-middleware';
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

const instant = z.iso.datetime();

/** toWire() as the document describes it. */
export const notificationSchema = z
  .object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    recipient_user_id: z.uuid().nullable().meta({ description: 'null: every user of the tenant (in_app only)' }),
    channel: z.enum(notificationChannels),
    title: z.string(),
    body: z.string(),
    data: z.record(z.string(), z.unknown()),
    status: z.enum(notificationStatuses),
    attempt_count: z.number().int(),
    last_error: z.string().nullable(),
    idempotency_key: z.string().nullable(),
    created_at: instant,
    sent_at: instant.nullable(),
    read_at: instant.nullable().meta({ description: 'when the caller read it (tenant-wide ones are read per user)' }),
  })
  .meta({ id: 'Notification' });

const sentSchema = z
  .object({ notification: notificationSchema, duplicate: z.boolean().meta({ description: 'true: the idempotency key was used before; nothing new was sent' }) })
  .meta({ id: 'NotificationSent' });
const inboxPageSchema = z
  .object({ items: z.array(notificationSchema), next_cursor: z.string().nullable(), unread_count: z.number().int() })
  .meta({ id: 'InboxPage' });
const readSchema = z.object({ id: z.uuid(), read_at: instant }).meta({ id: 'NotificationRead' });
const markedSchema = z.object({ marked: z.number().int().meta({ description: 'how many were unread' }) }).meta({ id: 'NotificationsMarkedRead' });
const detailSchema = z.object({ notification: notificationSchema }).meta({ id: 'NotificationDetail' });
const idParams = z.object({ id: z.string() });

const errorAnswer = (description: string) => ({ description, schema: errorBodySchema });
/** What a route with a body may answer besides the standard errors (the app's utf8Only, body-parser). */
const bodyErrors = {
  413: errorAnswer('the body is larger than 64 kB (invalid_body)'),
  415: errorAnswer('a charset other than UTF-8 (unsupported_charset)'),
};

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

export function createNotificationsRouter({ pool, publisher, log }: NotificationsRouterDeps): ApiRouter {
  const api = new ApiRouter('notifications');
  // UTF-8 only: cloud-app.ts answers another charset 415 (utf8Only) before this router is reached.
  // Every refusal of the input lists all its problems (the kit's default names the first only).
  const invalidInput = (issues: z.core.$ZodIssue[], code: 'invalid_query' | 'invalid_body') => invalid(issues, 400, code);

  api.route(
    {
      method: 'post',
      path: '/api/v1/notifications/send',
      role: 'operator',
      summary: 'Send a notification',
      description:
        'in_app is stored sent at once; email, sms and push are queued for the delivery worker. The same idempotency_key again returns the first one.',
      body: sendBody,
      invalid: invalidInput,
      responses: {
        201: { description: 'sent or queued', schema: sentSchema },
        200: { description: 'a duplicate: the notification this idempotency_key already made', schema: sentSchema },
        ...bodyErrors,
      },
    },
    async ({ body: b, auth, req }) => {
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
        return { status: result.duplicate ? 200 : 201, body: { notification: toWire(result.notification), duplicate: result.duplicate } };
      } catch (err) {
        if (err instanceof NotificationError) {
          if (err.problem === 'recipient_not_found') throw new HttpError(404, 'not_found', err.message);
          throw new HttpError(400, 'invalid_body', err.message, err.problem === 'recipient_required' ? 'recipient_user_id' : undefined);
        }
        throw err;
      }
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/notifications/inbox',
      role: 'viewer',
      summary: "The caller's in-app inbox, newest first",
      description: 'Their own and the tenant-wide in_app notifications, paged by cursor, with the unread count.',
      query: inboxQuery,
      invalid: invalidInput,
      responses: { 200: { description: 'one page', schema: inboxPageSchema } },
    },
    async ({ query, auth }) => {
      try {
        const page = await inbox(pool, auth, query);
        return { status: 200, body: { items: page.items.map(toWire), next_cursor: page.nextCursor, unread_count: page.unreadCount } };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HttpError(400, 'invalid_query', err.message, 'cursor');
        // A cursor of the right shape whose time Postgres refuses (month 13, year 0): not one this API issued.
        if (query.cursor !== undefined && isDataRefusal(err)) throw new HttpError(400, 'invalid_query', 'cursor: not a cursor this API issued', 'cursor');
        throw err;
      }
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/notifications/read-all',
      role: 'operator',
      summary: "Mark the caller's whole inbox read",
      responses: { 200: { description: 'how many were marked', schema: markedSchema } },
    },
    async ({ auth }) => ({ status: 200, body: { marked: await markAllRead(pool, auth) } }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/notifications/:id/read',
      role: 'operator',
      summary: 'Mark one notification of the inbox read',
      description: 'Reading twice keeps the first time; a tenant-wide notification is read for the caller only.',
      params: idParams,
      responses: { 200: { description: 'read', schema: readSchema } },
    },
    async ({ params, auth }) => {
      const read = await markRead(pool, auth, params.id);
      if (!read) throw notFound();
      return { status: 200, body: { id: read.id, read_at: read.readAt } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/notifications/:id',
      role: 'viewer',
      summary: 'One notification with its delivery status',
      description: 'A viewer sees those addressed to them or to the tenant; an operator every notification of the tenant.',
      params: idParams,
      responses: { 200: { description: 'the notification', schema: detailSchema } },
    },
    async ({ params, auth }) => {
      const n = await getNotification(pool, auth, params.id);
      if (!n) throw notFound();
      return { status: 200, body: { notification: toWire(n) } };
    },
  );

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
  // After every route: it sees their errors.
  api.router.use(onBodyError);
  return api;
}
