/**
 * The only module that writes the notification tables (migrations 0004 and 0007): `notifications`,
 * `notification_deliveries` (a queued notification's due time and the attempt last published),
 * `notification_reads` (per-user read receipts of tenant-wide notifications) and
 * `notification_attempts` (one record per delivery attempt). One statement per function.
 *
 * Every function runs on the client it is given, inside the caller's transaction: withTenant on the
 * tenant pool for the API (send.ts, inbox.ts), inTransaction on the owner pool for the delivery
 * worker and the dispatcher. So the callers keep where each transaction begins and ends and the
 * order of its statements. Reads stay with their callers.
 */
import type { z } from 'zod';
import type { Queryable } from '../db/transaction';
import { notificationColumns, type NotificationChannel, type NotificationRow, type NotificationStatus, type sendNotificationInput } from './model';

/** A notification as sendNotification() stores it: its parsed input. */
export type NewNotification = z.output<typeof sendNotificationInput>;

/** What a recorded delivery attempt came to. */
export type RecordedOutcome = 'sent' | 'retry' | 'failed' | 'dlq';

/** A read time as text with microseconds, UTC (the API's timestamps). */
export const readAtStamp = `to_char(read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS read_at`;

// --- creating (send.ts) ---

/**
 * Stores a new notification, `sent` at once (in_app) or `queued`; undefined when another
 * notification of the tenant already holds its idempotency key.
 */
export async function insertNotification(db: Queryable, n: NewNotification, status: 'sent' | 'queued'): Promise<NotificationRow | undefined> {
  const inserted = await db.query<NotificationRow>(
    `INSERT INTO notifications AS n (tenant_id, user_id, channel, title, body, data, status, idempotency_key, trace_id, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7 = 'sent' THEN now() END)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
       RETURNING ${notificationColumns}`,
    [n.tenantId, n.recipientUserId, n.channel, n.title, n.body, JSON.stringify(n.data), status, n.idempotencyKey, n.traceId],
  );
  return inserted.rowCount === 0 ? undefined : inserted.rows[0];
}

/** The delivery row of a queued notification: due now, attempt 1 marked dispatched. */
export async function insertFirstDelivery(db: Queryable, tenantId: string, notificationId: string): Promise<void> {
  await db.query(
    `INSERT INTO notification_deliveries (tenant_id, notification_id, next_attempt_at, dispatched_attempt, dispatched_at)
         VALUES ($1, $2, now(), 1, now())`,
    [tenantId, notificationId],
  );
}

/** Unmarks attempt 1 as dispatched (its publish failed), so the dispatcher publishes it. */
export async function clearFirstDispatch(db: Queryable, tenantId: string, notificationId: string): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries SET dispatched_attempt = 0, dispatched_at = NULL WHERE tenant_id = $1 AND notification_id = $2 AND dispatched_attempt = 1`,
    [tenantId, notificationId],
  );
}

// --- read state (inbox.ts) ---

/** Marks a notification addressed to one user read (the first time is kept); returns the read time. */
export async function markOwnRead(db: Queryable, tenantId: string, id: string): Promise<string> {
  const r = await db.query<{ read_at: string }>(
    `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE tenant_id = $1 AND id = $2 RETURNING ${readAtStamp}`,
    [tenantId, id],
  );
  return r.rows[0].read_at;
}

/** Records that a user read a tenant-wide notification (a second time changes nothing). */
export async function markSharedRead(db: Queryable, tenantId: string, id: string, userId: string): Promise<void> {
  await db.query(`INSERT INTO notification_reads (tenant_id, notification_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [tenantId, id, userId]);
}

/** Marks every unread in-app notification addressed to the user read; returns how many. */
export async function markAllOwnRead(db: Queryable, tenantId: string, userId: string): Promise<number> {
  const own = await db.query(
    `UPDATE notifications SET read_at = now()
        WHERE tenant_id = $1 AND user_id = $2 AND channel = 'in_app' AND read_at IS NULL`,
    [tenantId, userId],
  );
  return own.rowCount ?? 0;
}

