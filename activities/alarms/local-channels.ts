/** The farm's own alarm channels as the settings configure them (the edge worker makes one set for its life). */
import type { Settings } from '../../config/settings';
import type { LocalChannels } from '../../alarms/local-delivery';
import { lanWebhook } from '../../alarms/local-channels/lan-webhook';
import { alarmPublisherLogin, mqttSirenPublisher } from '../../alarms/local-channels/mqtt-siren';

export function localChannelsFromSettings(
  s: Pick<Settings, 'MQTT_URL' | 'MQTT_ALARM_USERNAME' | 'MQTT_BRIDGE_PASSWORD' | 'ALARM_LAN_WEBHOOK_URL' | 'ALARM_LOCAL_TIMEOUT_MS'>,
): LocalChannels {
  const timeoutMs = s.ALARM_LOCAL_TIMEOUT_MS;
  return {
    siren: mqttSirenPublisher({ url: s.MQTT_URL, ...alarmPublisherLogin(s), timeoutMs }),
    ...(s.ALARM_LAN_WEBHOOK_URL ? { webhook: lanWebhook({ url: s.ALARM_LAN_WEBHOOK_URL, timeoutMs }) } : {}),
  };
}
