/**
 * sms and push through an HTTP webhook (an SMS gateway or a push relay): one JSON POST per
 * notification. The receiver can deduplicate on the Idempotency-Key header (the notification id),
 * because a delivery is repeated when an answer is lost.
 *
 *   2xx                           delivered
 *   408, 425, 429, 5xx, no answer retried (spec §7.4)
 *   any other status              permanent: the request itself is wrong, retrying cannot help
 */
import { DeliveryError, type DeliveryChannel, type OutgoingNotification } from './channel';

export interface WebhookChannelOptions {
  /** Empty: the channel is not configured and every notification on it fails permanently. */
  url: string;
  /** Sent as "Authorization: Bearer <token>" when set. */
  token?: string;
}

const retryableStatuses = new Set([408, 425, 429]);

export class WebhookChannel implements DeliveryChannel {
  constructor(private readonly opts: WebhookChannelOptions) {}

  async send(n: OutgoingNotification, signal: AbortSignal): Promise<void> {
    if (!this.opts.url) throw new DeliveryError(`the ${n.channel} channel has no webhook URL configured`, true);
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        signal,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': n.id,
          ...(n.traceId ? { 'x-request-id': n.traceId } : {}),
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        body: JSON.stringify({
          notification_id: n.id,
          tenant_id: n.tenantId,
          channel: n.channel,
          attempt: n.attempt,
          recipient: { user_id: n.recipient.userId, email: n.recipient.email, display_name: n.recipient.displayName },
          title: n.title,
          body: n.body,
          data: n.data,
        }),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new DeliveryError(`webhook not reachable: ${e.cause?.code ?? e.name}: ${e.message}`, false);
    }
    // Drain the body so the connection can be reused.
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const permanent = !(retryableStatuses.has(res.status) || res.status >= 500);
    throw new DeliveryError(`webhook answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, permanent);
  }
}
