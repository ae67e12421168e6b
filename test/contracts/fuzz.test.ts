/**
 * Property-based fuzzing of parseDeviceMessage (20,000 generated messages in total):
 *   1. arbitrary bytes and strings on arbitrary (and almost-valid) topics;
 *   2. valid envelopes on their topics after random structural mutation: dropped, replaced and
 *      retyped fields, deep random JSON, huge numbers, unicode, prototype-pollution keys.
 * Whatever comes in, parseDeviceMessage never throws, never reaches its defensive catch-all, and
 * returns either an event that re-validates and belongs to the topic's tenant/device, or a
 * rejection with a stable reason code and a non-empty detail.
 */
import fc from 'fast-check';
import {
  deviceEventTopic,
  expectedEventType,
  farmEventSchema,
  parseDeviceMessage,
  parseDeviceTopic,
  telemetryTopic,
  weighVisionTopic,
  type DeviceAddress,
  type DeviceMessageResult,
  type EventType,
  type SessionStep,
} from '../../domain/contracts';
import { validEvent } from '../support/events';

const RUNS = 10_000;
const REASON =
  /^(payload_too_large|unknown_topic|invalid_encoding|invalid_json|event_type_mismatch|tenant_mismatch|device_mismatch|metric_mismatch|schema_violation:.+)$/;

const tenants = ['018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002', '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0003'];
const devices = ['device-001', 'device-002'];
const metrics = ['temperature', 'humidity'];

interface Stats {
  accepted: number;
  reasons: Map<string, number>;
}
const newStats = (): Stats => ({ accepted: 0, reasons: new Map() });

/** The contract every result must satisfy; returns normally or fails the property. */
function checkResult(topicName: string, body: Uint8Array, maxBytes: number, result: DeviceMessageResult, stats: Stats): void {
  const topic = parseDeviceTopic(topicName);
  if (result.ok) {
    stats.accepted++;
    expect(body.byteLength).toBeLessThanOrEqual(maxBytes);
    expect(topic).toBeDefined();
    expect(result.topic).toEqual(topic);
    const again = farmEventSchema.safeParse(result.event);
    expect(again.success).toBe(true);
    expect(result.event.event_type).toBe(expectedEventType(topic!));
    expect(result.event.tenant_id).toBe(topic!.tenantId);
    expect(result.event.device_id).toBe(topic!.deviceId);
    if (topic!.family === 'telemetry' && result.event.event_type === 'telemetry.reading') {
      expect(result.event.payload.metric).toBe(topic!.metric);
    }
    return;
  }
  stats.reasons.set(result.reason, (stats.reasons.get(result.reason) ?? 0) + 1);
  expect(result.reason).toMatch(REASON);
  expect(typeof result.detail).toBe('string');
  expect(result.detail.length).toBeGreaterThan(0);
  // The defensive catch-all in parseDeviceMessage exists for validator bugs; no input may reach it.
  expect(result.detail.startsWith('unexpected validation error')).toBe(false);
  // Size and topic are checked first and decided by them alone.
  if (body.byteLength > maxBytes) expect(result.reason).toBe('payload_too_large');
  else if (!topic || !expectedEventType(topic)) expect(result.reason).toBe('unknown_topic');
  else expect(result.reason).not.toBe('unknown_topic');
}

const encoder = new TextEncoder();
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypesUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

const segment = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const addressArb: fc.Arbitrary<DeviceAddress> = fc.record({
  tenantId: fc.constantFrom(...tenants),
  farmId: fc.constantFrom('farm-1', 'farm-2'),
  barnId: fc.constantFrom('barn-1'),
  deviceId: fc.constantFrom(...devices),
});
const stepArb = fc.constantFrom<SessionStep>('created', 'weight.recorded', 'finalized');

