/**
 * The event catalog against spec §8 (data-flows.md): every event type, its routing key and its
 * consumers, one valid example each, and the invalid inputs each one must refuse with the zod
 * issue pointing at the offending field.
 */
import { eventCatalog, eventTypes, farmEventSchema, routingKeyOf, syncableEventTypes, type EventType } from '../../domain/contracts';
import { validEvent } from '../support/events';

/**
 * Spec §8 tables, transcribed. Two spellings are normalised to service-name form:
 * the spec's "Internal monitoring" is `internal-monitoring`, and "`cloud-media-store` (optional)"
 * is `cloud-media-store`. feed.dispensed is not in §8: it is the device event of §4 (consumed on
 * the edge by edge-feed-intake, never synced).
 */
interface SpecRow {
  source: string;
  routingKey: string;
  consumers: string[];
}
const spec: Record<string, SpecRow> = {
  // §8.1 Telemetry
  'telemetry.reading': { source: 'iot-sensor-agent', routingKey: 'telemetry.ingested', consumers: ['cloud-telemetry-service'] },
  'telemetry.aggregated': { source: 'edge-telemetry-timeseries', routingKey: 'telemetry.aggregated', consumers: ['cloud-analytics-service'] },
  // §8.2 WeighVision
  'weighvision.session.created': { source: 'iot-weighvision-agent', routingKey: 'weighvision.session.created', consumers: ['cloud-telemetry-service'] },
  'weighvision.weight.recorded': { source: 'iot-weighvision-agent', routingKey: 'weighvision.weight.recorded', consumers: ['cloud-telemetry-service'] },
  'weighvision.session.finalized': {
    source: 'iot-weighvision-agent',
    routingKey: 'weighvision.session.finalized',
    consumers: ['cloud-telemetry-service', 'cloud-analytics-service'],
  },
  // Edge-derived beyond §8 (issue 10, one truth for a weighing): the session result the edge concluded.
  'weighvision.session.concluded': { source: 'edge-weighvision-session', routingKey: 'weighvision.session.concluded', consumers: ['cloud-telemetry-service'] },
  // §8.3 Media
  'media.stored': { source: 'edge-media-store', routingKey: 'media.stored', consumers: ['cloud-media-store'] },
  // §8.4 Inference
  'inference.completed': { source: 'edge-vision-inference', routingKey: 'inference.completed', consumers: ['cloud-analytics-service'] },
  // §8.5 Feed
  'feed.intake.recorded': { source: 'edge-feed-intake', routingKey: 'feed.intake.recorded', consumers: ['cloud-feed-service'] },
  // Flocks beyond §8 (issue 10, docs/flocks.md): placement, a day's deaths and culls, depopulation.
  'flock.placed': { source: 'edge-flocks', routingKey: 'flock.placed', consumers: ['cloud-flock-service'] },
  'flock.mortality.recorded': { source: 'iot-mortality-counter', routingKey: 'flock.mortality.recorded', consumers: ['cloud-flock-service'] },
  'flock.depopulated': { source: 'edge-flocks', routingKey: 'flock.depopulated', consumers: ['cloud-flock-service'] },
  // Alarms beyond §8 (issue 13, docs/alarms.md): raised, escalated, acknowledged and cleared on the farm server.
  'alarm.raised': { source: 'edge-alarms', routingKey: 'alarm.raised', consumers: ['cloud-alarm-service'] },
  'alarm.escalated': { source: 'edge-alarms', routingKey: 'alarm.escalated', consumers: ['cloud-alarm-service'] },
  'alarm.acknowledged': { source: 'edge-alarms', routingKey: 'alarm.acknowledged', consumers: ['cloud-alarm-service'] },
  'alarm.cleared': { source: 'edge-alarms', routingKey: 'alarm.cleared', consumers: ['cloud-alarm-service'] },
  // §8.6 Sync
  'sync.batch.sent': { source: 'edge-sync-forwarder', routingKey: 'sync.batch.sent', consumers: ['internal-monitoring'] },
  'sync.batch.acked': { source: 'edge-sync-forwarder', routingKey: 'sync.batch.acked', consumers: ['internal-monitoring'] },
};
const deviceOnly: Record<string, SpecRow> = {
  'feed.dispensed': { source: 'iot-feed-dispenser', routingKey: 'feed.dispensed', consumers: ['edge-feed-intake'] },
};
const expected: Record<string, SpecRow> = { ...spec, ...deviceOnly };

type Json = Record<string, unknown>;
type Path = (string | number)[];

