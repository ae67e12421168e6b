/**
 * parseDeviceMessage: one raw MQTT message (topic + bytes) to a typed event or a rejection with
 * a stable reason code. Each reason is checked with its exact string; the spec §2.5 and §3.4
 * example payloads are fed verbatim.
 */
import {
  deviceEventTopic,
  farmEventSchema,
  parseDeviceMessage,
  telemetryTopic,
  weighVisionTopic,
  type DeviceAddress,
  type DeviceMessageResult,
  type EventType,
} from '../../domain/contracts';
import { telemetryReading, validEvent } from '../support/events';

const MAX = 64 * 1024;
const tenantA = '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002';
const tenantB = '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0003';
const sensor: DeviceAddress = { tenantId: tenantA, farmId: 'farm-1', barnId: 'barn-1', deviceId: 'device-sensor-001' };
const station: DeviceAddress = { tenantId: tenantA, farmId: 'farm-1', barnId: 'barn-1', deviceId: 'weighvision-device-001' };
const dispenser: DeviceAddress = { tenantId: tenantA, farmId: 'farm-1', barnId: 'barn-1', deviceId: 'feeder-001' };

const tempTopic = telemetryTopic(sensor, 'temperature');
const bytes = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => bytes(JSON.stringify(value));
const reading = (over: Partial<{ tenantId: string; deviceId: string; metric: string; value: number }> = {}) =>
  telemetryReading({ tenantId: tenantA, deviceId: sensor.deviceId, metric: 'temperature', value: 26.4, ...over });

