/**
 * Turns one raw MQTT message (topic + bytes) into a validated, typed farm event, or into a
 * rejection with a stable reason. It never throws: the bridge stores every rejection with its
 * reason and carries on (one bad message never blocks the rest).
 */
import { z } from 'zod';
import { envelopeBase } from './envelope';
import { eventCatalog, type EventType, type FarmEvent } from './catalog';
import { parseDeviceTopic, expectedEventType, type DeviceTopic } from './topics';
import { reject, schemaViolation, type Rejection } from './rejects';

export interface AcceptedMessage {
  ok: true;
  topic: DeviceTopic;
  event: FarmEvent;
}

export type DeviceMessageResult = AcceptedMessage | (Rejection & { topic?: DeviceTopic });

const schemas = new Map<EventType, z.ZodType>();
function schemaFor(type: EventType): z.ZodType {
  let s = schemas.get(type);
  if (!s) {
    s = envelopeBase.extend({ event_type: z.literal(type), payload: eventCatalog[type].payload });
    schemas.set(type, s);
  }
  return s;
}

/** Shows a declared event_type without ever throwing (String() throws on e.g. {"toString":1,"valueOf":1}). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, 64);
  if (Array.isArray(value)) return 'an array';
  return value !== null && typeof value === 'object' ? 'an object' : String(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseDeviceMessage(topicName: string, bytes: Uint8Array, maxBytes: number): DeviceMessageResult {
  try {
    return parse(topicName, bytes, maxBytes);
  } catch (err) {
    // Defensive: a validator bug must not take the bridge down; the message is quarantined.
    return reject('schema_violation:$', `unexpected validation error: ${(err as Error).message}`);
  }
}

function parse(topicName: string, bytes: Uint8Array, maxBytes: number): DeviceMessageResult {
  if (bytes.byteLength > maxBytes) {
    return reject('payload_too_large', `payload is ${bytes.byteLength} bytes; the limit is ${maxBytes}`);
  }
  const topic = parseDeviceTopic(topicName);
  if (!topic) return reject('unknown_topic', `topic ${JSON.stringify(topicName.slice(0, 200))} is not a FarmIQ device topic`);
  // Decided by the topic alone, before the bytes are looked at.
  const expected = expectedEventType(topic);
  if (!expected) return reject('unknown_topic', `no device event is published as ${topic.family === 'event' ? topic.eventName : topic.family}`);
  const withTopic = <R extends Rejection>(r: R) => ({ ...r, topic });

  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return withTopic(reject('invalid_encoding', 'payload is not valid UTF-8'));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return withTopic(reject('invalid_json', `payload is not JSON: ${(err as Error).message}`));
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return withTopic(reject('schema_violation:$', 'the envelope must be a JSON object'));
  }

  const declared = (json as { event_type?: unknown }).event_type;
  if (declared !== expected) {
    if (declared === undefined) return withTopic(reject('schema_violation:event_type', 'event_type: missing'));
    return withTopic(reject('event_type_mismatch', `topic carries ${expected} but the envelope says ${describe(declared)}`));
  }

  const parsed = schemaFor(expected).safeParse(json);
  if (!parsed.success) return withTopic(schemaViolation(parsed.error.issues));
  const event = parsed.data as FarmEvent;

  if (event.tenant_id !== topic.tenantId) {
    return withTopic(reject('tenant_mismatch', `topic tenant ${topic.tenantId} differs from envelope tenant ${event.tenant_id}`));
  }
  if (event.device_id !== topic.deviceId) {
    return withTopic(reject('device_mismatch', `topic device ${topic.deviceId} differs from envelope device ${event.device_id}`));
  }
  if (topic.family === 'telemetry' && event.event_type === 'telemetry.reading' && event.payload.metric !== topic.metric) {
    return withTopic(reject('metric_mismatch', `topic metric ${topic.metric} differs from payload metric ${event.payload.metric}`));
  }
  return { ok: true, topic, event };
}
