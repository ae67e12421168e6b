/**
 * The three MQTT topic families (spec §2.4, §3.3, §4.3): parsing device topics into typed
 * addresses and building them back. Nothing downstream of the bridge sees a raw topic string.
 */
import type { EventType } from './catalog';
import { identifierPattern } from './identifiers';

export interface DeviceAddress {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
}

export type SessionStep = 'created' | 'weight.recorded' | 'finalized';

export type DeviceTopic =
  | ({ family: 'telemetry'; metric: string } & DeviceAddress)
  | ({ family: 'weighvision'; sessionId: string; step: SessionStep } & DeviceAddress)
  | ({ family: 'event'; eventName: string } & DeviceAddress);

const sessionSteps: readonly SessionStep[] = ['created', 'weight.recorded', 'finalized'];

/** Events a device publishes on `iot/event/<tenant>/<farm>/<barn>/<device>/<event name>`. */
export const deviceEventNames = ['feed.dispensed', 'flock.mortality.recorded'] as const satisfies readonly EventType[];
export type DeviceEventName = (typeof deviceEventNames)[number];

/** The event_type a message on this topic must carry. */
export function expectedEventType(topic: DeviceTopic): EventType | undefined {
  switch (topic.family) {
    case 'telemetry':
      return 'telemetry.reading';
    case 'weighvision':
      return topic.step === 'created'
        ? 'weighvision.session.created'
        : topic.step === 'weight.recorded'
          ? 'weighvision.weight.recorded'
          : 'weighvision.session.finalized';
    case 'event':
      return (deviceEventNames as readonly string[]).includes(topic.eventName) ? (topic.eventName as DeviceEventName) : undefined;
  }
}

/** Parses a device topic; undefined means it is none of the three families. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'iot' || !parts.slice(2).every((p) => identifierPattern.test(p))) return undefined;
  const [, family, tenantId, farmId, barnId, deviceId] = parts;
  const address = { tenantId, farmId, barnId, deviceId };
  if (family === 'telemetry' && parts.length === 7) {
    return { family, ...address, metric: parts[6] };
  }
  if (family === 'event' && parts.length === 7) {
    return { family, ...address, eventName: parts[6] };
  }
  if (family === 'weighvision' && parts.length === 9 && parts[6] === 'session') {
    const step = parts[8] as SessionStep;
    if (!sessionSteps.includes(step)) return undefined;
    return { family, ...address, sessionId: parts[7], step };
  }
  return undefined;
}

function base(family: string, a: DeviceAddress): string {
  return `iot/${family}/${a.tenantId}/${a.farmId}/${a.barnId}/${a.deviceId}`;
}

export function telemetryTopic(a: DeviceAddress, metric: string): string {
  return `${base('telemetry', a)}/${metric}`;
}

export function weighVisionTopic(a: DeviceAddress, sessionId: string, step: SessionStep): string {
  return `${base('weighvision', a)}/session/${sessionId}/${step}`;
}

export function deviceEventTopic(a: DeviceAddress, eventName: DeviceEventName): string {
  return `${base('event', a)}/${eventName}`;
}

/** Topic filters a device at this address may publish to (used for the broker ACL). */
export function devicePublishFilters(a: DeviceAddress): string[] {
  return [`${base('telemetry', a)}/+`, `${base('event', a)}/+`, `${base('weighvision', a)}/session/#`];
}

/** What the bridge subscribes to. */
export const bridgeSubscriptions = ['iot/telemetry/#', 'iot/event/#', 'iot/weighvision/#'] as const;
