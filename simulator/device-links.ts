/**
 * One MQTT connection per simulated device, logged in with that device's own credentials (the
 * farm broker takes the login as the client id, so two devices can never share one), opened on
 * first use and kept. QoS 1: a publish resolves on the broker's PUBACK.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { deviceKey, type FarmState } from './farm-state';

export class DeviceLinks {
  private readonly clients = new Map<string, Promise<MqttClient>>();
  private readonly open = new Set<MqttClient>();

  constructor(
    private readonly mqttUrl: string,
    private readonly state: FarmState,
  ) {}

  private client(barnId: string, deviceId: string): Promise<MqttClient> {
    const key = deviceKey(barnId, deviceId);
    let c = this.clients.get(key);
    if (!c) {
      const creds = this.state.credentials[key];
      if (!creds) throw new Error(`device ${key} has no credentials: provision the farm first`);
      c = mqtt
        .connectAsync(this.mqttUrl, { username: creds.username, password: creds.password, protocolVersion: 5, clean: true, reconnectPeriod: 1000 })
        .then((client) => {
          this.open.add(client);
          return client;
        });
      // A refused login fails the publish that needed it and is tried again on the next one.
      c.catch(() => this.clients.delete(key));
      this.clients.set(key, c);
    }
    return c;
  }

  async publish(barnId: string, deviceId: string, topic: string, body: string): Promise<void> {
    const c = await this.client(barnId, deviceId);
    await c.publishAsync(topic, body, { qos: 1 });
  }

  /** Whether every opened connection is up (the health check). */
  connected(): boolean {
    return [...this.open].every((c) => c.connected);
  }

  async close(): Promise<void> {
    this.clients.clear();
    const clients = [...this.open];
    this.open.clear();
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}