function rejected(r: DeviceMessageResult): { reason: string; detail: string } {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.event)}`);
  expect(r.detail.length).toBeGreaterThan(0);
  return { reason: r.reason, detail: r.detail };
}

function accepted(r: DeviceMessageResult) {
  if (!r.ok) throw new Error(`expected acceptance, got ${r.reason}: ${r.detail}`);
  expect(farmEventSchema.safeParse(r.event).success).toBe(true);
  return r;
}

describe('spec example payloads, verbatim', () => {
  const spec25 = `{
  "schema_version": "1.0",
  "event_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0001",
  "trace_id": "trace-id-123",
  "event_type": "telemetry.reading",
  "tenant_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002",
  "device_id": "device-sensor-001",
  "ts": "2025-01-01T10:00:00Z",
  "payload": {
    "metric": "temperature",
    "value": 26.4,
    "unit": "C"
  }
}`;
  const created = `{
  "schema_version": "1.0",
  "event_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0200",
  "trace_id": "trace-id-789",
  "event_type": "weighvision.session.created",
  "tenant_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002",
  "device_id": "weighvision-device-001",
  "ts": "2025-01-01T10:05:00Z",
  "payload": {
    "batch_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0400"
  }
}`;
  const weight = `{
  "schema_version": "1.0",
  "event_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0201",
  "trace_id": "trace-id-789",
  "event_type": "weighvision.weight.recorded",
  "tenant_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002",
  "device_id": "weighvision-device-001",
  "ts": "2025-01-01T10:05:10Z",
  "payload": {
    "weight_kg": 120.5
  }
}`;
  const finalized = `{
  "schema_version": "1.0",
  "event_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0202",
  "trace_id": "trace-id-789",
  "event_type": "weighvision.session.finalized",
  "tenant_id": "018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002",
  "device_id": "weighvision-device-001",
  "ts": "2025-01-01T10:07:00Z",
  "payload": {
    "image_count": 3
  }
}`;

  it('§2.5 telemetry.reading on its §2.4 topic', () => {
    const r = accepted(parseDeviceMessage(tempTopic, bytes(spec25), MAX));
    expect(r.event).toEqual(JSON.parse(spec25));
    expect(r.topic).toEqual({ family: 'telemetry', ...sensor, metric: 'temperature' });
  });

  it.each([
    ['session created', created, 'created'],
    ['weight recorded', weight, 'weight.recorded'],
    ['session finalized', finalized, 'finalized'],
  ] as const)('§3.4 %s on its §3.3 topic', (_name, text, step) => {
    const topic = weighVisionTopic(station, '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0300', step);
    const r = accepted(parseDeviceMessage(topic, bytes(text), MAX));
    expect(r.event).toEqual(JSON.parse(text));
    expect(r.topic).toMatchObject({ family: 'weighvision', step, deviceId: 'weighvision-device-001' });
  });

  it('§3.4 weight recorded on the finalized topic is an event_type_mismatch', () => {
    const topic = weighVisionTopic(station, 's1', 'finalized');
    expect(rejected(parseDeviceMessage(topic, bytes(weight), MAX)).reason).toBe('event_type_mismatch');
  });

  it('§2.5 on a humidity topic is a metric_mismatch', () => {
    expect(rejected(parseDeviceMessage(telemetryTopic(sensor, 'humidity'), bytes(spec25), MAX)).reason).toBe('metric_mismatch');
  });
});

describe('accepted messages', () => {
  it('telemetry.reading, with the typed topic and event', () => {
    const event = reading({ metric: 'co2', value: 812 });
    const r = accepted(parseDeviceMessage(telemetryTopic(sensor, 'co2'), json(event), MAX));
    expect(r.event).toEqual(event);
    expect(r.topic).toEqual({ family: 'telemetry', ...sensor, metric: 'co2' });
  });

  it.each([
    ['created', 'weighvision.session.created'],
    ['weight.recorded', 'weighvision.weight.recorded'],
    ['finalized', 'weighvision.session.finalized'],
  ] as const)('weighvision %s', (step, type) => {
    const event = validEvent(type, { device_id: station.deviceId });
    const r = accepted(parseDeviceMessage(weighVisionTopic(station, 'sess-1', step), json(event), MAX));
    expect(r.event).toEqual(event);
    expect(r.topic).toEqual({ family: 'weighvision', ...station, sessionId: 'sess-1', step });
  });

  it('feed.dispensed on the event topic', () => {
    const event = validEvent('feed.dispensed', { device_id: dispenser.deviceId });
    const r = accepted(parseDeviceMessage(deviceEventTopic(dispenser, 'feed.dispensed'), json(event), MAX));
    expect(r.event).toEqual(event);
    expect(r.topic).toEqual({ family: 'event', ...dispenser, eventName: 'feed.dispensed' });
  });

  it('a feed.dispensed with only the required fields', () => {
    const event = validEvent('feed.dispensed', { device_id: dispenser.deviceId });
    const minimal = { ...event, payload: { quantity_kg: 3, feed_type: 'starter' } };
    expect(accepted(parseDeviceMessage(deviceEventTopic(dispenser, 'feed.dispensed'), json(minimal), MAX)).event.payload).toEqual(minimal.payload);
  });

  it('drops unknown fields, including __proto__ keys, without polluting prototypes', () => {
    const text = JSON.stringify(reading()).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"extra":1,');
    const r = accepted(parseDeviceMessage(tempTopic, bytes(text), MAX));
    expect(Object.keys(r.event).sort()).toEqual(['device_id', 'event_id', 'event_type', 'payload', 'schema_version', 'tenant_id', 'trace_id', 'ts']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.event)).toBe(Object.prototype);
  });

  it('a payload of exactly maxBytes', () => {
    const body = json(reading());
    accepted(parseDeviceMessage(tempTopic, body, body.byteLength));
  });

  it('a UTF-8 payload with non-ASCII text (and a leading BOM)', () => {
    const event = reading();
    const text = JSON.stringify({ ...event, trace_id: 'trace-élevage-牧場-🐄' });
    accepted(parseDeviceMessage(tempTopic, bytes(text), MAX));
    accepted(parseDeviceMessage(tempTopic, bytes(`\uFEFF${text}`), MAX));
  });
});

describe('rejections, one per stable reason code', () => {
  describe('payload_too_large', () => {
    it('one byte over the limit, checked before anything else', () => {
      const body = json(reading());
      const r = rejected(parseDeviceMessage(tempTopic, body, body.byteLength - 1));
      expect(r.reason).toBe('payload_too_large');
      expect(r.detail).toContain(String(body.byteLength));
      expect(rejected(parseDeviceMessage('not/a/topic', new Uint8Array(10), 5)).reason).toBe('payload_too_large');
    });
  });

  describe('unknown_topic', () => {
    it.each([
      'iot/telemetry/x',
      `iot/telemetry/${tenantA}/farm-1/barn-1/device-sensor-001/+`,
      `iot/weighvision/${tenantA}/farm-1/barn-1/st/session/s/deleted`,
      `devices/${tenantA}/farm-1/barn-1/device-sensor-001/temperature`,
      '',
    ])('%p', (topic) => {
      const r = parseDeviceMessage(topic, json(reading()), MAX);
      expect(rejected(r).reason).toBe('unknown_topic');
    });

    it('an event topic for an event no device publishes, whatever the payload', () => {
      const topic = deviceEventTopic(dispenser, 'feed.dispensed').replace(/feed\.dispensed$/, 'feed.eaten');
      expect(rejected(parseDeviceMessage(topic, json(validEvent('feed.dispensed')), MAX)).reason).toBe('unknown_topic');
      expect(rejected(parseDeviceMessage(topic, bytes('not json'), MAX)).reason).toBe('unknown_topic');
      expect(rejected(parseDeviceMessage(topic, new Uint8Array([0xff]), MAX)).reason).toBe('unknown_topic');
    });
  });

  describe('invalid_encoding', () => {
    it.each([
      ['a lone 0xFF', [0xff]],
      ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
      ['an overlong "/"', [0x22, 0xc0, 0xaf, 0x22]],
      ['a truncated 3-byte sequence', [0x22, 0xe2, 0x82, 0x22]],
      ['a UTF-16 surrogate encoded in UTF-8', [0x22, 0xed, 0xa0, 0x80, 0x22]],
      ['a code point above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
    ])('%s', (_name, raw) => {
      const r = parseDeviceMessage(tempTopic, new Uint8Array(raw), MAX);
      expect(rejected(r).reason).toBe('invalid_encoding');
      expect(r.ok === false && r.topic).toMatchObject({ family: 'telemetry', metric: 'temperature' });
    });

    it('invalid bytes inside an otherwise valid envelope', () => {
      const good = json(reading({ value: 1 }));
      const bad = new Uint8Array([...good.slice(0, 20), 0xc3, 0x28, ...good.slice(20)]);
      expect(rejected(parseDeviceMessage(tempTopic, bad, MAX)).reason).toBe('invalid_encoding');
    });
  });

  describe('invalid_json', () => {
    it.each([
      ['empty payload', ''],
      ['plain text', 'temperature=26.4'],
      ['truncated object', '{"schema_version":"1.0"'],
      ['trailing comma', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
      ['NaN literal', '{"value":NaN}'],
      ['Infinity literal', '{"value":Infinity}'],
      ['two documents', '{}{}'],
    ])('%s', (_name, text) => {
      expect(rejected(parseDeviceMessage(tempTopic, bytes(text), MAX)).reason).toBe('invalid_json');
    });
  });

  describe('schema_violation:<path>', () => {
    it.each([
      ['a JSON array', '[]'],
      ['a JSON number', '26.4'],
      ['a JSON string', '"telemetry.reading"'],
      ['JSON null', 'null'],
      ['JSON true', 'true'],
    ])('%s is schema_violation:$', (_name, text) => {
      expect(rejected(parseDeviceMessage(tempTopic, bytes(text), MAX)).reason).toBe('schema_violation:$');
    });

    it('a missing event_type is schema_violation:event_type', () => {
      const { event_type: _omit, ...rest } = reading();
      expect(rejected(parseDeviceMessage(tempTopic, json(rest), MAX)).reason).toBe('schema_violation:event_type');
    });

    const cases: [string, (e: Record<string, unknown>) => unknown, string][] = [
      ['a string value', (e) => ({ ...e, payload: { ...(e.payload as object), value: '26.4' } }), 'schema_violation:payload.value'],
      ['a missing value', (e) => ({ ...e, payload: { metric: 'temperature', unit: 'C' } }), 'schema_violation:payload.value'],
      ['a missing payload', ({ payload: _p, ...e }) => e, 'schema_violation:payload'],
      ['a bad event_id', (e) => ({ ...e, event_id: 'evt-1' }), 'schema_violation:event_id'],
      ['a ts without timezone', (e) => ({ ...e, ts: '2025-01-01T10:00:00' }), 'schema_violation:ts'],
      ['schema_version 2.0', (e) => ({ ...e, schema_version: '2.0' }), 'schema_violation:schema_version'],
      ['a non-uuid tenant_id', (e) => ({ ...e, tenant_id: 'tenant-a' }), 'schema_violation:tenant_id'],
      ['a missing trace_id', ({ trace_id: _t, ...e }) => e, 'schema_violation:trace_id'],
    ];
    it.each(cases)('%s', (_name, mutate, reason) => {
      const r = rejected(parseDeviceMessage(tempTopic, json(mutate(reading())), MAX));
      expect(r.reason).toBe(reason);
      expect(r.detail.startsWith(`${reason.slice('schema_violation:'.length)}: `)).toBe(true);
    });

    it('a number too large for a double (1e400 parses as Infinity) is schema_violation:payload.value', () => {
      const text = JSON.stringify(reading({ value: 123 })).replace('"value":123', '"value":1e400');
      expect(rejected(parseDeviceMessage(tempTopic, bytes(text), MAX)).reason).toBe('schema_violation:payload.value');
    });

    it('a non-integer image_count is schema_violation:payload.image_count', () => {
      const event = validEvent('weighvision.session.finalized', { device_id: station.deviceId, payload: { image_count: 2.5 } });
      const r = parseDeviceMessage(weighVisionTopic(station, 's', 'finalized'), json(event), MAX);
      expect(rejected(r).reason).toBe('schema_violation:payload.image_count');
    });

    it('a negative weight_kg is schema_violation:payload.weight_kg', () => {
      const event = validEvent('weighvision.weight.recorded', { device_id: station.deviceId, payload: { weight_kg: -3 } });
      const r = parseDeviceMessage(weighVisionTopic(station, 's', 'weight.recorded'), json(event), MAX);
      expect(rejected(r).reason).toBe('schema_violation:payload.weight_kg');
    });

    it('a zero feed quantity is schema_violation:payload.quantity_kg', () => {
      const event = validEvent('feed.dispensed', { device_id: dispenser.deviceId, payload: { quantity_kg: 0 } });
      const r = parseDeviceMessage(deviceEventTopic(dispenser, 'feed.dispensed'), json(event), MAX);
      expect(rejected(r).reason).toBe('schema_violation:payload.quantity_kg');
    });

    it('a deeply nested value is rejected, not a stack overflow', () => {
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const text = JSON.stringify(reading({ value: 7 })).replace('"value":7', `"value":${deep}`);
      expect(rejected(parseDeviceMessage(tempTopic, bytes(text), 1_000_000)).reason).toBe('schema_violation:payload.value');
    });
  });

  describe('event_type_mismatch', () => {
    it('a feed.dispensed envelope on a telemetry topic', () => {
      const event = validEvent('feed.dispensed', { device_id: sensor.deviceId });
      const r = rejected(parseDeviceMessage(tempTopic, json(event), MAX));
      expect(r.reason).toBe('event_type_mismatch');
      expect(r.detail).toBe('topic carries telemetry.reading but the envelope says feed.dispensed');
    });

    it('a telemetry.reading envelope on the feed.dispensed topic', () => {
      const event = reading({ deviceId: dispenser.deviceId });
      expect(rejected(parseDeviceMessage(deviceEventTopic(dispenser, 'feed.dispensed'), json(event), MAX)).reason).toBe('event_type_mismatch');
    });

    it.each([
      ['created', 'weighvision.session.finalized'],
      ['weight.recorded', 'weighvision.session.created'],
      ['finalized', 'weighvision.weight.recorded'],
    ] as const)('a weighvision %s topic carrying %s', (step, type) => {
      const event = validEvent(type, { device_id: station.deviceId });
      expect(rejected(parseDeviceMessage(weighVisionTopic(station, 's', step), json(event), MAX)).reason).toBe('event_type_mismatch');
    });

    it.each([
      ['an unknown type', '"telemetry.readings"'],
      ['a number', '42'],
      ['null', 'null'],
      ['an array', '["telemetry.reading"]'],
      ['an object that String() cannot convert', '{"toString":1,"valueOf":1}'],
      ['a 100,000-deep array', '['.repeat(100_000) + ']'.repeat(100_000)],
    ])('an event_type that is %s', (_name, declared) => {
      const text = JSON.stringify(reading()).replace('"event_type":"telemetry.reading"', `"event_type":${declared}`);
      const r = rejected(parseDeviceMessage(tempTopic, bytes(text), 1_000_000));
      expect(r.reason).toBe('event_type_mismatch');
      expect(r.detail.length).toBeLessThan(200);
    });
  });

  describe('tenant_mismatch', () => {
    it("a valid envelope for tenant B on tenant A's topic", () => {
      const r = rejected(parseDeviceMessage(tempTopic, json(reading({ tenantId: tenantB })), MAX));
      expect(r.reason).toBe('tenant_mismatch');
      expect(r.detail).toContain(tenantA);
      expect(r.detail).toContain(tenantB);
    });

    it('the same uuid in another case is still a different tenant segment', () => {
      const upper = tenantA.toUpperCase();
      expect(rejected(parseDeviceMessage(tempTopic, json(reading({ tenantId: upper })), MAX)).reason).toBe('tenant_mismatch');
    });
  });

  describe('device_mismatch', () => {
    it("a valid envelope from another device on this device's topic", () => {
      const r = rejected(parseDeviceMessage(tempTopic, json(reading({ deviceId: 'device-sensor-002' })), MAX));
      expect(r.reason).toBe('device_mismatch');
    });

    it('on a weighvision topic the station id is the device', () => {
      const event = validEvent('weighvision.weight.recorded', { device_id: 'weighvision-device-002' });
      expect(rejected(parseDeviceMessage(weighVisionTopic(station, 's', 'weight.recorded'), json(event), MAX)).reason).toBe('device_mismatch');
    });
  });

  describe('metric_mismatch', () => {
    it('a humidity reading on the temperature topic', () => {
      const r = rejected(parseDeviceMessage(tempTopic, json(reading({ metric: 'humidity', value: 61 })), MAX));
      expect(r.reason).toBe('metric_mismatch');
      expect(r.detail).toBe('topic metric temperature differs from payload metric humidity');
    });
  });

  it('checks in a fixed order: schema before tenant, tenant before device, device before metric', () => {
    const all = { ...reading({ tenantId: tenantB, deviceId: 'other', metric: 'humidity' }) };
    expect(rejected(parseDeviceMessage(tempTopic, json({ ...all, ts: 'now' }), MAX)).reason).toBe('schema_violation:ts');
    expect(rejected(parseDeviceMessage(tempTopic, json(all), MAX)).reason).toBe('tenant_mismatch');
    expect(rejected(parseDeviceMessage(tempTopic, json({ ...all, tenant_id: tenantA }), MAX)).reason).toBe('device_mismatch');
    const onlyMetric = { ...all, tenant_id: tenantA, device_id: sensor.deviceId };
    expect(rejected(parseDeviceMessage(tempTopic, json(onlyMetric), MAX)).reason).toBe('metric_mismatch');
  });
});

it('covers every device-published event type', () => {
  const deviceTypes: EventType[] = [
    'telemetry.reading',
    'weighvision.session.created',
    'weighvision.weight.recorded',
    'weighvision.session.finalized',
    'feed.dispensed',
  ];
  for (const type of deviceTypes) expect(validEvent(type).event_type).toBe(type);
});
