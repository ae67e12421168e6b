/**
 * Notifications as the service and its callers see them (spec §6): who receives one, over which
 * channel, and where its delivery stands.
 */
import { z } from 'zod';

export const notificationChannels = ['in_app', 'email', 'sms', 'push'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

/** queued → sent, or → failed (a permanent error), or → dlq (the last attempt failed too). */
export const notificationStatuses = ['queued', 'sent', 'failed', 'dlq'] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];

/** Channels delivered by the delivery worker through RabbitMQ; in_app is stored as sent at once. */
export function isQueuedChannel(channel: NotificationChannel): channel is Exclude<NotificationChannel, 'in_app'> {
  return channel !== 'in_app';
}

export interface Notification {
  id: string;
  tenantId: string;
  /** null: every user of the tenant (in_app only). */
  recipientUserId: string | null;
  channel: NotificationChannel;
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: NotificationStatus;
  attemptCount: number;
  lastError: string | null;
  idempotencyKey: string | null;
  traceId: string | null;
  createdAt: string;
  sentAt: string | null;
  /** For the caller of an inbox query: when they read it (tenant-wide ones are read per user). */
  readAt: string | null;
}

/** What sendNotification() accepts; the HTTP body is the same in snake_case. */
export const sendNotificationInput = z.object({
  tenantId: z.string().uuid(),
  recipientUserId: z.string().uuid().nullable().default(null),
  channel: z.enum(notificationChannels),
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(10_000),
  data: z.record(z.string(), z.unknown()).default({}),
  /** The same key again (per tenant) returns the notification already made instead of a second one. */
  idempotencyKey: z.string().min(1).max(200).nullable().default(null),
  /** x-request-id of the request that caused it; travels on the RabbitMQ message and to webhooks. */
  traceId: z.string().max(128).nullable().default(null),
});
export type SendNotificationInput = z.input<typeof sendNotificationInput>;

/** Stable, machine-readable reasons a notification request is refused. */
export type NotificationProblem = 'recipient_not_found' | 'recipient_required' | 'invalid_input';

export class NotificationError extends Error {
  constructor(
    readonly problem: NotificationProblem,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationError';
  }
}

/** SQL select list that yields a row for rowToNotification (table alias n). */
export const notificationColumns = `
  n.id, n.tenant_id, n.user_id, n.channel, n.title, n.body, n.data, n.status, n.attempt_count, n.last_error,
  n.idempotency_key, n.trace_id,
  to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
  to_char(n.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sent_at`;

export interface NotificationRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  channel: NotificationChannel;
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: NotificationStatus;
  attempt_count: number;
  last_error: string | null;
  idempotency_key: string | null;
  trace_id: string | null;
  created_at: string;
  sent_at: string | null;
  read_at?: string | null;
}

export function rowToNotification(r: NotificationRow): Notification {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    recipientUserId: r.user_id,
    channel: r.channel,
    title: r.title,
    body: r.body,
    data: r.data,
    status: r.status,
    attemptCount: r.attempt_count,
    lastError: r.last_error,
    idempotencyKey: r.idempotency_key,
    traceId: r.trace_id,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    readAt: r.read_at ?? null,
  };
}