/**
 * Parses `value` and returns the distinct issue paths, or null when it was accepted. (One bad
 * field may raise several issues at the same path, e.g. an empty id fails both min and regex.)
 */
function issuePaths(value: unknown): Path[] | null {
  const r = farmEventSchema.safeParse(value);
  if (r.success) return null;
  const unique = new Map(r.error.issues.map((i) => [JSON.stringify(i.path), i.path as Path]));
  return [...unique.values()];
}

function withoutPayloadField(type: EventType, field: string): Json {
  const e = validEvent(type) as unknown as Json;
  delete (e.payload as Json)[field];
  return e;
}

function withPayloadField(type: EventType, field: string, value: unknown): Json {
  const e = validEvent(type) as unknown as Json;
  (e.payload as Json)[field] = value;
  return e;
}

function withEnvelopeField(type: EventType, field: string, value: unknown): Json {
  const e = validEvent(type) as unknown as Json;
  if (value === undefined) delete e[field];
  else e[field] = value;
  return e;
}

describe('catalog membership', () => {
  it('has exactly the spec §8 event types plus feed.dispensed', () => {
    expect([...eventTypes].sort()).toEqual(Object.keys(expected).sort());
    expect(new Set(eventTypes).size).toBe(eventTypes.length);
  });

  it('marks every type but feed.dispensed as syncable to the cloud', () => {
    expect([...syncableEventTypes].sort()).toEqual(Object.keys(spec).sort());
  });
});

