/**
 * A delivery channel sends one notification to one recipient. It resolves when the far side has
 * accepted the message and throws DeliveryError otherwise, saying whether trying again could help.
 */
import type { NotificationChannel } from '../model';

export interface Recipient {
  userId: string;
  email: string;
  displayName: string | null;
}

export interface OutgoingNotification {
  id: string;
  tenantId: string;
  channel: NotificationChannel;
  title: string;
  body: string;
  data: Record<string, unknown>;
  attempt: number;
  traceId: string | null;
  recipient: Recipient;
}

export interface DeliveryChannel {
  send(n: OutgoingNotification, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** True when no retry can succeed (bad address, channel not configured, 4xx from a webhook). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
