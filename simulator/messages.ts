/**
 * The MQTT messages a simulated device publishes for an action: the catalog envelope (docs/
 * contracts.md §1) on its device topic, or, for a broken reading, the bytes a faulty sensor sends.
 */
import { uuidV5 } from '../domain/ids';
import { deviceEventTopic, telemetryTopic, weighVisionTopic, type DeviceAddress, type SessionStep } from '../domain/contracts/topics';
import type { FarmDescription } from './farm-description';
import type { Action, BrokenKind } from './plan';

export interface OutgoingMessage {
  topic: string;
  body: string;
}

export function deviceAddress(farm: FarmDescription, barnId: string, deviceId: string): DeviceAddress {
  return { tenantId: farm.tenant_id, farmId: farm.farm_id, barnId, deviceId };
}

function envelope(farm: FarmDescription, a: { deviceId: string; at: Date; eventId: string }, eventType: string, traceId: string, payload: object): string {
  return JSON.stringify({
    schema_version: '1.0',
    event_id: a.eventId,
    trace_id: traceId,
    event_type: eventType,
    tenant_id: farm.tenant_id,
    device_id: a.deviceId,
    ts: a.at.toISOString(),
    payload,
  });
}

function brokenBody(good: string, kind: BrokenKind, metric: string): string {
  const parsed = JSON.parse(good) as { payload: Record<string, unknown> };
  if (kind === 'out_of_range') parsed.payload.value = 1e12;
  // A temperature in millivolts, or a gas in mg/m³: a unit the metric does not take.
  else if (kind === 'wrong_unit') parsed.payload.unit = metric === 'temperature' ? 'mV' : 'mg/m3';
  else return good.slice(0, Math.floor(good.length / 2));
  return JSON.stringify(parsed);
}

/** The message of a telemetry, feed or mortality action (sessions are station work: station.ts). */
export function messageOf(farm: FarmDescription, a: Exclude<Action, { kind: 'session' | 'dropout' }>): OutgoingMessage {
  const address = deviceAddress(farm, a.barnId, a.deviceId);
  const trace = `sim-${a.eventId.slice(0, 8)}`;
  switch (a.kind) {
    case 'reading':
      return {
        topic: telemetryTopic(address, a.metric),
        body: envelope(farm, a, 'telemetry.reading', trace, { metric: a.metric, value: a.value, unit: a.unit }),
      };
    case 'broken': {
      const good = envelope(farm, a, 'telemetry.reading', trace, { metric: a.metric, value: 0, unit: 'C' });
      return { topic: telemetryTopic(address, a.metric), body: brokenBody(good, a.broken, a.metric) };
    }
    case 'feed':
      return {
        topic: deviceEventTopic(address, 'feed.dispensed'),
        body: envelope(farm, a, 'feed.dispensed', trace, { quantity_kg: a.quantityKg, feed_type: a.feedType, animal_count: a.animalCount }),
      };
    case 'mortality':
      return {
        topic: deviceEventTopic(address, 'flock.mortality.recorded'),
        body: envelope(farm, a, 'flock.mortality.recorded', trace, { flock_id: a.flockId, day: a.day, dead: a.dead, culled: a.culled }),
      };
  }
}

/** One session event: its id derived from the session and the step (and the reading's place). */
export function sessionMessage(
  farm: FarmDescription,
  a: Extract<Action, { kind: 'session' }>,
  step: SessionStep,
  index: number,
  payload: object,
): OutgoingMessage {
  const type = step === 'created' ? 'weighvision.session.created' : step === 'finalized' ? 'weighvision.session.finalized' : 'weighvision.weight.recorded';
  const at = new Date(a.at.getTime() + index * 1000);
  const eventId = uuidV5(`${a.eventId}/${step}/${index}`);
  return {
    topic: weighVisionTopic(deviceAddress(farm, a.barnId, a.deviceId), a.sessionId, step),
    body: envelope(farm, { deviceId: a.deviceId, at, eventId }, type, `sim-${a.sessionId}`, payload),
  };
}
