/**
 * The catalog events of one alarm (domain/contracts/alarm-payloads.ts), built from what the alarm
 * workflow's activities know. Each event id is name-based from the alarm and what happened (and
 * the step), so a retried activity, or the same step run again after a worker restart, derives
 * the same id and nothing downstream sees it twice.
 */
import { farmEventSchema, type AlarmEvent, type FarmEvent } from '../domain/contracts/catalog';
import type { LocalAlarmChannel } from '../domain/contracts/alarm-payloads';
import { uuidV5 } from '../domain/ids';
import type { AlarmAcknowledgement, AlarmAddress, AlarmClear, AlarmRaise, LadderStep } from './alarm-contract';

/** The envelope's device_id: the farm server's alarm service made these events, no device did. */
export const alarmEventDevice = 'edge-alarms';

export type AlarmEventKind = 'raised' | 'escalated' | 'acknowledged' | 'cleared';

/** One id per alarm and kind (and step for escalations). */
export function alarmEventId(tenantId: string, alarmId: string, kind: AlarmEventKind, step?: number): string {
  return uuidV5([`alarm.${kind}`, tenantId.toLowerCase(), alarmId, ...(step === undefined ? [] : [String(step)])].join('|'));
}

function place(address: AlarmAddress, alarmId: string) {
  return { alarm_id: alarmId, rule_id: address.ruleId, farm_id: address.farmId, ...(address.barnId === undefined ? {} : { barn_id: address.barnId }) };
}

function envelope<T extends AlarmEvent['event_type']>(address: AlarmAddress, alarmId: string, type: T, eventId: string, ts: string, payload: unknown) {
  return farmEventSchema.parse({
    schema_version: '1.0',
    event_id: eventId,
    // The alarm's id traces every event of its life.
    trace_id: `alarm:${alarmId}`,
    tenant_id: address.tenantId,
    device_id: alarmEventDevice,
    ts,
    farm_id: address.farmId,
    ...(address.barnId === undefined ? {} : { barn_id: address.barnId }),
    event_type: type,
    payload,
  }) as Extract<FarmEvent, { event_type: T }>;
}

export function alarmRaisedEvent(address: AlarmAddress, raise: AlarmRaise) {
  return envelope(address, raise.alarmId, 'alarm.raised', alarmEventId(address.tenantId, raise.alarmId, 'raised'), raise.raisedAt, {
    ...place(address, raise.alarmId),
    rule_kind: raise.ruleKind,
    severity: raise.severity,
    metric: raise.metric,
    device_id: raise.deviceId,
    value: raise.value,
    threshold: raise.threshold,
    unit: raise.unit,
    condition_since: raise.conditionSince,
    raised_at: raise.raisedAt,
    summary: raise.summary,
  });
}

export interface Escalation {
  step: number;
  kind: 'step' | 'reminder';
  /** The ladder rung (for a reminder: the last rung, repeated). */
  rung: LadderStep;
  deliveredLocally: LocalAlarmChannel[];
  at: string;
}

export function alarmEscalatedEvent(address: AlarmAddress, raise: Pick<AlarmRaise, 'alarmId' | 'severity' | 'summary'>, e: Escalation) {
  return envelope(address, raise.alarmId, 'alarm.escalated', alarmEventId(address.tenantId, raise.alarmId, 'escalated', e.step), e.at, {
    ...place(address, raise.alarmId),
    severity: raise.severity,
    step: e.step,
    kind: e.kind,
    channels: [...new Set(e.rung.channels)],
    recipients: e.rung.recipients,
    delivered_locally: e.deliveredLocally,
    summary: raise.summary,
    escalated_at: e.at,
  });
}

export function alarmAcknowledgedEvent(address: AlarmAddress, ack: AlarmAcknowledgement) {
  return envelope(address, ack.alarmId, 'alarm.acknowledged', alarmEventId(address.tenantId, ack.alarmId, 'acknowledged'), ack.at, {
    ...place(address, ack.alarmId),
    acknowledged_by: ack.by,
    source: ack.source,
    note: ack.note,
    acknowledged_at: ack.at,
    command_id: ack.commandId,
  });
}

export function alarmClearedEvent(address: AlarmAddress, clear: AlarmClear, acknowledged: boolean) {
  return envelope(address, clear.alarmId, 'alarm.cleared', alarmEventId(address.tenantId, clear.alarmId, 'cleared'), clear.at, {
    ...place(address, clear.alarmId),
    reason: clear.reason,
    value: clear.value,
    acknowledged,
    cleared_at: clear.at,
  });
}
