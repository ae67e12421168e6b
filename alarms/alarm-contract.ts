/**
 * The contract of one alarm (docs/alarms.md), below everything that uses it. The rule evaluator
 * (alarms/evaluator.ts, run by the MQTT bridge and the alarm sweep) signals-with-start `raise` and
 * signals `clear`; the downlink, the farm server's operator API and the CLI signal `acknowledge`;
 * operators and tests read `state`. The workflow (workflows/alarms/alarm.ts) sets the handlers.
 *
 * One open alarm per rule and place: the workflow id is `alarm/<tenant>/<farm>/<barn|farm>/<rule>`
 * (domain/temporal/workflow-ids.ts), so a raise while an alarm is open finds it and is ignored; once
 * an alarm has ended (cleared), the next raise starts a new run under the same id with a new alarm_id.
 *
 * Workflow-bundle safe: imports only @temporalio/workflow's message definitions and pure domain types.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AlarmChannel, AlarmRuleKind, AlarmSeverity, LocalAlarmChannel } from '../domain/contracts/alarm-payloads';

/** raised → (acknowledged) → cleared; `cleared` ends the workflow, acknowledged or not. */
export type AlarmState = 'raised' | 'acknowledged' | 'cleared';

/** One rung of the escalation ladder: at `afterSeconds` from the raise, tell these on these channels. */
export interface LadderStep {
  afterSeconds: number;
  channels: AlarmChannel[];
  /** `role:<role>` or `user:<email>`, resolved by the cloud (alarm-payloads.ts alarmRecipient). */
  recipients: string[];
}

export interface EscalationLadder {
  /** In order of afterSeconds; the first is usually at 0 (told at the raise). */
  steps: LadderStep[];
  /** After the last step, remind every this many seconds while unacknowledged; absent: no reminders. */
  reminderEverySeconds?: number;
  /** Local channels used at every step even while the cloud is reachable (a siren for critical alarms). */
  alwaysLocal?: LocalAlarmChannel[];
}

/** Where an alarm is and which rule raised it: the workflow's input and search attributes. */
export interface AlarmAddress {
  tenantId: string;
  farmId: string;
  /** Absent for a farm-wide rule (sync_stalled). */
  barnId?: string;
  ruleId: string;
}

/** What the evaluator knows when a rule's condition has held for its raise delay. */
export interface AlarmRaise {
  /** Name-based from the workflow id and conditionSince, so a repeated raise names the same alarm. */
  alarmId: string;
  ruleKind: AlarmRuleKind;
  severity: AlarmSeverity;
  metric?: string;
  deviceId?: string;
  value?: number;
  threshold?: number;
  unit?: string;
  conditionSince: string;
  raisedAt: string;
  summary: string;
  ladder: EscalationLadder;
}

export interface AlarmInput extends AlarmAddress {
  raise: AlarmRaise;
}

export interface AlarmAcknowledgement {
  /** Which alarm: an acknowledgement of an earlier alarm under the same id is refused (stale). */
  alarmId: string;
  by: string;
  source: 'dashboard' | 'operator_api' | 'cli';
  note?: string;
  at: string;
  /** The downlink command that carried it; also the dedupe key of a redelivered acknowledgement. */
  commandId?: string;
}

export interface AlarmClear {
  alarmId: string;
  reason: 'condition' | 'rule_removed';
  value?: number;
  at: string;
}

/** One line of the alarm's history, as the `state` query and the edge's alarm_history table show it. */
export interface AlarmHistoryEntry {
  at: string;
  what: 'raised' | 'escalated' | 'reminded' | 'delivered_locally' | 'local_delivery_failed' | 'acknowledged' | 'cleared' | 'ignored';
  detail: string;
}

export interface AlarmStatus extends AlarmAddress {
  alarmId: string;
  state: AlarmState;
  severity: AlarmSeverity;
  raisedAt: string;
  /** The next ladder step (index into ladder.steps, or the reminder count past it). */
  nextStep: number;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  clearedAt?: string;
  history: AlarmHistoryEntry[];
}

/** The workflow type (its export name in workflows/edge.ts). */
export const alarmWorkflowType = 'farmAlarm';
export type AlarmWorkflow = (input: AlarmInput) => Promise<AlarmStatus>;

export const raiseSignal = defineSignal<[AlarmRaise]>('raise');
export const acknowledgeSignal = defineSignal<[AlarmAcknowledgement]>('acknowledge');
export const clearSignal = defineSignal<[AlarmClear]>('clear');
export const alarmStateQuery = defineQuery<AlarmStatus>('state');
