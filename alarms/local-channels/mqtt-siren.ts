/**
 * The MQTT siren: the farm server publishes the siren state of a barn (or `_farm`) on
 * `farmiq/<tenant>/<farm>/<barn|_farm>/alarm/siren`, which a siren or relay on the farm LAN
 * subscribes to with its own device login (kind `siren`, gateways/mqtt-bridge/broker/render.ts).
 * One topic per barn is shared by every alarm there, so the message is the barn's state, not one
 * alarm's: `on` while any alarm of the barn that sounded the siren is raised and unacknowledged,
 * `off` once none is (activities/alarms/alarm-steps.ts). QoS 1 and retained: a siren that
 * (re)connects reads the current state at once.
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

/** One alarm as the local channels describe it (the LAN webhook's body is this and the step). */
export interface AlarmMessage {
  alarm_id: string;
  rule_id: string;
  severity: string;
  siren: 'on' | 'off';
  state: string;
  summary: string;
}

/** At most this many alarm ids in a siren message (`sounding` counts them all). */
export const sirenListedAlarms = 20;

/**
 * What a siren reads (small on purpose: a relay's firmware parses it). `siren` is the barn's:
 * `on` while `alarm_ids` is not empty. The alarm fields name the newest sounding alarm, or when
 * `off` the alarm whose acknowledgement or clear silenced the siren.
 */
export interface SirenMessage extends AlarmMessage {
  /** The sounding alarms (raised, unacknowledged, sounded the siren), newest first, at most sirenListedAlarms. */
  alarm_ids: string[];
  /** How many alarms sound it (may exceed alarm_ids' length). */
  sounding: number;
}

/** The barn's siren state from its sounding alarms (newest first) and their count. */
export function sirenState(sounding: { alarms: AlarmMessage[]; total: number }, silencedBy: AlarmMessage): SirenMessage {
  const [newest] = sounding.alarms;
  if (!newest) return { ...silencedBy, siren: 'off', alarm_ids: [], sounding: 0 };
  return {
    ...newest,
    siren: 'on',
    alarm_ids: sounding.alarms.slice(0, sirenListedAlarms).map((a) => a.alarm_id),
    sounding: Math.max(sounding.total, sounding.alarms.length),
  };
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
