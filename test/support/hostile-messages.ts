/**
 * Hostile device messages: what a broken or malicious device can publish on its own, authorised
 * topics. Each kind builds one message that carries a unique marker in its bytes, so a test or
 * the hostile bench can find its quarantine record (ingress_rejects.payload) afterwards.
 *
 * Used by test/edge/hostile-ingest.test.ts (with fast-check choosing kinds and values) and by
 * `npm run bench -- hostile` (cycling through every kind).
 */
import { randomUUID } from 'node:crypto';
import { deviceEventTopic, telemetryTopic, type DeviceAddress } from '../../domain/contracts';

export interface HostileMessage {
  kind: string;
  topic: string;
  payload: Buffer;
  /** The reject reason the bridge must record, when one is certain. */
  reason?: string | RegExp;
}

/** A value chosen by the generator (fast-check or the bench's cycle) to vary a kind. */
export type Knob = number;

function envelope(d: DeviceAddress, marker: string, overrides: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) {
  return {
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: `hostile-${marker}`,
    event_type: 'telemetry.reading',
    tenant_id: d.tenantId,
    device_id: d.deviceId,
    ts: new Date().toISOString(),
    ...overrides,
    payload: { metric: 'temperature', value: 21.5, unit: 'C', ...payload },
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const temperature = (d: DeviceAddress) => telemetryTopic(d, 'temperature');

/** Strings that JSON carries but Postgres text cannot store. */
const unstorable = ['\u0000', 'a\u0000b', '\ud800', '\udfff x', '\u0007', '\u001b[31m'];
/** Times ISO 8601 allows and Postgres or FarmIQ does not. */
const badTimes = ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2100-01-01T00:00:00Z', '1999-12-31T23:59:59.999Z'];
/** Numbers at and past the edges of the columns. */
const badValues: unknown[] = [1e308, -1e308, 1.7976931348623157e308, 1e10, '21.5', null, [], {}, true];

export const hostileKinds: readonly ((d: DeviceAddress, marker: string, knob: Knob) => HostileMessage)[] = [
  (d, m, k) => {
    const s = unstorable[k % unstorable.length];
    const field = (['trace_id', 'unit'] as const)[k % 2];
    const msg = field === 'trace_id' ? envelope(d, m, { trace_id: `${m}${s}` }) : envelope(d, m, {}, { unit: `C${s}` });
    return {
      kind: `unstorable_${field}`,
      topic: temperature(d),
      payload: json(msg),
      reason: field === 'trace_id' ? 'schema_violation:trace_id' : 'schema_violation:payload.unit',
    };
  },
  (d, m, k) => ({
    kind: 'bad_time',
    topic: temperature(d),
    payload: json(envelope(d, m, { ts: badTimes[k % badTimes.length] })),
    reason: 'schema_violation:ts',
  }),
  (d, m, k) => ({
    kind: 'bad_value',
    topic: temperature(d),
    payload: json(envelope(d, m, {}, { value: badValues[k % badValues.length] })),
    reason: 'schema_violation:payload.value',
  }),
  (d, m) => ({
    // JSON.parse turns 1e400 into Infinity; the text is valid JSON.
    kind: 'infinite_value',
    topic: temperature(d),
    payload: Buffer.from(JSON.stringify(envelope(d, m)).replace('"value":21.5', '"value":1e400')),
    reason: 'schema_violation:payload.value',
  }),
  (d, m, k) => {
    // Up to 29,000 levels, still under the 64 KiB limit: as unit (checked) or as an unknown field (stripped).
    const depth = 1000 + (k % 5) * 7000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const text = JSON.stringify(envelope(d, m));
    if (k % 2 === 0)
      return {
        kind: 'deep_json',
        topic: temperature(d),
        payload: Buffer.from(text.replace('"unit":"C"', `"unit":${deep}`)),
        reason: 'schema_violation:payload.unit',
      };
    return {
      kind: 'deep_json_extra',
      topic: temperature(d),
      payload: Buffer.from(text.replace('"unit":"C"', `"unit":"C","extra":${deep}`).replace('"schema_version":"1.0"', '"schema_version":"2.0"')),
      reason: 'schema_violation:schema_version',
    };
  },
  (d, m) => ({
    kind: 'invalid_utf8',
    topic: temperature(d),
    payload: Buffer.concat([Buffer.from(`{"trace_id":"${m}","x":"`), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]),
    reason: 'invalid_encoding',
  }),
  (d, m) => ({ kind: 'not_json', topic: temperature(d), payload: Buffer.from(`${m} {not json`), reason: 'invalid_json' }),
  (d, m) => ({ kind: 'json_array', topic: temperature(d), payload: json([m, 1, 2]), reason: 'schema_violation:$' }),
  (d, m) => ({
    kind: 'oversized',
    topic: temperature(d),
    payload: Buffer.concat([Buffer.from(m), Buffer.alloc(70 * 1024, 0x20)]),
    reason: 'payload_too_large',
  }),
  (d, m) => ({ kind: 'tenant_mismatch', topic: temperature(d), payload: json(envelope(d, m, { tenant_id: randomUUID() })), reason: 'tenant_mismatch' }),
  (d, m) => ({ kind: 'device_mismatch', topic: temperature(d), payload: json(envelope(d, m, { device_id: 'someone-else' })), reason: 'device_mismatch' }),
  (d, m) => ({ kind: 'metric_mismatch', topic: temperature(d), payload: json(envelope(d, m, {}, { metric: 'humidity' })), reason: 'metric_mismatch' }),
  (d, m) => ({
    kind: 'event_type_nul',
    topic: temperature(d),
    payload: json(envelope(d, m, { event_type: `telemetry.reading\u0000` })),
    reason: 'event_type_mismatch',
  }),
  (d, m) => ({
    kind: 'unknown_event',
    topic: deviceEventTopic(d, 'feed.dispensed').replace(/feed\.dispensed$/, 'feed.eaten'),
    payload: json(envelope(d, m)),
    reason: 'unknown_topic',
  }),
  (d, m, k) => ({
    kind: 'bad_feed',
    topic: deviceEventTopic(d, 'feed.dispensed'),
    payload: json(
      envelope(
        d,
        m,
        { event_type: 'feed.dispensed' },
        {
          metric: undefined,
          value: undefined,
          unit: undefined,
          ...[
            { quantity_kg: 0.0004, feed_type: 'starter' },
            { quantity_kg: 12, feed_type: 'starter', animal_count: 2 ** 31 },
            { quantity_kg: 12, feed_type: 'st\u0000arter' },
            { quantity_kg: 1e6, feed_type: 'starter' },
          ][k % 4],
        },
      ),
    ),
    reason: /^schema_violation:payload\./,
  }),
  (d, m) => ({ kind: 'bad_ids', topic: temperature(d), payload: json(envelope(d, m, { event_id: `${m}-not-a-uuid` })), reason: 'schema_violation:event_id' }),
];

/** One hostile message of kind `index` (mod the number of kinds). */
export function hostileMessage(d: DeviceAddress, index: number, knob: Knob, marker = randomUUID()): HostileMessage & { marker: string } {
  const kind = hostileKinds[((index % hostileKinds.length) + hostileKinds.length) % hostileKinds.length];
  return { ...kind(d, marker, Math.abs(knob)), marker };
}
