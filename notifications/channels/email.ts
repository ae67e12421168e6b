/**
 * Email through an SMTP server (nodemailer), configured by SMTP_URL:
 *   smtp://[user:pass@]host[:port]    plain, upgraded with STARTTLS when the server offers it
 *   smtps://[user:pass@]host[:port]   TLS from the first byte (port 465)
 * A 5xx reply (no such mailbox, message refused) is permanent; connection failures, timeouts and
 * 4xx replies (greylisting, mailbox busy) are retried.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type DeliveryChannel, type OutgoingNotification } from './channel';

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
  /** Open SMTP connections kept for reuse. */
  maxConnections?: number;
}

export function smtpTransportOptions(smtpUrl: string, timeoutMs: number, maxConnections = 4) {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error(`SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    maxConnections,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}

export class EmailChannel implements DeliveryChannel {
  private readonly transport: Transporter;

  constructor(private readonly opts: EmailChannelOptions) {
    this.transport = nodemailer.createTransport(smtpTransportOptions(opts.smtpUrl, opts.timeoutMs, opts.maxConnections));
  }

  async send(n: OutgoingNotification, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new DeliveryError('email send timed out', false);
    const sending = this.transport.sendMail({
      from: this.opts.from,
      to: n.recipient.displayName ? { name: n.recipient.displayName, address: n.recipient.email } : n.recipient.email,
      subject: n.title,
      text: n.body,
      headers: {
        'X-FarmIQ-Notification-Id': n.id,
        ...(n.traceId ? { 'X-Request-Id': n.traceId } : {}),
      },
    });
    // nodemailer has its own socket timeouts; the signal bounds the whole call as well.
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new DeliveryError('email send timed out', false)), { once: true }),
    );
    try {
      await Promise.race([sending, aborted]);
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      const e = err as { responseCode?: number; code?: string; message?: string };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
      throw new DeliveryError(`SMTP ${e.responseCode ?? e.code ?? 'error'}: ${e.message ?? String(err)}`, permanent);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
