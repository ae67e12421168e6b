/** The delivery channels a worker gets from settings: SMTP for email, webhooks for sms and push. */
import type { Settings } from '../../config/settings';
import type { DeliveryChannel } from './channel';
import { EmailChannel } from './email';
import { WebhookChannel } from './webhook';

export { DeliveryError, type DeliveryChannel, type OutgoingNotification, type Recipient } from './channel';
export { EmailChannel } from './email';
export { WebhookChannel } from './webhook';

export function channelsFromSettings(s: Settings): Record<'email' | 'sms' | 'push', DeliveryChannel> {
  const timeoutMs = s.NOTIFICATION_SEND_TIMEOUT_SECONDS * 1000;
  return {
    email: new EmailChannel({ smtpUrl: s.SMTP_URL, from: s.SMTP_FROM, timeoutMs, maxConnections: s.NOTIFICATION_CONCURRENCY }),
    sms: new WebhookChannel({ url: s.SMS_WEBHOOK_URL, token: s.NOTIFICATION_WEBHOOK_TOKEN }),
    push: new WebhookChannel({ url: s.PUSH_WEBHOOK_URL, token: s.NOTIFICATION_WEBHOOK_TOKEN }),
  };
}
