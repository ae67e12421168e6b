/**
 * The three MQTT topic families of spec §2.4, §3.3 and §4.3: parse/build round trips, the
 * topics that must not parse, and the broker ACL filters a device is given.
 */
import fc from 'fast-check';
import {
  bridgeSubscriptions,
  deviceEventTopic,
  devicePublishFilters,
  expectedEventType,
  parseDeviceTopic,
  telemetryTopic,
  weighVisionTopic,
  type DeviceAddress,
  type SessionStep,
} from '../../domain/contracts';

/**
 * MQTT 3.1.1 §4.7 / 5.0 §4.7 topic filter matching: `+` matches exactly one level (possibly
 * empty), a trailing `#` matches the parent level and any number of levels below it, and
 * wildcards at the first level never match topics that start with `$`.
 */
function mqttMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1; // '#' must be last
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('the MQTT matcher used by these tests', () => {
  it.each([
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/tennis/+', 'sport/tennis/', true],
    ['sport/#', 'sport', true],
    ['sport/#', 'sport/tennis/player1', true],
    ['sport/+', 'sport', false],
    ['#', '$SYS/broker', false],
    ['+/x', '$SYS/x', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
  ])('%s vs %s -> %s', (filter, topic, want) => {
    expect(mqttMatches(filter, topic)).toBe(want);
  });
});

const tenantA = '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0002';
const tenantB = '018f1a84-bb0e-7d3f-b2e4-9e8b5f8e0003';
const address: DeviceAddress = { tenantId: tenantA, farmId: 'farm-1', barnId: 'barn-2', deviceId: 'device-sensor-001' };
const steps: SessionStep[] = ['created', 'weight.recorded', 'finalized'];

describe('telemetry topics (7 segments)', () => {
  it('builds the spec §2.4 topic and parses it back', () => {
    const topic = telemetryTopic(address, 'temperature');
    expect(topic).toBe(`iot/telemetry/${tenantA}/farm-1/barn-2/device-sensor-001/temperature`);
    expect(parseDeviceTopic(topic)).toEqual({ family: 'telemetry', ...address, metric: 'temperature' });
    expect(expectedEventType(parseDeviceTopic(topic)!)).toBe('telemetry.reading');
  });

  it('accepts metric names with dots, colons, dashes and underscores', () => {
    for (const metric of ['co2', 'air.temperature', 'nh3:ppm', 'water_flow-l']) {
      expect(parseDeviceTopic(telemetryTopic(address, metric))).toMatchObject({ family: 'telemetry', metric });
    }
  });
});

describe('weighvision topics (9 segments)', () => {
  it.each(steps)('builds the spec §3.3 %s topic and parses it back', (step) => {
    const topic = weighVisionTopic(address, 'session-42', step);
    expect(topic).toBe(`iot/weighvision/${tenantA}/farm-1/barn-2/device-sensor-001/session/session-42/${step}`);
    expect(parseDeviceTopic(topic)).toEqual({ family: 'weighvision', ...address, sessionId: 'session-42', step });
  });

  it.each(['.', '..', '...'])('refuses the session id %p (it would walk an object key)', (sessionId) => {
    expect(parseDeviceTopic(weighVisionTopic(address, sessionId, 'created'))).toBeUndefined();
    expect(parseDeviceTopic(telemetryTopic({ ...address, barnId: sessionId }, 'temperature'))).toBeUndefined();
    expect(parseDeviceTopic(weighVisionTopic(address, `.${sessionId}a`, 'created'))).toMatchObject({ sessionId: `.${sessionId}a` });
  });

  it('maps each step to its event type', () => {
    const types = steps.map((step) => expectedEventType(parseDeviceTopic(weighVisionTopic(address, 's', step))!));
    expect(types).toEqual(['weighvision.session.created', 'weighvision.weight.recorded', 'weighvision.session.finalized']);
  });
});

describe('device event topics (7 segments)', () => {
  it('builds the spec §4.3 feed.dispensed topic and parses it back', () => {
    const topic = deviceEventTopic(address, 'feed.dispensed');
    expect(topic).toBe(`iot/event/${tenantA}/farm-1/barn-2/device-sensor-001/feed.dispensed`);
    expect(parseDeviceTopic(topic)).toEqual({ family: 'event', ...address, eventName: 'feed.dispensed' });
    expect(expectedEventType(parseDeviceTopic(topic)!)).toBe('feed.dispensed');
  });

  it('parses other event names as the event family but expects no event type for them', () => {
    const topic = parseDeviceTopic(`iot/event/${tenantA}/farm-1/barn-2/d/feed.eaten`);
    expect(topic).toMatchObject({ family: 'event', eventName: 'feed.eaten' });
    expect(expectedEventType(topic!)).toBeUndefined();
  });
});

describe('round trip over generated addresses', () => {
  const seg = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/).filter((x) => !/^\.+$/.test(x));
  const addr = fc.record({ tenantId: seg, farmId: seg, barnId: seg, deviceId: seg });

  it('parse(build(x)) = x for all three families', () => {
    fc.assert(
      fc.property(addr, seg, seg, fc.constantFrom(...steps), (a, metric, sessionId, step) => {
        expect(parseDeviceTopic(telemetryTopic(a, metric))).toEqual({ family: 'telemetry', ...a, metric });
        expect(parseDeviceTopic(weighVisionTopic(a, sessionId, step))).toEqual({ family: 'weighvision', ...a, sessionId, step });
        expect(parseDeviceTopic(deviceEventTopic(a, 'feed.dispensed'))).toEqual({ family: 'event', ...a, eventName: 'feed.dispensed' });
      }),
      { numRuns: 500 },
    );
  });
});

