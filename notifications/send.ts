/**
 * Creating a notification (spec §6 steps 4–5): one transaction on the tenant pool (row-level
 * security keyed on the tenant) stores it — in_app as `sent` at once, the other channels as
 * `queued` with a notification_deliveries row — then, for queued channels, the first delivery
 * attempt is published to RabbitMQ. The same idempotency key again returns the stored
 * notification and publishes nothing.
 *
 * Publishing comes after the commit and may fail (broker down): the row is then handed to the
 * dispatcher (dispatched_attempt reset), which publishes it on its next round. The caller gets the
 * queued notification either way; delivery is the worker's business.
 */
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../auth/tenant-db';
import type { Logger } from '../platform/logger';
import {
  isQueuedChannel,
  NotificationError,
  notificationColumns,
  rowToNotification,
  sendNotificationInput,
  type Notification,
  type NotificationRow,
  type SendNotificationInput,
} from './model';
import { notificationMetrics } from './metrics';
import { clearFirstDispatch, insertFirstDelivery, insertNotification } from './notification-store';
import type { DeliveryPublisher } from './queue';

export interface NotificationDeps {
  /** The tenant pool (farmiq_app, auth/tenant-db.ts createTenantPool). */
  pool: Pool;
  /** Where email/sms/push deliveries are enqueued (NotificationQueue). */
  publisher: DeliveryPublisher;
  log: Logger;
}

export interface SendResult {
  notification: Notification;
  /** True when the idempotency key had been used: nothing new was stored or enqueued. */
  duplicate: boolean;
}

async function findByKey(client: PoolClient, tenantId: string, key: string): Promise<NotificationRow | undefined> {
  const r = await client.query<NotificationRow>(`SELECT ${notificationColumns} FROM notifications n WHERE n.tenant_id = $1 AND n.idempotency_key = $2`, [
    tenantId,
    key,
  ]);
  return r.rows[0];
}

export async function sendNotification(deps: NotificationDeps, input: SendNotificationInput): Promise<SendResult> {
  const parsed = sendNotificationInput.safeParse(input);
  if (!parsed.success) {
    throw new NotificationError('invalid_input', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  const n = parsed.data;
  if (isQueuedChannel(n.channel) && n.recipientUserId === null) {
    throw new NotificationError('recipient_required', `a ${n.channel} notification needs a recipient user; only in_app ones can go to the whole tenant`);
  }

  const stored = await withTenant(deps.pool, n.tenantId, async (client) => {
    if (n.idempotencyKey !== null) {
      const existing = await findByKey(client, n.tenantId, n.idempotencyKey);
      if (existing) return { row: existing, duplicate: true };
    }
    if (n.recipientUserId !== null) {
      // Row-level security hides other tenants' users, so this is also the tenant check.
      const user = await client.query('SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL', [n.recipientUserId]);
      if (user.rowCount === 0) throw new NotificationError('recipient_not_found', 'no such recipient user in this tenant');
    }
    const inApp = n.channel === 'in_app';
    const row = await insertNotification(client, n, inApp ? 'sent' : 'queued');
    if (!row) {
      // A concurrent request with the same key committed first.
      const existing = await findByKey(client, n.tenantId, n.idempotencyKey!);
      if (!existing) throw new Error('idempotency key conflict, but no notification holds the key');
      return { row: existing, duplicate: true };
    }
    if (!inApp) {
      // Marked as dispatched (attempt 1) now, so the dispatcher does not publish it a second time
      // while this request publishes it below.
      await insertFirstDelivery(client, n.tenantId, row.id);
    }
    return { row, duplicate: false };
  });

  const notification = rowToNotification(stored.row);
  if (stored.duplicate) {
    notificationMetrics.created.inc({ channel: notification.channel, outcome: 'duplicate' });
    return { notification, duplicate: true };
  }
  notificationMetrics.created.inc({ channel: notification.channel, outcome: 'created' });
  if (isQueuedChannel(notification.channel)) {
    try {
      await deps.publisher.publish([{ notificationId: notification.id, tenantId: notification.tenantId, attempt: 1, traceId: notification.traceId }]);
    } catch (err) {
      deps.log.warn(
        { requestId: notification.traceId, notificationId: notification.id, err: (err as Error).message },
        'could not enqueue the delivery; the dispatcher will publish it',
      );
      await handToDispatcher(deps, notification).catch((e: Error) =>
        deps.log.warn({ notificationId: notification.id, err: e.message }, 'could not hand the delivery to the dispatcher; it re-publishes stale ones later'),
      );
    }
  }
  return { notification, duplicate: false };
}

function handToDispatcher(deps: NotificationDeps, n: Notification): Promise<void> {
  return withTenant(deps.pool, n.tenantId, (client) => clearFirstDispatch(client, n.tenantId, n.id));
}