describe.each(eventTypes)('%s', (type) => {
  const entry = eventCatalog[type];

  it('has the routing key, source and consumers of spec §8', () => {
    const want = expected[type];
    expect(entry.routingKey).toBe(want.routingKey);
    expect(routingKeyOf(type)).toBe(want.routingKey);
    expect(entry.source).toBe(want.source);
    expect([...entry.consumers]).toEqual(want.consumers);
  });

  it('accepts a valid example and returns it unchanged', () => {
    const event = validEvent(type);
    const r = farmEventSchema.safeParse(event);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(event);
  });

  it('accepts the example after a JSON round trip (what arrives over the wire)', () => {
    expect(issuePaths(JSON.parse(JSON.stringify(validEvent(type))))).toBeNull();
  });

  it('strips unknown envelope and payload fields instead of passing them on', () => {
    const event = validEvent(type) as unknown as Json;
    const r = farmEventSchema.safeParse({ ...event, extra: 1, payload: { ...(event.payload as Json), extra: 2 } });
    expect(r.success).toBe(true);
    expect(r.data).toEqual(event);
  });

  const payload = validEvent(type).payload as Json;
  const payloadShape = (entry.payload as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape;
  const requiredFields = Object.keys(payloadShape).filter((k) => !payloadShape[k].safeParse(undefined).success);
  const optionalFields = Object.keys(payloadShape).filter((k) => !requiredFields.includes(k));

  it('has a valid example that sets every payload field', () => {
    expect(Object.keys(payload).sort()).toEqual(Object.keys(payloadShape).sort());
  });

  if (requiredFields.length > 0) {
    it.each(requiredFields)('rejects a payload without required field %s at payload.<field>', (field) => {
      expect(issuePaths(withoutPayloadField(type, field))).toEqual([['payload', field]]);
    });
  }

  if (optionalFields.length > 0) {
    it.each(optionalFields)('accepts a payload without optional field %s', (field) => {
      expect(issuePaths(withoutPayloadField(type, field))).toBeNull();
    });
  }

  it.each(Object.keys(payloadShape))('rejects a wrongly typed payload field %s at payload.<field>', (field) => {
    const current = payload[field];
    const wrong =
      typeof current === 'string'
        ? 42
        : typeof current === 'number'
          ? String(current)
          : typeof current === 'boolean'
            ? 'true'
            : Array.isArray(current)
              ? { length: 0 }
              : 'x';
    expect(issuePaths(withPayloadField(type, field, wrong))).toEqual([['payload', field]]);
    expect(issuePaths(withPayloadField(type, field, null))).toEqual([['payload', field]]);
  });

  it('rejects a missing or non-object payload at payload', () => {
    expect(issuePaths(withEnvelopeField(type, 'payload', undefined))).toEqual([['payload']]);
    expect(issuePaths(withEnvelopeField(type, 'payload', []))).toEqual([['payload']]);
    expect(issuePaths(withEnvelopeField(type, 'payload', 'x'))).toEqual([['payload']]);
  });

  const envelopeCases: [string, string, unknown][] = [
    ['a non-uuid event_id', 'event_id', 'not-a-uuid'],
    ['an event_id one hex digit short', 'event_id', '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e000'],
    ['an event_id with a bad variant nibble', 'event_id', '018f1a84-bb0e-7d3f-c2e4-9e8b5f8e0001'],
    ['a numeric event_id', 'event_id', 12345],
    ['a missing event_id', 'event_id', undefined],
    ['a non-uuid tenant_id', 'tenant_id', 'tenant-a'],
    ['a missing tenant_id', 'tenant_id', undefined],
    ['a ts without timezone', 'ts', '2025-01-01T10:00:00'],
    ['a date-only ts', 'ts', '2025-01-01'],
    ['an epoch-millis ts', 'ts', 1735725600000],
    ['an impossible calendar ts', 'ts', '2025-02-30T10:00:00Z'],
    ['schema_version "2.0"', 'schema_version', '2.0'],
    ['schema_version "1"', 'schema_version', '1'],
    ['a numeric schema_version', 'schema_version', 1.0],
    ['an empty trace_id', 'trace_id', ''],
    ['a 129-character trace_id', 'trace_id', 't'.repeat(129)],
    ['a device_id with a topic separator', 'device_id', 'dev/1'],
    ['a device_id with an MQTT wildcard', 'device_id', 'dev+1'],
    ['an empty device_id', 'device_id', ''],
    ['a 65-character device_id', 'device_id', 'd'.repeat(65)],
  ];
  it.each(envelopeCases)('rejects %s at the field', (_name, field, value) => {
    expect(issuePaths(withEnvelopeField(type, field, value))).toEqual([[field]]);
  });

  it('accepts a ts with a numeric offset and fractional seconds, and schema 1.x', () => {
    expect(issuePaths(withEnvelopeField(type, 'ts', '2025-01-01T17:00:00.125+07:00'))).toBeNull();
    expect(issuePaths(withEnvelopeField(type, 'schema_version', '1.3'))).toBeNull();
  });

  it('rejects an unknown or missing event_type at event_type', () => {
    expect(issuePaths(withEnvelopeField(type, 'event_type', `${type}.v2`))).toEqual([['event_type']]);
    expect(issuePaths(withEnvelopeField(type, 'event_type', 'feed.eaten'))).toEqual([['event_type']]);
    expect(issuePaths(withEnvelopeField(type, 'event_type', undefined))).toEqual([['event_type']]);
  });
});

/** Range and format cases per type: [event type, field, bad value, why]. Paths are payload.<field> unless given. */
const outOfRange: [EventType, string, unknown, string, Path?][] = [
  ['telemetry.reading', 'value', Infinity, 'Infinity'],
  ['telemetry.reading', 'value', -Infinity, '-Infinity'],
  ['telemetry.reading', 'value', NaN, 'NaN'],
  ['telemetry.reading', 'metric', 'temp/inside', 'a topic separator in metric'],
  ['telemetry.reading', 'metric', '#', 'an MQTT wildcard as metric'],
  ['telemetry.reading', 'unit', '', 'an empty unit'],
  ['telemetry.reading', 'unit', 'u'.repeat(17), 'a 17-character unit'],
  ['telemetry.aggregated', 'window', '5m', 'an unsupported window'],
  ['telemetry.aggregated', 'count', 0, 'zero count'],
  ['telemetry.aggregated', 'count', 2.5, 'a fractional count'],
  ['telemetry.aggregated', 'revision', 0, 'revision 0'],
  ['telemetry.aggregated', 'mean', Infinity, 'an infinite mean'],
  ['telemetry.aggregated', 'min', NaN, 'a NaN min'],
  ['telemetry.aggregated', 'window_start', '2025-01-01T10:00:00', 'a window_start without timezone'],
  ['telemetry.aggregated', 'window_end', 'yesterday', 'a non-ISO window_end'],
  ['weighvision.session.created', 'batch_id', 'batch-7', 'a non-uuid batch_id'],
  ['weighvision.weight.recorded', 'weight_kg', -1, 'a negative weight_kg'],
  ['weighvision.weight.recorded', 'weight_kg', 0, 'a zero weight_kg'],
  ['weighvision.weight.recorded', 'weight_kg', 5000.01, 'weight_kg above 5000'],
  ['weighvision.weight.recorded', 'weight_kg', Infinity, 'an infinite weight_kg'],
  ['weighvision.weight.recorded', 'stable', 'yes', 'a string stable flag'],
  ['weighvision.session.finalized', 'image_count', 2.5, 'a non-integer image_count'],
  ['weighvision.session.finalized', 'image_count', -1, 'a negative image_count'],
  ['weighvision.session.finalized', 'image_count', 101, 'image_count above 100'],
  ['media.stored', 'content_type', 'image/gif', 'an unsupported content_type'],
  ['media.stored', 'size_bytes', 0, 'zero size_bytes'],
  ['media.stored', 'size_bytes', 10.5, 'fractional size_bytes'],
  ['media.stored', 'media_id', 'media-1', 'a non-uuid media_id'],
  ['media.stored', 'object_key', '', 'an empty object_key'],
  ['media.stored', 'object_key', 'k'.repeat(513), 'a 513-character object_key'],
  ['media.stored', 'session_id', 'a/b', 'a topic separator in session_id'],
  ['weighvision.session.concluded', 'status', 'finalizing', 'a status a session is never concluded with'],
  ['weighvision.session.concluded', 'weight_kg', 0, 'a zero session weight'],
  ['weighvision.session.concluded', 'calibration_factor', 0, 'a zero calibration factor'],
  ['weighvision.session.concluded', 'quality_flags', ['scale_drift_suspected', 'upside_down'], 'an unknown quality flag', ['payload', 'quality_flags', 1]],
  ['inference.completed', 'confidence', 1.01, 'confidence above 1'],
  ['inference.completed', 'confidence', -0.01, 'negative confidence'],
  ['inference.completed', 'estimated_weight_kg', -0.5, 'a negative estimated_weight_kg'],
  ['inference.completed', 'estimated_weight_kg', 5001, 'estimated_weight_kg above 5000'],
  ['inference.completed', 'inference_ms', -1, 'negative inference_ms'],
  ['inference.completed', 'model_id', '', 'an empty model_id'],
  ['inference.completed', 'quality_flags', ['blurred', 'upside_down'], 'an unknown quality flag', ['payload', 'quality_flags', 1]],
  ['feed.dispensed', 'quantity_kg', 0, 'zero quantity_kg'],
  ['feed.dispensed', 'quantity_kg', -5, 'negative quantity_kg'],
  ['feed.dispensed', 'quantity_kg', 100000.5, 'quantity_kg above 100000'],
  ['feed.dispensed', 'feed_type', '', 'an empty feed_type'],
  ['feed.dispensed', 'animal_count', 0, 'zero animal_count'],
  ['feed.dispensed', 'animal_count', 2.5, 'fractional animal_count'],
  ['feed.dispensed', 'silo_id', 'silo+1', 'an MQTT wildcard in silo_id'],
  ['feed.intake.recorded', 'quantity_kg', -5, 'negative quantity_kg'],
  ['feed.intake.recorded', 'source_event_id', 'evt-1', 'a non-uuid source_event_id'],
  ['feed.intake.recorded', 'dispensed_at', '2025-01-01 09:59:58', 'a dispensed_at without T and timezone'],
  ['feed.intake.recorded', 'farm_id', '', 'an empty farm_id'],
  ['sync.batch.sent', 'event_count', -1, 'negative event_count'],
  ['sync.batch.sent', 'event_count', 1.5, 'fractional event_count'],
  ['sync.batch.sent', 'attempt', 0, 'attempt 0'],
  ['sync.batch.sent', 'edge_id', '', 'an empty edge_id'],
  ['sync.batch.sent', 'batch_id', 'b'.repeat(201), 'a 201-character batch_id'],
  ['sync.batch.acked', 'accepted', -1, 'negative accepted'],
  ['sync.batch.acked', 'duplicate', 1.5, 'fractional duplicate'],
  ['sync.batch.acked', 'rejected', -3, 'negative rejected'],
  ['flock.placed', 'flock_id', 'flock-7', 'a non-uuid flock_id'],
  ['flock.placed', 'species', 'turkey', 'a species FarmIQ has no reference for'],
  ['flock.placed', 'head_count', 0, 'zero head_count'],
  ['flock.placed', 'head_count', 1_000_001, 'head_count above a million'],
  ['flock.placed', 'age_at_placement_days', -1, 'a negative age_at_placement_days'],
  ['flock.placed', 'breed', 'ross 308', 'a space in breed'],
  ['flock.placed', 'sex', 'hens', 'an unknown sex'],
  ['flock.placed', 'placed_at', '2025-01-01', 'a date-only placed_at'],
  ['flock.mortality.recorded', 'day', '2025-02-30', 'an impossible day'],
  ['flock.mortality.recorded', 'day', '2025-01-01T00:00:00Z', 'a time instead of a day'],
  ['flock.mortality.recorded', 'dead', -1, 'negative dead'],
  ['flock.mortality.recorded', 'culled', 1.5, 'fractional culled'],
  ['flock.mortality.recorded', 'source', 'vet', 'an unknown source'],
  ['flock.mortality.recorded', 'reason', 'r'.repeat(201), 'a 201-character reason'],
  ['flock.depopulated', 'depopulated_at', 'tomorrow', 'a non-ISO depopulated_at'],
  ['flock.depopulated', 'barn_id', 'barn/1', 'a topic separator in barn_id'],
  ['alarm.raised', 'severity', 'panic', 'an unknown severity'],
  ['alarm.raised', 'rule_id', 'rule/1', 'a topic separator in rule_id'],
  ['alarm.escalated', 'channels', ['pager'], 'an unknown channel', ['payload', 'channels', 0]],
  ['alarm.escalated', 'recipients', ['role:manager'], 'a role the dashboard does not have', ['payload', 'recipients', 0]],
  ['alarm.escalated', 'recipients', ['everyone'], 'a recipient that is neither a role nor a user', ['payload', 'recipients', 0]],
  ['alarm.acknowledged', 'source', 'email', 'an unknown acknowledgement source'],
  ['alarm.cleared', 'reason', 'timeout', 'an unknown clear reason'],
  ['alarm.cleared', 'cleared_at', 'now', 'a non-ISO cleared_at'],
  ['telemetry.reading', 'source_unit', '', 'an empty source_unit'],
  ['telemetry.reading', 'source_value', NaN, 'a NaN source_value'],
  // What the database could not hold (storable.ts).
  ['telemetry.reading', 'value', Number.MAX_VALUE, 'a value whose rollup sum overflows float8'],
  ['telemetry.reading', 'unit', 'C\u0000', 'NUL in text'],
  ['telemetry.reading', 'unit', '\ud800C', 'a lone surrogate'],
  ['telemetry.aggregated', 'mean', -1e10, 'mean beyond the measurement range'],
  ['telemetry.aggregated', 'revision', 2 ** 31, 'revision beyond integer'],
  ['telemetry.aggregated', 'window_start', '0000-01-01T00:00:00Z', 'year 0, which Postgres refuses'],
  ['feed.dispensed', 'quantity_kg', 0.0004, 'rounds to 0.000 in numeric(12,3)'],
  ['feed.dispensed', 'animal_count', 2 ** 31, 'beyond integer'],
  ['feed.dispensed', 'feed_type', 'starter\u0007', 'a control character'],
  ['inference.completed', 'model_id', 'm\u0000', 'NUL in text'],
];

describe('out-of-range and malformed payload values', () => {
  it('covers every event type with at least one payload case', () => {
    const covered = new Set(outOfRange.map(([t]) => t));
    expect(eventTypes.filter((t) => !covered.has(t))).toEqual([]);
  });

  const rows = outOfRange.map(([type, field, value, why, path]) => [type, field, value, why, path ?? ['payload', field]] as const);
  it.each(rows)('%s rejects %s = %p (%s)', (type, field, value, _why, path) => {
    expect(issuePaths(withPayloadField(type, field, value))).toEqual([path]);
  });
});

/** Boundary values that must still be accepted: [event type, field, value]. */
const boundaries: [EventType, string, unknown][] = [
  ['telemetry.reading', 'value', -40],
  ['telemetry.reading', 'value', 0],
  ['telemetry.reading', 'value', 1e9],
  ['telemetry.reading', 'value', -1e9],
  ['feed.dispensed', 'quantity_kg', 0.001],
  ['feed.dispensed', 'animal_count', 2_147_483_647],
  ['telemetry.aggregated', 'window', '1h'],
  ['weighvision.weight.recorded', 'weight_kg', 5000],
  ['weighvision.weight.recorded', 'weight_kg', 0.001],
  ['weighvision.session.finalized', 'image_count', 0],
  ['weighvision.session.finalized', 'image_count', 100],
  ['media.stored', 'content_type', 'image/png'],
  ['inference.completed', 'confidence', 0],
  ['inference.completed', 'confidence', 1],
  ['inference.completed', 'estimated_weight_kg', 0],
  ['inference.completed', 'quality_flags', ['not_fully_in_frame', 'multiple_animals', 'empty_frame', 'blurred', 'scale_vision_disagree']],
  ['feed.dispensed', 'quantity_kg', 100000],
  ['sync.batch.sent', 'event_count', 0],
  ['sync.batch.acked', 'rejected', 0],
];

describe('boundary payload values', () => {
  it.each(boundaries)('%s accepts %s = %p', (type, field, value) => {
    expect(issuePaths(withPayloadField(type, field, value))).toBeNull();
  });
});
