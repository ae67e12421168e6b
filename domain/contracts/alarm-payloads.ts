/**
 * Payloads of the alarm events (docs/alarms.md): an alarm raised on the farm server, each step of
 * its escalation ladder, its acknowledgement and its clearing. The farm server evaluates the rules
 * and runs each alarm as a workflow; the cloud keeps the alarm's record and delivers each step's
 * notifications. Every alarm event carries the alarm's id, the rule and where it happened.
 */
import { z } from 'zod';
import { topicSegment } from './envelope';
import { eventTime, int32, text } from './storable';

export const alarmSeverities = ['info', 'warning', 'critical'] as const;
export type AlarmSeverity = (typeof alarmSeverities)[number];

/** What a rule watches (alarms/rules.ts says how each is judged). */
export const alarmRuleKinds = ['limit', 'rate_of_change', 'sensor_silent', 'feed_outage', 'station_silent', 'sync_stalled'] as const;
export type AlarmRuleKind = (typeof alarmRuleKinds)[number];

/** Channels the cloud delivers a step on (notifications/), and the farm server's own. */
export const cloudAlarmChannels = ['in_app', 'email', 'sms', 'push'] as const;
export const localAlarmChannels = ['mqtt_siren', 'lan_webhook'] as const;
export const alarmChannels = [...cloudAlarmChannels, ...localAlarmChannels] as const;
export type CloudAlarmChannel = (typeof cloudAlarmChannels)[number];
export type LocalAlarmChannel = (typeof localAlarmChannels)[number];
export type AlarmChannel = (typeof alarmChannels)[number];

/**
 * Who a step tells, resolved by the cloud among the tenant's users: everyone with a role
 * (`role:operator`: the dashboard's roles, auth/roles.ts), one user by email (`user:ana@farm.example`). The farm server knows no users.
 */
export const alarmRecipient = z.string().regex(/^(role:(admin|operator|viewer)|user:[^\s@]{1,64}@[^\s@]{1,190})$/, 'must be role:<role> or user:<email>');

/** Where an alarm is: the barn it is about (absent for a farm-wide rule such as sync_stalled). */
const alarmPlace = {
  alarm_id: z.uuid(),
  rule_id: topicSegment,
  farm_id: topicSegment,
  barn_id: topicSegment.optional(),
};

export const alarmRaised = z.object({
  ...alarmPlace,
  rule_kind: z.enum(alarmRuleKinds),
  severity: z.enum(alarmSeverities),
  /** The metric a limit or rate rule watches, or the silent device. */
  metric: text(1, 64).optional(),
  device_id: topicSegment.optional(),
  /** The value that raised it (a limit or rate rule) and the bound it crossed. */
  value: z.number().finite().optional(),
  threshold: z.number().finite().optional(),
  unit: text(1, 32).optional(),
  /** When the condition began (before the raise delay) and when the alarm was raised. */
  condition_since: eventTime,
  raised_at: eventTime,
  /** One sentence for a person: "Barn 1 temperature 35.2 °C above 29 °C for 2 min". */
  summary: text(1, 500),
});

export const alarmEscalated = z.object({
  ...alarmPlace,
  severity: z.enum(alarmSeverities),
  /** 0 is the first step (at the raise), then each rung of the ladder, then the reminders. */
  step: int32.min(0).max(10_000),
  kind: z.enum(['step', 'reminder']),
  channels: z.array(z.enum(alarmChannels)).min(1).max(alarmChannels.length),
  recipients: z.array(alarmRecipient).max(50),
  /** Local channels the farm server delivered the step on itself (the cloud was unreachable, or the rule says always). */
  delivered_locally: z.array(z.enum(localAlarmChannels)).max(localAlarmChannels.length),
  summary: text(1, 500),
  escalated_at: eventTime,
});

/** Who acknowledged: a dashboard user (through the downlink), a farm operator, or the CLI. */
export const alarmAcknowledgementSources = ['dashboard', 'operator_api', 'cli'] as const;
export const alarmAcknowledged = z.object({
  ...alarmPlace,
  acknowledged_by: text(1, 200),
  source: z.enum(alarmAcknowledgementSources),
  note: text(1, 1000).optional(),
  acknowledged_at: eventTime,
  /** The downlink command that carried it, when it came from the cloud. */
  command_id: z.uuid().optional(),
});

export const alarmCleared = z.object({
  ...alarmPlace,
  /** `condition`: the value came back (past the hysteresis, for the clear delay); `rule_removed`: the rule was disabled or deleted. */
  reason: z.enum(['condition', 'rule_removed']),
  value: z.number().finite().optional(),
  acknowledged: z.boolean(),
  cleared_at: eventTime,
});
