/**
 * Delivering an alarm step on the farm's own channels (docs/alarms.md, "Local delivery"): when the
 * cloud cannot be counted on (cloud-reachability.ts), or the step names local channels, or the
 * ladder says always (a siren for critical alarms). Each channel's outcome is returned, never
 * thrown: a dead siren or webhook is recorded in the alarm's history and the ladder moves on.
 */
import { localAlarmChannels, type LocalAlarmChannel } from '../domain/contracts/alarm-payloads';
import type { AlarmAddress, LadderStep } from './alarm-contract';
import type { LocalOutcome } from './alarm-store';
import type { LanWebhook, LanWebhookBody } from './local-channels/lan-webhook';
import { sirenTopic, type AlarmMessage, type SirenMessage, type SirenPublisher } from './local-channels/mqtt-siren';

export interface LocalChannels {
  siren: SirenPublisher;
  /** Absent when ALARM_LAN_WEBHOOK_URL is not set. */
  webhook?: LanWebhook;
}

const isLocal = (c: string): c is LocalAlarmChannel => (localAlarmChannels as readonly string[]).includes(c);

/**
 * Which local channels a step uses: every configured one while the cloud is away; otherwise the
 * step's own local channels and the ladder's alwaysLocal.
 */
export function localChannelsFor(
  rung: LadderStep,
  alwaysLocal: readonly LocalAlarmChannel[],
  cloudReachable: boolean,
  channels: LocalChannels,
): LocalAlarmChannel[] {
  const wanted = new Set<LocalAlarmChannel>([...rung.channels.filter(isLocal), ...alwaysLocal]);
  if (!cloudReachable) {
    wanted.add('mqtt_siren');
    if (channels.webhook) wanted.add('lan_webhook');
  }
  return localAlarmChannels.filter((c) => wanted.has(c));
}

export interface LocalDelivery {
  address: AlarmAddress;
  /** The alarm, for the LAN webhook. */
  message: AlarmMessage;
  /** The barn's siren state, for the siren (one topic per barn, shared by its alarms). */
  siren: SirenMessage;
  step: number;
  kind: LanWebhookBody['kind'];
  at: string;
}

/** Runs each channel (both at once); one outcome per channel, in catalog order. */
export async function deliverLocally(channels: LocalChannels, use: readonly LocalAlarmChannel[], d: LocalDelivery): Promise<LocalOutcome[]> {
  const topic = sirenTopic(d.address);
  const run = async (channel: LocalAlarmChannel): Promise<LocalOutcome> => {
    try {
      if (channel === 'mqtt_siren') {
        await channels.siren.publish(topic, d.siren);
        return { channel, ok: true, detail: sirenDetail(d.siren, topic, d.message.alarm_id) };
      }
      if (!channels.webhook) return { channel, ok: false, detail: 'no LAN webhook configured (ALARM_LAN_WEBHOOK_URL)' };
      const { tenantId, farmId, barnId } = d.address;
      await channels.webhook({
        ...d.message,
        tenant_id: tenantId,
        farm_id: farmId,
        ...(barnId === undefined ? {} : { barn_id: barnId }),
        step: d.step,
        kind: d.kind,
        at: d.at,
      });
      return { channel, ok: true, detail: 'LAN webhook accepted it' };
    } catch (err) {
      return { channel, ok: false, detail: (err as Error).message || String(err) };
    }
  };
  return Promise.all(use.map(run));
}

/** The history line of a siren publish: `siren on on <topic>`, plus the other alarms that sound it. */
export function sirenDetail(m: SirenMessage, topic: string, alarmId: string): string {
  const others = m.sounding - (m.alarm_ids.includes(alarmId) ? 1 : 0);
  return `siren ${m.siren} on ${topic}${others > 0 ? ` (sounded by ${others} other alarm${others === 1 ? '' : 's'})` : ''}`;
}
