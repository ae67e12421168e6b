/**
 * The one activity of the best-effort insight notification (workflows/insights/notification.ts):
 * hands the notification to cloud-notification-service. Its idempotency key makes a retried
 * attempt return the notification the first one created instead of a second one.
 *
 * A notification the database refuses to store (activities/failures.ts) is a non-retryable
 * DataRefused, like one the service rejects: retrying would fail the same way for ten minutes.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { refusalsAreFinal } from '../failures';
import type { NotificationChannel } from '../../notifications/model';
import { NotificationRejected, type InsightNotifier, type NotifyResult } from '../../insights/notifier';

export interface SendInsightNotificationInput {
  tenantId: string;
  insightId: string;
  farmId: string;
  barnId: string | null;
  channel: NotificationChannel;
  recipientUserId: string | null;
  title: string;
  body: string;
  requestId: string;
}

export function createInsightNotificationActivities({ notifier }: { notifier: InsightNotifier }) {
  return {
    async sendInsightNotification(input: SendInsightNotificationInput): Promise<NotifyResult> {
      try {
        const result = await refusalsAreFinal('sendInsightNotification', () =>
          notifier.notify({
            tenantId: input.tenantId,
            recipientUserId: input.recipientUserId,
            channel: input.channel,
            title: input.title,
            body: input.body,
            data: { kind: 'insight', insight_id: input.insightId, farm_id: input.farmId, barn_id: input.barnId, request_id: input.requestId },
            idempotencyKey: `insight:${input.insightId}:${input.channel}:${input.recipientUserId ?? 'tenant'}`,
            requestId: input.requestId,
          }),
        );
        log.info('insight notification sent', { requestId: input.requestId, insightId: input.insightId, ...result });
        return result;
      } catch (err) {
        if (err instanceof NotificationRejected) throw ApplicationFailure.nonRetryable(err.message, 'NotificationRejected');
        throw err;
      }
    },
  };
}

export type InsightNotificationActivities = ReturnType<typeof createInsightNotificationActivities>;
