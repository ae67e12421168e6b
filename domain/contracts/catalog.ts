/**
 * The event catalog of spec §8: every event type with its payload schema, routing key on the
 * cloud RabbitMQ topic exchange, and the services that consume it.
 */
import { z } from 'zod';
import { envelopeBase } from './envelope';
import * as p from './payloads';
import * as flock from './flock-payloads';
import * as alarm from './alarm-payloads';

interface CatalogEntry<S extends z.ZodType> {
  payload: S;
  source: string;
  routingKey: string;
  consumers: readonly string[];
}

function entry<S extends z.ZodType>(e: CatalogEntry<S>): CatalogEntry<S> {
  return e;
}

export const eventCatalog = {
  'telemetry.reading': entry({
    payload: p.telemetryReading,
    source: 'iot-sensor-agent',
    routingKey: 'telemetry.ingested',
    consumers: ['cloud-telemetry-service'],
  }),
  'telemetry.aggregated': entry({
    payload: p.telemetryAggregated,
    source: 'edge-telemetry-timeseries',
    routingKey: 'telemetry.aggregated',
    consumers: ['cloud-analytics-service'],
  }),
  'weighvision.session.created': entry({
    payload: p.weighVisionSessionCreated,
    source: 'iot-weighvision-agent',
    routingKey: 'weighvision.session.created',
    consumers: ['cloud-telemetry-service'],
  }),
  'weighvision.weight.recorded': entry({
    payload: p.weighVisionWeightRecorded,
    source: 'iot-weighvision-agent',
    routingKey: 'weighvision.weight.recorded',
    consumers: ['cloud-telemetry-service'],
  }),
  'weighvision.session.finalized': entry({
    payload: p.weighVisionSessionFinalized,
    source: 'iot-weighvision-agent',
    routingKey: 'weighvision.session.finalized',
    consumers: ['cloud-telemetry-service', 'cloud-analytics-service'],
  }),
  // Edge-derived like telemetry.aggregated: the session result the edge concluded (docs/weighvision.md).
  'weighvision.session.concluded': entry({
    payload: p.weighVisionSessionConcluded,
    source: 'edge-weighvision-session',
    routingKey: 'weighvision.session.concluded',
    consumers: ['cloud-telemetry-service'],
  }),
  'media.stored': entry({
    payload: p.mediaStored,
    source: 'edge-media-store',
    routingKey: 'media.stored',
    consumers: ['cloud-media-store'],
  }),
  'inference.completed': entry({
    payload: p.inferenceCompleted,
    source: 'edge-vision-inference',
    routingKey: 'inference.completed',
    consumers: ['cloud-analytics-service'],
  }),
  'feed.dispensed': entry({
    payload: p.feedDispensed,
    source: 'iot-feed-dispenser',
    // Device-side only: the edge turns it into feed.intake.recorded and never syncs it as is.
    routingKey: 'feed.dispensed',
    consumers: ['edge-feed-intake'],
  }),
  'feed.intake.recorded': entry({
    payload: p.feedIntakeRecorded,
    source: 'edge-feed-intake',
    routingKey: 'feed.intake.recorded',
    consumers: ['cloud-feed-service'],
  }),
  'flock.placed': entry({
    payload: flock.flockPlaced,
    source: 'edge-flocks',
    routingKey: 'flock.placed',
    consumers: ['cloud-flock-service'],
  }),
  'flock.mortality.recorded': entry({
    payload: flock.flockMortalityRecorded,
    // A mortality counter over MQTT, or an operator through the edge API (payload.source says which).
    source: 'iot-mortality-counter',
    routingKey: 'flock.mortality.recorded',
    consumers: ['cloud-flock-service'],
  }),
  'flock.depopulated': entry({
    payload: flock.flockDepopulated,
    source: 'edge-flocks',
    routingKey: 'flock.depopulated',
    consumers: ['cloud-flock-service'],
  }),
  // Raised, escalated, acknowledged and cleared on the farm server (alarms/, docs/alarms.md); the
  // forwarder sends them in the live lane ahead of any backlog (sync/outbox/priority.ts).
  'alarm.raised': entry({
    payload: alarm.alarmRaised,
    source: 'edge-alarms',
    routingKey: 'alarm.raised',
    consumers: ['cloud-alarm-service'],
  }),
  'alarm.escalated': entry({
    payload: alarm.alarmEscalated,
    source: 'edge-alarms',
    routingKey: 'alarm.escalated',
    consumers: ['cloud-alarm-service'],
  }),
  'alarm.acknowledged': entry({
    payload: alarm.alarmAcknowledged,
    source: 'edge-alarms',
    routingKey: 'alarm.acknowledged',
    consumers: ['cloud-alarm-service'],
  }),
  'alarm.cleared': entry({
    payload: alarm.alarmCleared,
    source: 'edge-alarms',
    routingKey: 'alarm.cleared',
    consumers: ['cloud-alarm-service'],
  }),
  'sync.batch.sent': entry({
    payload: p.syncBatchSent,
    source: 'edge-sync-forwarder',
    routingKey: 'sync.batch.sent',
    consumers: ['internal-monitoring'],
  }),
  'sync.batch.acked': entry({
    payload: p.syncBatchAcked,
    source: 'edge-sync-forwarder',
    routingKey: 'sync.batch.acked',
    consumers: ['internal-monitoring'],
  }),
} as const;

export type EventType = keyof typeof eventCatalog;
export const eventTypes = Object.keys(eventCatalog) as EventType[];

type EventOf<T extends EventType> = z.infer<typeof envelopeBase> & {
  event_type: T;
  payload: z.infer<(typeof eventCatalog)[T]['payload']>;
};

export type FarmEvent = { [T in EventType]: EventOf<T> }[EventType];
export type TelemetryReadingEvent = EventOf<'telemetry.reading'>;
export type TelemetryAggregatedEvent = EventOf<'telemetry.aggregated'>;
export type FeedDispensedEvent = EventOf<'feed.dispensed'>;
export type FeedIntakeRecordedEvent = EventOf<'feed.intake.recorded'>;
export type FlockPlacedEvent = EventOf<'flock.placed'>;
export type FlockMortalityRecordedEvent = EventOf<'flock.mortality.recorded'>;
export type FlockDepopulatedEvent = EventOf<'flock.depopulated'>;
export type AlarmEvent = EventOf<'alarm.raised' | 'alarm.escalated' | 'alarm.acknowledged' | 'alarm.cleared'>;
export type WeighVisionEvent = EventOf<'weighvision.session.created' | 'weighvision.weight.recorded' | 'weighvision.session.finalized'>;

function envelopeFor<T extends EventType>(type: T) {
  return envelopeBase.extend({ event_type: z.literal(type), payload: eventCatalog[type].payload });
}

const envelopes = eventTypes.map((t) => envelopeFor(t));

/** The full envelope: any catalog event, discriminated on event_type. */
export const farmEventSchema = z.discriminatedUnion(
  'event_type',
  envelopes as unknown as [ReturnType<typeof envelopeFor>, ...ReturnType<typeof envelopeFor>[]],
) as unknown as z.ZodType<FarmEvent>;

/** Events that an edge may send to the cloud (the device-only feed.dispensed never is). */
export const syncableEventTypes = eventTypes.filter((t) => t !== 'feed.dispensed');

export function routingKeyOf(type: EventType): string {
  return eventCatalog[type].routingKey;
}