/** Records the user's read receipt of every tenant-wide in-app notification; returns how many were new. */
export async function markAllSharedRead(db: Queryable, tenantId: string, userId: string): Promise<number> {
  const shared = await db.query(
    `INSERT INTO notification_reads (tenant_id, notification_id, user_id)
       SELECT n.tenant_id, n.id, $2 FROM notifications n
        WHERE n.tenant_id = $1 AND n.user_id IS NULL AND n.channel = 'in_app'
       ON CONFLICT DO NOTHING`,
    [tenantId, userId],
  );
  return shared.rowCount ?? 0;
}

// --- dispatching (dispatcher.ts) ---

/** Marks each published attempt as the delivery row's dispatched one, as of now. */
export async function markDispatched(db: Queryable, published: readonly { notificationId: string; attempt: number }[]): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries d
            SET dispatched_attempt = x.attempt, dispatched_at = now()
           FROM unnest($1::uuid[], $2::int[]) AS x(notification_id, attempt)
          WHERE d.notification_id = x.notification_id`,
    [published.map((r) => r.notificationId), published.map((r) => r.attempt)],
  );
}

// --- delivery attempts (delivery-worker.ts) ---

/** A failed attempt with attempts left: the notification stays queued. */
export async function recordRetry(db: Queryable, id: string, attempt: number, lastError: string | null): Promise<void> {
  await db.query(`UPDATE notifications SET attempt_count = $2, last_error = $3 WHERE id = $1`, [id, attempt, lastError]);
}

/** When the next attempt is due: delayMs from now. */
export async function scheduleNextAttempt(db: Queryable, id: string, delayMs: number | null): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries SET next_attempt_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
          WHERE notification_id = $1`,
    [id, delayMs],
  );
}

/** The notification's delivery ended (sent, failed or dlq); sent_at is set when it was sent. */
export async function recordEnd(
  db: Queryable,
  id: string,
  status: Exclude<NotificationStatus, 'queued'>,
  attempt: number,
  lastError: string | null,
): Promise<void> {
  await db.query(
    `UPDATE notifications
            SET status = $2, attempt_count = $3, last_error = $4, sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
          WHERE id = $1`,
    [id, status, attempt, lastError],
  );
}

/** The quarantine's status: failed for good, with the refusal as its last error. */
export async function recordQuarantined(db: Queryable, id: string, attempt: number, reason: string): Promise<void> {
  await db.query(`UPDATE notifications SET status = 'failed', attempt_count = $2, last_error = $3 WHERE id = $1`, [id, attempt, reason]);
}

/** Deletes the delivery row: the notification is never dispatched (nor attempted) again. */
export async function deleteDelivery(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM notification_deliveries WHERE notification_id = $1`, [id]);
}

export interface AttemptRecord {
  tenantId: string;
  notificationId: string;
  attempt: number;
  channel: NotificationChannel;
  startedAt: Date;
  outcome: RecordedOutcome;
  error: string | null;
  retryDelayMs: number | null;
}

/** Records one attempt. Only rows edited by hand can already hold it; the newest record wins. */
const attemptSql = `
INSERT INTO notification_attempts (tenant_id, notification_id, attempt, channel, started_at, finished_at, outcome, error, retry_delay_ms)
VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6, $7, $8)
ON CONFLICT (tenant_id, notification_id, attempt) DO UPDATE
  SET channel = excluded.channel, started_at = excluded.started_at, finished_at = excluded.finished_at,
      outcome = excluded.outcome, error = excluded.error, retry_delay_ms = excluded.retry_delay_ms`;

export async function recordAttempt(db: Queryable, a: AttemptRecord): Promise<void> {
  await db.query(attemptSql, [a.tenantId, a.notificationId, a.attempt, a.channel, a.startedAt, a.outcome, a.error, a.retryDelayMs]);
}
