/**
 * The best-effort notification of a finished insight (spec §5.3: "notification creation MUST NOT
 * block insight response"). The insight workflow starts this as a child with ParentClosePolicy
 * ABANDON and returns its result right after the child has *started* — a server round trip that
 * does not touch the notification service — so a slow, stuck or failing notification path can
 * neither delay nor fail the insight. This workflow then retries on its own preset and ends.
 */
import { log, proxyActivities } from '@temporalio/workflow';
import type { createInsightNotificationActivities, SendInsightNotificationInput } from '../../activities/insights/notification';
import { notificationDelivery } from './activity-options';
import { failureMessage } from './failures';

const { sendInsightNotification } = proxyActivities<ReturnType<typeof createInsightNotificationActivities>>(notificationDelivery);

export type NotifyInsightInput = SendInsightNotificationInput;

export interface NotifyInsightResult {
  sent: boolean;
  notificationId: string | null;
  error: string | null;
}

export async function notifyInsight(input: NotifyInsightInput): Promise<NotifyInsightResult> {
  try {
    const result = await sendInsightNotification(input);
    return { sent: true, notificationId: result.notificationId, error: null };
  } catch (err) {
    // Best effort: the insight is stored and was returned long ago. Giving up is logged and the
    // run completes (not fails), so nothing pages an operator for a notification.
    const error = failureMessage(err);
    log.warn('insight notification given up', { requestId: input.requestId, insightId: input.insightId, error });
    return { sent: false, notificationId: null, error };
  }
}
