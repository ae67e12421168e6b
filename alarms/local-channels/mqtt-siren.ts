/**
 * The MQTT siren: the farm server publishes an alarm's state on
 * `farmiq/<tenant>/<farm>/<barn|_farm>/alarm/siren`, which a siren or relay on the farm LAN
 * subscribes to. QoS 1 and retained: a siren that (re)connects while the alarm is open reads it at
 * once, and the clear publishes a retained `off` in its place.
 *
 * The worker connects with its own broker login (MQTT_ALARM_USERNAME, allowed by the broker's ACL
 * to write the siren topics only; gateways/mqtt-bridge/broker/render.ts), never the bridge's: the
 * broker keys sessions by login, so a second connection as the bridge would throw the bridge off.
 */
import { createHmac } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { AlarmAddress } from '../alarm-contract';

/**
 * The worker's broker login: MQTT_ALARM_USERNAME with a password derived from the bridge's (an
 * HMAC, so it reveals nothing of it and is as strong). The broker's password file and the worker
 * derive the same one, and the production secret check of MQTT_BRIDGE_PASSWORD covers both.
 */
export function alarmPublisherLogin(s: { MQTT_ALARM_USERNAME: string; MQTT_BRIDGE_PASSWORD: string }): { username: string; password: string } {
  return { username: s.MQTT_ALARM_USERNAME, password: createHmac('sha256', s.MQTT_BRIDGE_PASSWORD).update('farmiq-alarm-siren-publisher').digest('base64url') };
}

export function sirenTopic(address: Pick<AlarmAddress, 'tenantId' | 'farmId' | 'barnId'>): string {
  return `farmiq/${address.tenantId.toLowerCase()}/${address.farmId}/${address.barnId ?? '_farm'}/alarm/siren`;
}

/** What a siren reads (small on purpose: a relay's firmware parses it). */
export interface SirenMessage {
  alarm_id: string;
  rule_id: string;
  severity: string;
  /** `on` while the alarm is open (raised or acknowledged), `off` once it cleared. */
  siren: 'on' | 'off';
  state: string;
  summary: string;
}

export interface SirenPublisher {
  publish(topic: string, message: SirenMessage): Promise<void>;
  close(): Promise<void>;
}

export interface MqttSirenOptions {
  url: string;
  username: string;
  password: string;
  /** How long one publish may take, connecting included. */
  timeoutMs: number;
}

/** One connection for the worker's life, made on the first publish; reconnects on its own. */
export function mqttSirenPublisher(opts: MqttSirenOptions): SirenPublisher {
  let client: MqttClient | undefined;
  const connected = (c: MqttClient) =>
    c.connected
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const onConnect = () => {
            c.off('error', onError);
            resolve();
          };
          const onError = (err: Error) => {
            c.off('connect', onConnect);
            reject(err);
          };
          c.once('connect', onConnect);
          c.once('error', onError);
        });

  async function publishOnce(topic: string, message: SirenMessage): Promise<void> {
    client ??= mqtt.connect(opts.url, {
      username: opts.username,
      password: opts.password,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: opts.timeoutMs,
    });
    const c = client;
    await connected(c);
    await c.publishAsync(topic, JSON.stringify(message), { qos: 1, retain: true });
  }

  return {
    async publish(topic, message) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PUBACK from the broker at ${opts.url} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      });
      try {
        await Promise.race([publishOnce(topic, message), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const c = client;
      client = undefined;
      if (c) await c.endAsync(true);
    },
  };
}
