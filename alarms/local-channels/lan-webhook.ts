/**
 * The LAN webhook: a POST of the alarm step as JSON to ALARM_LAN_WEBHOOK_URL (a farm's own
 * dialler, a PLC, a home-automation box), with a timeout. A non-2xx answer is a failure.
 */
import type { AlarmMessage } from './mqtt-siren';

/** The alarm (not the barn's siren state) and its step. */
export interface LanWebhookBody extends AlarmMessage {
  tenant_id: string;
  farm_id: string;
  barn_id?: string;
  step: number;
  kind: 'step' | 'reminder' | 'cleared';
  at: string;
}

export type LanWebhook = (body: LanWebhookBody) => Promise<void>;

export function lanWebhook(opts: { url: string; timeoutMs: number }): LanWebhook {
  return async (body) => {
    const res = await fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'farmiq-edge-alarms' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    // Drain the body so the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`${opts.url} answered ${res.status}`);
  };
}
