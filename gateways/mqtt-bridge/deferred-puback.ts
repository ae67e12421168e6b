/**
 * PUBACK only after the database commit, without processing one message per commit.
 *
 * mqtt.js handles incoming packets strictly one at a time: the next PUBLISH is not read until
 * the previous one's PUBACK has been written (client.ts `work()`), so delaying the ack in
 * `customHandleAcks` would cap the bridge at one message per transaction. mqtt.js has no manual
 * ack API (mqttjs/MQTT.js#691), so we let its pump run on and hold back the PUBACK packet itself
 * until the commit promise for that message settles. The broker bounds how many messages may be
 * unacknowledged at once by the client's MQTT 5 Receive Maximum, which is our backpressure.
 *
 * A PUBACK held back across a reconnect is dropped, never sent on the new connection: the broker
 * redelivers the message and edge dedupe absorbs it. A failed commit never acks.
 */
import type { MqttClient, IPublishPacket, Packet } from 'mqtt';

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

/** The customHandleAcks option for mqtt.js (MQTT 5 only) that routes every QoS 1 message through `handler`. */
export function deferredPubacks(getClient: () => MqttClient, handler: MessageHandler) {
  const gates = new Map<number, Promise<void>>();
  let generation = 0;
  let installedOn: MqttClient | undefined;

  function install(client: MqttClient): void {
    if (installedOn === client) return;
    installedOn = client;
    const internals = client as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
      const gate = packet.cmd === 'puback' && packet.messageId !== undefined ? gates.get(packet.messageId) : undefined;
      if (!gate) return send(packet, cb, cbStorePut, noStore);
      gates.delete(packet.messageId!);
      const sentOn = generation;
      cb?.(); // let mqtt.js read the next PUBLISH now
      gate.then(
        () => {
          if (sentOn === generation && client.connected) {
            corkUntilNextTick(client);
            send(packet);
          }
        },
        () => {
          // Not committed: no PUBACK, so the broker keeps the message and redelivers it.
        },
      );
    };
    client.on('close', () => {
      generation += 1;
      gates.clear();
    });
  }

  // A committed batch releases hundreds of PUBACKs in one go: corking the socket until the
  // next tick turns them into one write instead of one syscall each.
  let corked = false;
  function corkUntilNextTick(client: MqttClient): void {
    if (corked || !client.stream) return;
    corked = true;
    const stream = client.stream;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork();
    });
  }

  return (topic: string, payload: Buffer, packet: IPublishPacket, ack: (err: Error | number, code?: number) => void): void => {
    install(getClient());
    if (packet.qos === 1 && packet.messageId !== undefined) {
      const committed = handler(topic, payload, packet);
      committed.catch(() => {}); // settled through the gate; avoid an unhandled rejection
      gates.set(packet.messageId, committed);
    } else {
      // QoS 0 has no ack to hold back; QoS 2 is not used by FarmIQ devices. Both are still stored.
      void handler(topic, payload, packet).catch(() => {});
    }
    ack(0); // reason code 0: success (the PUBACK itself waits behind the gate above)
  };
}
