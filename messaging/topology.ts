/**
 * The cloud's RabbitMQ topology (spec §8), derived from the event catalog so the two cannot drift:
 *
 *   farmiq.events (topic, durable)
 *     ├─ telemetry.ingested, weighvision.*  ─▶ cloud-telemetry-service  (quorum)
 *     ├─ feed.intake.recorded              ─▶ cloud-feed-service       (quorum)
 *     ├─ telemetry.aggregated, weighvision.session.finalized, inference.completed
 *     │                                    ─▶ cloud-analytics-service  (quorum)
 *     ├─ media.stored                      ─▶ cloud-media-store        (quorum)
 *     └─ sync.batch.sent, sync.batch.acked ─▶ internal-monitoring      (quorum)
 *   every consumer queue: x-delivery-limit N, dead-letter exchange farmiq.dead (at-least-once)
 *   farmiq.dead (fanout, durable) ─▶ farmiq.dead-letters (quorum) ─▶ dead-letter recorder
 *
 * Quorum queues (RabbitMQ ≥ 3.8; at-least-once dead-lettering ≥ 3.10) count deliveries
 * themselves and stamp `x-delivery-count` on redeliveries, so a poison message leaves its queue
 * after N tries without the consumer keeping any state.
 */
import type { Channel } from 'amqplib';
import { eventCatalog, syncableEventTypes, type EventType } from '../domain/contracts';

export interface TopologyNames {
  /** The topic exchange every accepted edge event is published to. */
  exchange: string;
  /** Where consumer queues dead-letter to. */
  deadExchange: string;
  /** The queue of the dead-letter recorder. */
  deadQueue: string;
  /** Put before each consumer service's name to make its queue name. */
  queuePrefix: string;
}

/** Names with an optional prefix (AMQP_TOPOLOGY_PREFIX; tests use their own). */
export function topologyNames(prefix = ''): TopologyNames {
  return {
    exchange: `${prefix}farmiq.events`,
    deadExchange: `${prefix}farmiq.dead`,
    deadQueue: `${prefix}farmiq.dead-letters`,
    queuePrefix: prefix,
  };
}

export function queueNameOf(names: TopologyNames, service: string): string {
  return `${names.queuePrefix}${service}`;
}

/** Consumer service → the routing keys its queue is bound to, for every event an edge may sync. */
export function consumerBindings(): Map<string, string[]> {
  const bindings = new Map<string, string[]>();
  for (const type of syncableEventTypes) {
    const { routingKey, consumers } = eventCatalog[type];
    for (const service of consumers) {
      const keys = bindings.get(service) ?? [];
      if (!keys.includes(routingKey)) keys.push(routingKey);
      bindings.set(service, keys);
    }
  }
  return bindings;
}

/** The event types a service receives (the catalog entries that name it as a consumer). */
export function eventTypesConsumedBy(service: string): EventType[] {
  return syncableEventTypes.filter((t) => eventCatalog[t].consumers.includes(service));
}

export const consumerServices: readonly string[] = [...consumerBindings().keys()];

export interface TopologyOptions {
  /** Redeliveries before RabbitMQ dead-letters a message (x-delivery-limit). */
  deliveryLimit: number;
}

export function consumerQueueArguments(names: TopologyNames, opts: TopologyOptions): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': opts.deliveryLimit,
    'x-dead-letter-exchange': names.deadExchange,
    // At-least-once dead-lettering (3.10+) keeps a dead message in its queue until the dead-letter
    // queue has confirmed it; it requires reject-publish overflow.
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
}

/**
 * Declares exchanges, queues and bindings; idempotent, run by every publisher and consumer on each
 * (re)connect. A queue that exists with other arguments fails with PRECONDITION_FAILED: delete it
 * (after draining) or use another prefix — RabbitMQ cannot change a queue's type in place.
 */
export async function assertTopology(channel: Channel, names: TopologyNames, opts: TopologyOptions): Promise<void> {
  await channel.assertExchange(names.exchange, 'topic', { durable: true });
  await channel.assertExchange(names.deadExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.deadQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(names.deadQueue, names.deadExchange, '');
  const args = consumerQueueArguments(names, opts);
  for (const [service, keys] of consumerBindings()) {
    const queue = queueNameOf(names, service);
    await channel.assertQueue(queue, { durable: true, arguments: args });
    for (const key of keys) await channel.bindQueue(queue, names.exchange, key);
  }
}

/** Removes everything assertTopology declared (tests, or an operator resetting a prefix). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  for (const service of consumerServices) await channel.deleteQueue(queueNameOf(names, service));
  await channel.deleteQueue(names.deadQueue);
  await channel.deleteExchange(names.exchange);
  await channel.deleteExchange(names.deadExchange);
}