describe('topics that are not device topics', () => {
  const t = tenantA;
  it.each([
    ['6 telemetry segments', `iot/telemetry/${t}/f/b/d`],
    ['8 telemetry segments', `iot/telemetry/${t}/f/b/d/temperature/extra`],
    ['6 event segments', `iot/event/${t}/f/b/d`],
    ['8 event segments', `iot/event/${t}/f/b/d/feed.dispensed/x`],
    ['8 weighvision segments', `iot/weighvision/${t}/f/b/d/session/s1`],
    ['10 weighvision segments', `iot/weighvision/${t}/f/b/d/session/s1/created/x`],
    ['weighvision without the session literal', `iot/weighvision/${t}/f/b/d/sessions/s1/created`],
    ['an unknown weighvision step', `iot/weighvision/${t}/f/b/d/session/s1/deleted`],
    ['the weighvision event_type as step', `iot/weighvision/${t}/f/b/d/session/s1/session.created`],
    ['a step in the wrong case', `iot/weighvision/${t}/f/b/d/session/s1/Created`],
    ['an empty farm segment', `iot/telemetry/${t}//b/d/temperature`],
    ['an empty metric', `iot/telemetry/${t}/f/b/d/`],
    ['an empty tenant', 'iot/telemetry//f/b/d/temperature'],
    ['an empty session id', `iot/weighvision/${t}/f/b/d/session//created`],
    ['a trailing slash', `iot/event/${t}/f/b/d/feed.dispensed/`],
    ['a leading slash', `/iot/telemetry/${t}/f/b/d/temperature`],
    ['a + wildcard as device', `iot/telemetry/${t}/f/b/+/temperature`],
    ['a + wildcard as metric', `iot/telemetry/${t}/f/b/d/+`],
    ['a # wildcard as metric', `iot/telemetry/${t}/f/b/d/#`],
    ['a # wildcard as tenant', 'iot/telemetry/#/f/b/d/temperature'],
    ['a + wildcard as session', `iot/weighvision/${t}/f/b/d/session/+/created`],
    ['a wildcard inside a segment', `iot/telemetry/${t}/f/b/d/temp+`],
    ['a space in a segment', `iot/telemetry/${t}/f/b/d/air temp`],
    ['a 65-character segment', `iot/telemetry/${t}/f/b/${'d'.repeat(65)}/temperature`],
    ['non-ASCII in a segment', `iot/telemetry/${t}/f/b/d/température`],
    ['a non-iot prefix', `farm/telemetry/${t}/f/b/d/temperature`],
    ['an upper-case prefix', `IOT/telemetry/${t}/f/b/d/temperature`],
    ['a $SYS topic', `$SYS/telemetry/${t}/f/b/d/temperature`],
    ['an unknown family', `iot/commands/${t}/f/b/d/reboot`],
    ['a family in the wrong case', `iot/Telemetry/${t}/f/b/d/temperature`],
    ['the bare prefix', 'iot'],
    ['the empty string', ''],
  ])('%s: %s -> undefined', (_name, topic) => {
    expect(parseDeviceTopic(topic)).toBeUndefined();
  });

  it('never throws and never parses arbitrary strings with a wildcard or an empty level', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('iot', 'telemetry', 'event', 'weighvision', 'session', 'created', '+', '#', ''), fc.string()), { maxLength: 10 }),
        (levels) => {
          const topic = levels.join('/');
          const parsed = parseDeviceTopic(topic);
          if (parsed !== undefined) {
            expect(topic.split('/').every((l) => l.length > 0 && !l.includes('+') && !l.includes('#'))).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('devicePublishFilters (broker ACL)', () => {
  const filters = devicePublishFilters(address);
  const allowed = (topic: string) => filters.some((f) => mqttMatches(f, topic));

  const ownTopics = [
    telemetryTopic(address, 'temperature'),
    telemetryTopic(address, 'humidity'),
    deviceEventTopic(address, 'feed.dispensed'),
    ...steps.map((step) => weighVisionTopic(address, 'session-42', step)),
  ];

  it('does not wildcard any address segment', () => {
    for (const f of filters) {
      const levels = f.split('/');
      expect(levels.slice(0, 6)).toEqual(['iot', levels[1], address.tenantId, address.farmId, address.barnId, address.deviceId]);
    }
  });

  it.each(ownTopics)("matches the device's own topic %s", (topic) => {
    expect(allowed(topic)).toBe(true);
  });

  const others: [string, DeviceAddress][] = [
    ['another tenant', { ...address, tenantId: tenantB }],
    ['another device in the same barn', { ...address, deviceId: 'device-sensor-002' }],
    ['a device whose id extends this one', { ...address, deviceId: `${address.deviceId}0` }],
    ['another barn', { ...address, barnId: 'barn-3' }],
    ['another farm', { ...address, farmId: 'farm-9' }],
  ];
  it.each(others)('matches none of the topics of %s', (_name, other) => {
    const theirs = [
      telemetryTopic(other, 'temperature'),
      deviceEventTopic(other, 'feed.dispensed'),
      ...steps.map((step) => weighVisionTopic(other, 'session-42', step)),
    ];
    expect(theirs.filter(allowed)).toEqual([]);
  });

  it('does not let a device publish outside the three families', () => {
    const a = `${address.tenantId}/${address.farmId}/${address.barnId}/${address.deviceId}`;
    expect(allowed(`iot/commands/${a}/reboot`)).toBe(false);
    expect(allowed(`iot/telemetry/${a}`)).toBe(false);
    expect(allowed(`iot/telemetry/${a}/temperature/extra`)).toBe(false);
    expect(allowed(`iot/telemetry/${address.tenantId}/${address.farmId}/${address.barnId}`)).toBe(false);
  });

  it('is covered by the bridge subscriptions, which match every device topic', () => {
    for (const topic of ownTopics) expect(bridgeSubscriptions.some((s) => mqttMatches(s, topic))).toBe(true);
    expect(bridgeSubscriptions.some((s) => mqttMatches(s, `iot/commands/${address.tenantId}/f/b/d/x`))).toBe(false);
  });
});
