/**
 * The device/edge event envelope of spec §2.5. Every event that crosses a boundary (MQTT, the
 * outbox, the cloud ingestion API, RabbitMQ) is one of these.
 */
import { z } from 'zod';
import { identifierPattern } from './identifiers';
import { eventTime, text } from './storable';

/** Identifiers that also appear as MQTT topic segments, object keys and workflow ids (identifiers.ts). */
export const topicSegment = z.string().regex(identifierPattern, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -, not only dots');

export const envelopeBase = z.object({
  schema_version: z.string().regex(/^1\.\d+$/, 'only schema 1.x is supported'),
  event_id: z.uuid(),
  trace_id: text(1, 128),
  tenant_id: z.uuid(),
  device_id: topicSegment,
  ts: eventTime,
  /**
   * Where the event happened. Devices need not send these (their topic says it); the edge fills
   * them in from the authenticated topic before the event leaves for the cloud.
   */
  farm_id: topicSegment.optional(),
  barn_id: topicSegment.optional(),
  /** WeighVision events: the session named in the topic, likewise filled in by the edge. */
  session_id: topicSegment.optional(),
});

export type EnvelopeBase = z.infer<typeof envelopeBase>;