describe('fuzz: arbitrary bytes on arbitrary topics', () => {
  const level = fc.oneof(
    fc.constantFrom(
      'iot',
      'telemetry',
      'event',
      'weighvision',
      'session',
      'created',
      'weight.recorded',
      'finalized',
      'feed.dispensed',
      ...tenants,
      ...devices,
      '+',
      '#',
      '',
      '$SYS',
    ),
    segment,
    fc.string({ maxLength: 8 }),
  );
  const topicArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 120 }),
    fc.array(level, { minLength: 1, maxLength: 11 }).map((levels) => levels.join('/')),
    fc.tuple(addressArb, fc.constantFrom(...metrics)).map(([a, m]) => telemetryTopic(a, m)),
    fc.tuple(addressArb, segment, stepArb).map(([a, s, step]) => weighVisionTopic(a, s, step)),
    addressArb.map((a) => deviceEventTopic(a, 'feed.dispensed')),
    // The event family with names no device publishes: unknown_topic whatever the body is.
    fc.tuple(addressArb, segment).map(([a, name]) => deviceEventTopic(a, 'feed.dispensed').replace(/feed\.dispensed$/, name)),
  );
  const bodyArb = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.string({ unit: 'binary', maxLength: 300 }).map((s) => encoder.encode(s)),
    fc.json({ maxDepth: 4 }).map((s) => encoder.encode(s)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => encoder.encode(JSON.stringify(v))),
    fc.constantFrom('', '{}', '[]', 'null', '{"event_type":"telemetry.reading"}', '\uFEFF{}', '{"__proto__":{"polluted":1}}').map((s) => encoder.encode(s)),
  );
  const maxBytesArb = fc.oneof(fc.constant(64 * 1024), fc.integer({ min: 0, max: 700 }));

  it(`holds the result contract for ${RUNS} generated messages`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(topicArb, bodyArb, maxBytesArb, (topic, body, maxBytes) => {
        checkResult(topic, body, maxBytes, parseDeviceMessage(topic, body, maxBytes), stats);
      }),
      { numRuns: RUNS },
    );
    expectPrototypesUntouched();
    // Not vacuous: the generators reach the early and the late checks.
    for (const reason of ['payload_too_large', 'unknown_topic', 'invalid_encoding', 'invalid_json', 'schema_violation:$']) {
      expect(stats.reasons.get(reason) ?? 0).toBeGreaterThan(0);
    }
  });
});

