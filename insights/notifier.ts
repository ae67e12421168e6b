/**
 * How a finished insight is announced: through the notifications module of
 * cloud-notification-service (notifications/send.ts sendNotification), best-effort — the insight
 * workflow never waits for it (workflows/insights/notification.ts).
 */
import type { NotificationChannel } from '../notifications/model';
import { NotificationError } from '../notifications/model';
import { sendNotification, type NotificationDeps } from '../notifications/send';

export interface InsightNotification {
  tenantId: string;
  /** null: every user of the tenant (in_app only). */
  recipientUserId: string | null;
  channel: NotificationChannel;
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** One notification per insight, channel and recipient, however often the activity retries. */
  idempotencyKey: string;
  requestId: string;
}

export interface NotifyResult {
  notificationId: string;
  status: string;
  duplicate: boolean;
}

export interface InsightNotifier {
  notify(n: InsightNotification): Promise<NotifyResult>;
}

/** A notification the service refuses for good (unknown recipient, invalid input): not retried. */
export class NotificationRejected extends Error {
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationRejected';
  }
}

export class NotificationModuleNotifier implements InsightNotifier {
  constructor(private readonly deps: NotificationDeps) {}

  async notify(n: InsightNotification): Promise<NotifyResult> {
    try {
      const { notification, duplicate } = await sendNotification(this.deps, {
        tenantId: n.tenantId,
        recipientUserId: n.recipientUserId,
        channel: n.channel,
        title: n.title,
        body: n.body,
        data: n.data,
        idempotencyKey: n.idempotencyKey,
        traceId: n.requestId,
      });
      return { notificationId: notification.id, status: notification.status, duplicate };
    } catch (err) {
      if (err instanceof NotificationError) throw new NotificationRejected(err.problem, err.message);
      throw err;
    }
  }
}
