/**
 * Builders of valid catalog events for tests. Every value returned here parses with
 * `farmEventSchema`; tests that need an invalid event start from one of these and break it.
 *
 *   validEvent('weighvision.weight.recorded', { payload: { weight_kg: 98.2 } })
 *   telemetryReading({ tenantId, deviceId: 'sensor-1', metric: 'temperature', value: 26.4 })
 */
import { randomUUID } from 'node:crypto';
import type { EventType, FarmEvent } from '../../domain/contracts';

type EventOf<T extends EventType> = Extract<FarmEvent, { event_type: T }>;
type PayloadOf<T extends EventType> = EventOf<T>['payload'];

/** Envelope fields may be replaced; payload fields are merged into the default payload. */
export type EventOverrides<T extends EventType> = Partial<Omit<EventOf<T>, 'event_type' | 'payload'>> & {
  payload?: Partial<PayloadOf<T>>;
};

const defaults = {
  tenantId: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002',
  deviceId: 'device-001',
  ts: '2025-01-01T10:00:00Z',
};

/** One valid payload per catalog event type (a missing type is a compile error). */
const payloads: { [T in EventType]: PayloadOf<T> } = {
  // 79.52 °F = 26.4 °C: a reading the edge converted (source_* are set by the edge only).
  'telemetry.reading': { metric: 'temperature', value: 26.4, unit: 'C', source_value: 79.52, source_unit: 'F' },
  'telemetry.aggregated': {
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    metric: 'temperature',
    unit: 'C',
    window: '1m',
    window_start: '2025-01-01T10:00:00Z',
    window_end: '2025-01-01T10:01:00Z',
    count: 6,
    mean: 26.1,
    min: 25.8,
    max: 26.4,
    revision: 1,
  },
  'weighvision.session.created': { batch_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0400' },
  'weighvision.weight.recorded': { weight_kg: 120.5, stable: true },
  'weighvision.session.finalized': { image_count: 3 },
  'weighvision.session.concluded': {
    status: 'finalized',
    weight_kg: 120.5,
    weight_source: 'scale',
    scale_median_kg: 120.5,
    reading_count: 4,
    stable_reading_count: 3,
    vision_raw_kg: 115,
    vision_weight_kg: 119.6,
    vision_confidence: 0.91,
    calibration_factor: 1.04,
    images_inferred: 3,
    missing_images: 1,
    quality_flags: [],
    batch_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0400',
    failure_reason: '1 of 4 announced images never arrived',
  },
  'media.stored': {
    session_id: 'session-001',
    media_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0300',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    station_id: 'station-1',
    object_key: 'tenant/farm-1/barn-1/station-1/session-001/0001.jpg',
    content_type: 'image/jpeg',
    size_bytes: 482133,
  },
  'inference.completed': {
    session_id: 'session-001',
    media_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0300',
    model_id: 'weight-est-v3',
    estimated_weight_kg: 118.9,
    confidence: 0.91,
    quality_flags: [],
    inference_ms: 42,
  },
  'feed.dispensed': { quantity_kg: 12.5, feed_type: 'grower', silo_id: 'silo-1', pen_id: 'pen-4', animal_count: 40 },
  'feed.intake.recorded': {
    quantity_kg: 12.5,
    feed_type: 'grower',
    silo_id: 'silo-1',
    pen_id: 'pen-4',
    animal_count: 40,
    source_event_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0500',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    dispensed_at: '2025-01-01T09:59:58Z',
  },
  'flock.placed': {
    flock_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0600',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    placed_at: '2025-01-01T08:00:00Z',
    species: 'broiler',
    breed: 'ross-308',
    sex: 'mixed',
    head_count: 20000,
    age_at_placement_days: 0,
    placement_weight_kg: 0.042,
  },
  'flock.mortality.recorded': {
    flock_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0600',
    day: '2025-01-01',
    dead: 30,
    culled: 2,
    reason: 'leg problems',
    source: 'device',
  },
  'flock.depopulated': { flock_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0600', farm_id: 'farm-1', barn_id: 'barn-1', depopulated_at: '2025-02-06T06:00:00Z' },
  'alarm.raised': {
    alarm_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0700',
    rule_id: 'temperature-high',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    rule_kind: 'limit',
    severity: 'critical',
    metric: 'temperature',
    device_id: 'sensor-1',
    value: 35.2,
    threshold: 29,
    unit: 'C',
    condition_since: '2025-01-01T09:58:00Z',
    raised_at: '2025-01-01T10:00:00Z',
    summary: 'barn-1 temperature 35.2 C above 29 C for 2 min',
  },
  'alarm.escalated': {
    alarm_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0700',
    rule_id: 'temperature-high',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    severity: 'critical',
    step: 0,
    kind: 'step',
    channels: ['in_app', 'push'],
    recipients: ['role:operator'],
    delivered_locally: [],
    summary: 'barn-1 temperature 35.2 C above 29 C for 2 min',
    escalated_at: '2025-01-01T10:00:00Z',
  },
  'alarm.acknowledged': {
    alarm_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0700',
    rule_id: 'temperature-high',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    acknowledged_by: 'ana@farm.example',
    source: 'dashboard',
    note: 'fans restarted',
    acknowledged_at: '2025-01-01T10:03:00Z',
    command_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0800',
  },
  'alarm.cleared': {
    alarm_id: '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0700',
    rule_id: 'temperature-high',
    farm_id: 'farm-1',
    barn_id: 'barn-1',
    reason: 'condition',
    value: 27.5,
    acknowledged: true,
    cleared_at: '2025-01-01T10:20:00Z',
  },
  'sync.batch.sent': { edge_id: 'edge-001', batch_id: 'batch-0001', event_count: 250, attempt: 1 },
  'sync.batch.acked': { edge_id: 'edge-001', batch_id: 'batch-0001', accepted: 248, duplicate: 2, rejected: 0 },
};

/** A valid event of `type` with a fresh event_id; `overrides` replace envelope fields and merge into the payload. */
export function validEvent<T extends EventType>(type: T, overrides: EventOverrides<T> = {}): EventOf<T> {
  const { payload, ...envelope } = overrides;
  const base: object = payloads[type];
  const event = {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: `trace-${randomUUID()}`,
    tenant_id: defaults.tenantId,
    device_id: defaults.deviceId,
    ts: defaults.ts,
    ...envelope,
    event_type: type,
    payload: structuredClone({ ...base, ...payload }),
  };
  return event as unknown as EventOf<T>;
}

export interface TelemetryReadingInput {
  tenantId: string;
  deviceId: string;
  metric: string;
  value: number;
  ts?: string;
  /** Defaults by metric: temperature C, humidity %, co2/ammonia ppm, weight kg; otherwise "unit". */
  unit?: string;
  eventId?: string;
}

const defaultUnits: Record<string, string> = { temperature: 'C', humidity: '%', co2: 'ppm', ammonia: 'ppm', weight: 'kg' };

/** A valid telemetry.reading as a sensor publishes it on iot/telemetry/{tenantId}/…/{deviceId}/{metric}. */
export function telemetryReading(input: TelemetryReadingInput): EventOf<'telemetry.reading'> {
  const event = validEvent('telemetry.reading', {
    tenant_id: input.tenantId,
    device_id: input.deviceId,
    ts: input.ts ?? defaults.ts,
    ...(input.eventId ? { event_id: input.eventId } : {}),
    payload: { metric: input.metric, value: input.value, unit: input.unit ?? defaultUnits[input.metric] ?? 'unit' },
  });
  // What a sensor publishes: the edge's conversion note is not part of it.
  delete event.payload.source_value;
  delete event.payload.source_unit;
  return event;
}
