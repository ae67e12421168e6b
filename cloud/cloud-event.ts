/**
 * An event as the cloud files it: a catalog envelope (domain/contracts) plus where it happened.
 *
 * The edge stamps `farm_id` and `barn_id` on every synced envelope from the authenticated MQTT
 * topic (envelopeBase), and for WeighVision events also `session_id`, the topic's
 * `session/{sessionId}` level, which the payloads of spec §3.4 do not carry. The cloud tables
 * need them (telemetry_raw.farm_id, weighvision_sessions.session_id …), so an event that lacks
 * them is rejected at ingestion with `schema_violation:<field>` — before it is deduped — instead
 * of becoming a poison message in a consumer queue.
 */
import { z } from 'zod';
import { farmEventSchema, schemaViolation, topicSegment, type EventType, type FarmEvent } from '../domain/contracts';

export type CloudEvent = FarmEvent & { session_id?: string };
export type CloudEventOf<T extends EventType> = Extract<FarmEvent, { event_type: T }> & { session_id?: string };

/** The envelope fields beyond envelopeBase that the cloud reads (unknown fields are otherwise dropped). */
const cloudPlacement = z.object({ session_id: topicSegment.optional() });

type PlacementField = 'farm_id' | 'barn_id' | 'session_id';

const requiredPlacement: Partial<Record<EventType, readonly PlacementField[]>> = {
  'telemetry.reading': ['farm_id', 'barn_id'],
  'weighvision.session.created': ['farm_id', 'barn_id', 'session_id'],
  'weighvision.weight.recorded': ['farm_id', 'barn_id', 'session_id'],
  'weighvision.session.finalized': ['farm_id', 'barn_id', 'session_id'],
  'weighvision.session.concluded': ['farm_id', 'barn_id', 'session_id'],
  'flock.mortality.recorded': ['farm_id', 'barn_id'],
};

export type ParsedCloudEvent = { ok: true; event: CloudEvent } | { ok: false; reason: string; detail: string; eventId?: string; tenantId?: string };

/** Ids of a broken event, when it has plausible ones, so its outcome can name it. */
function idsOf(raw: unknown): { eventId?: string; tenantId?: string } {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const id = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined);
  return { eventId: id(r.event_id), tenantId: id(r.tenant_id) };
}

/** Validates one event as the cloud needs it; never throws. */
export function parseCloudEvent(raw: unknown): ParsedCloudEvent {
  const parsed = farmEventSchema.safeParse(raw);
  if (!parsed.success) {
    const v = schemaViolation(parsed.error.issues);
    return { ok: false, reason: v.reason, detail: v.detail, ...idsOf(raw) };
  }
  const placement = cloudPlacement.safeParse(raw);
  if (!placement.success) {
    const v = schemaViolation(placement.error.issues);
    return { ok: false, reason: v.reason, detail: v.detail, ...idsOf(raw) };
  }
  const event: CloudEvent = placement.data.session_id ? { ...parsed.data, session_id: placement.data.session_id } : parsed.data;
  for (const field of requiredPlacement[event.event_type] ?? []) {
    if (event[field] === undefined) {
      return {
        ok: false,
        reason: `schema_violation:${field}`,
        detail: `${field}: required on ${event.event_type} sent to the cloud (the edge fills it in from the MQTT topic)`,
        eventId: event.event_id,
        tenantId: event.tenant_id,
      };
    }
  }
  return { ok: true, event };
}

/** `(tenant_id, event_id)` as Postgres compares uuids: case-insensitively. */
export function eventKey(tenantId: string, eventId: string): string {
  return `${tenantId.toLowerCase()}/${eventId.toLowerCase()}`;
}