describe('fuzz: structurally mutated valid envelopes', () => {
  type Obj = Record<string, unknown>;
  const deviceTypes: { type: EventType; topic: (a: DeviceAddress, metric: string, step: SessionStep) => string }[] = [
    { type: 'telemetry.reading', topic: (a, m) => telemetryTopic(a, m) },
    { type: 'weighvision.session.created', topic: (a) => weighVisionTopic(a, 'session-1', 'created') },
    { type: 'weighvision.weight.recorded', topic: (a) => weighVisionTopic(a, 'session-1', 'weight.recorded') },
    { type: 'weighvision.session.finalized', topic: (a) => weighVisionTopic(a, 'session-1', 'finalized') },
    { type: 'feed.dispensed', topic: (a) => deviceEventTopic(a, 'feed.dispensed') },
  ];

  /** Literals JSON.stringify cannot produce, spliced into the text after serialisation. */
  const rawNumbers = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.1e1', '5e-324', '1.7976931348623157e308'];

  const weirdValue = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      0.1 + 0.2,
      '',
      ' ',
      [],
      {},
      '1.0',
      '2.0',
      'NaN',
      'Infinity',
      { toString: 1, valueOf: 1 },
      ['feed.dispensed'],
      'telemetry.reading',
      'weighvision.session.created',
      'feed.dispensed',
    ),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uuid(),
    fc.double(),
    fc.integer(),
  );
  const hostileKey = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then', 'polluted'),
    fc.string({ maxLength: 12 }),
  );

  type Mutation =
    | { op: 'drop'; where: 'root' | 'payload'; pick: number }
    | { op: 'replace'; where: 'root' | 'payload'; pick: number; value: unknown }
    | { op: 'raw'; where: 'root' | 'payload'; pick: number; literal: string }
    | { op: 'add'; where: 'root' | 'payload'; key: string; value: unknown }
    | { op: 'event_type'; value: unknown }
    | { op: 'retype-root'; value: unknown };
  const where = fc.constantFrom<'root' | 'payload'>('root', 'payload', 'payload');
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), where, pick: fc.nat() }),
    fc.record({ op: fc.constant('replace' as const), where, pick: fc.nat(), value: weirdValue }),
    fc.record({ op: fc.constant('raw' as const), where, pick: fc.nat(), literal: fc.constantFrom(...rawNumbers) }),
    fc.record({ op: fc.constant('add' as const), where, key: hostileKey, value: weirdValue }),
    fc.record({ op: fc.constant('event_type' as const), value: weirdValue }),
    { arbitrary: fc.record({ op: fc.constant('retype-root' as const), value: weirdValue }), weight: 1 },
  );

  const caseArb = fc.record({
    kind: fc.nat({ max: deviceTypes.length - 1 }),
    topicAddress: addressArb,
    topicMetric: fc.constantFrom(...metrics),
    step: stepArb,
    envelopeTenant: fc.constantFrom(...tenants),
    envelopeDevice: fc.constantFrom(...devices),
    payloadMetric: fc.constantFrom(...metrics),
    mutations: fc.oneof({ arbitrary: fc.constant<Mutation[]>([]), weight: 1 }, { arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 4 }), weight: 4 }),
  });

  /**
   * Sets an own, enumerable property even for "__proto__" (plain assignment would change the
   * prototype). Values are copied first: generated values must never be mutated (a later mutation
   * could otherwise write into them and make the case cyclic or unreproducible).
   */
  function setOwn(target: Obj, key: string, value: unknown): void {
    Object.defineProperty(target, key, { value: copy(value), enumerable: true, writable: true, configurable: true });
  }
  function copy(value: unknown): unknown {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

  function build(c: Case): { topic: string; text: string; untouchedMatch: boolean } {
    const spec = deviceTypes[c.kind];
    const topic = spec.topic(c.topicAddress, c.topicMetric, c.step);
    const event = validEvent(spec.type, { tenant_id: c.envelopeTenant, device_id: c.envelopeDevice }) as unknown as Obj;
    if (spec.type === 'telemetry.reading') (event.payload as Obj).metric = c.payloadMetric;

    let root: unknown = event;
    const raws: string[] = [];
    for (const m of c.mutations) {
      if (m.op === 'retype-root') {
        root = copy(m.value);
        continue;
      }
      if (typeof root !== 'object' || root === null || Array.isArray(root)) continue;
      if (m.op === 'event_type') {
        setOwn(root as Obj, 'event_type', m.value);
        continue;
      }
      const target = m.where === 'root' ? (root as Obj) : (root as Obj).payload;
      if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
      const obj = target as Obj;
      const keys = Object.keys(obj);
      if (m.op === 'add') {
        setOwn(obj, m.key, m.value);
        continue;
      }
      if (keys.length === 0) continue;
      const key = keys[m.pick % keys.length];
      if (m.op === 'drop') delete obj[key];
      else if (m.op === 'replace') setOwn(obj, key, m.value);
      else {
        setOwn(obj, key, `\u0000raw${raws.length}\u0000`);
        raws.push(m.literal);
      }
    }
    let text = JSON.stringify(root) ?? 'null';
    raws.forEach((literal, i) => {
      text = text.replace(JSON.stringify(`\u0000raw${i}\u0000`), literal);
    });
    const untouchedMatch =
      c.mutations.length === 0 &&
      c.envelopeTenant === c.topicAddress.tenantId &&
      c.envelopeDevice === c.topicAddress.deviceId &&
      (spec.type !== 'telemetry.reading' || c.payloadMetric === c.topicMetric);
    return { topic, text, untouchedMatch };
  }

  it(`holds the result contract for ${RUNS} mutated envelopes`, () => {
    const stats = newStats();
    const maxBytes = 64 * 1024;
    fc.assert(
      fc.property(caseArb, (c) => {
        const { topic, text, untouchedMatch } = build(c);
        const body = encoder.encode(text);
        const result = parseDeviceMessage(topic, body, maxBytes);
        checkResult(topic, body, maxBytes, result, stats);
        if (untouchedMatch) expect(result.ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
    expectPrototypesUntouched();
    // Not vacuous: both outcomes and every late check are reached.
    expect(stats.accepted).toBeGreaterThan(RUNS / 50);
    for (const reason of ['event_type_mismatch', 'tenant_mismatch', 'device_mismatch', 'metric_mismatch', 'schema_violation:$']) {
      expect(stats.reasons.get(reason) ?? 0).toBeGreaterThan(0);
    }
    const payloadViolations = [...stats.reasons.keys()].filter((r) => r.startsWith('schema_violation:payload.'));
    expect(payloadViolations.length).toBeGreaterThan(3);
  });
});
