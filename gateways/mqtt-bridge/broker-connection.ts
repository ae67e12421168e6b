/**
 * Owns the bridge's one connection to the farm's MQTT broker: a persistent MQTT 5 session
 * (fixed client id, clean start off, session kept while the bridge is away) so QoS 1 messages
 * published while the bridge is down or restarting wait in the broker; a retained last-will so
 * operators see the bridge go offline; resubscription on every reconnect.
 */
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { deferredPubacks, type MessageHandler } from './deferred-puback';
import type { Logger } from '../../platform/logger';

export interface BrokerConnectionOptions {
  url: string;
  clientId: string;
  username: string;
  password: string;
  receiveMaximum: number;
  edgeId: string;
  subscriptions: readonly string[];
}

const SESSION_EXPIRY_SECONDS = 14 * 24 * 3600; // a farm server may be off for days

export class BrokerConnection {
  private client?: MqttClient;
  private subscribed = false;

  constructor(
    private readonly opts: BrokerConnectionOptions,
    private readonly onMessage: MessageHandler,
    private readonly log: Logger,
  ) {}

  get stateTopic(): string {
    return `farmiq/bridge/${this.opts.edgeId}/state`;
  }

  get connected(): boolean {
    return Boolean(this.client?.connected) && this.subscribed;
  }

  /** Connects and subscribes; resolves on the first successful subscription. */
  start(): Promise<void> {
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: 5,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS, receiveMaximum: this.opts.receiveMaximum },
      will: { topic: this.stateTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      customHandleAcks: deferredPubacks(() => this.client!, this.onMessage),
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    return new Promise((resolve, reject) => {
      let first = true;
      client.on('connect', (connack) => {
        this.log.info({ sessionPresent: connack.sessionPresent }, 'connected to broker');
        // With a present session the broker already has our subscriptions; subscribing again is
        // harmless and covers a broker that lost its persistence.
        client.subscribe([...this.opts.subscriptions], { qos: 1 }, (err, granted) => {
          const refused = granted?.filter((g) => g.qos !== 1) ?? [];
          if (err || refused.length > 0) {
            const why = err?.message ?? `subscription refused for ${refused.map((g) => g.topic).join(', ')}`;
            this.log.error({ err: why }, 'subscribe failed');
            if (first) {
              first = false;
              // start() may be retried by waitFor(): never leave a half-started client behind.
              client.end(true);
              reject(new Error(why));
            }
            return;
          }
          this.subscribed = true;
          client.publish(this.stateTopic, 'online', { qos: 1, retain: true });
          if (first) {
            first = false;
            resolve();
          }
        });
      });
      client.on('close', () => {
        this.subscribed = false;
      });
      client.on('error', (err) => {
        this.log.warn({ err: err.message }, 'broker connection error');
        if (first && /not authorized|bad user name or password|Bad username/i.test(err.message)) {
          first = false;
          client.end(true);
          reject(err);
        }
      });
      client.on('offline', () => this.log.warn('broker offline; reconnecting'));
    });
  }

  /** Publishes the clean offline state and disconnects without ending the broker-side session. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await client.publishAsync(this.stateTopic, 'offline', { qos: 1, retain: true }).catch(() => {});
    }
    await client.endAsync();
  }

  /** Hard disconnect without PUBACKs for anything in flight (tests, and shutdown after a failure). */
  async abort(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
