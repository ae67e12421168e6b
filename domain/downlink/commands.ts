/**
 * The wire contract of the downlink, cloud → farm server (docs/downlink.md). The cloud keeps an
 * ordered queue of commands per edge; the edge always dials out: it long-polls
 * POST /api/v1/edge/commands, signed with its edge key exactly like a sync batch
 * (domain/sync/request-signing.ts), and carries the outcomes of the commands it applied since in
 * the same request. A command is applied exactly once (the edge records its id before any effect)
 * and acknowledged until the cloud has the outcome, so redelivery is harmless.
 */
import { z } from 'zod';
import { topicSegment } from '../contracts/envelope';
import { alarmRecipient, alarmChannels, alarmSeverities, localAlarmChannels } from '../contracts/alarm-payloads';
import { eventTime, text } from '../contracts/storable';

export const edgeCommandsPath = '/api/v1/edge/commands';

/** The most commands one answer carries, and the longest a pull may wait for the first one. */
export const maxCommandsPerPull = 100;
export const maxPullWaitSeconds = 30;

const ladderStep = z.strictObject({
  after_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400),
  channels: z.array(z.enum(alarmChannels)).min(1).max(alarmChannels.length),
  recipients: z.array(alarmRecipient).max(50),
});

/** A rule as the dashboard writes it and the edge stores it (alarms/rules.ts reads the same shape). */
export const alarmRuleSpec = z.strictObject({
  rule_id: topicSegment,
  farm_id: topicSegment,
  /** Absent: every barn of the farm (and farm-wide for sync_stalled). */
  barn_id: topicSegment.optional(),
  kind: z.enum(['limit', 'rate_of_change', 'sensor_silent', 'feed_outage', 'station_silent', 'sync_stalled']),
  enabled: z.boolean(),
  severity: z.enum(alarmSeverities),
  /** limit / rate_of_change: the metric (temperature, humidity, co2, nh3, …). */
  metric: text(1, 64).optional(),
  /** limit: `max` or `min` and the bound; `age_band`: the flock's comfort band at its age (temperature). */
  bound: z.enum(['max', 'min']).optional(),
  threshold: z.number().finite().optional(),
  age_band: z.boolean().optional(),
  /** rate_of_change: change per `window_seconds` that raises. */
  window_seconds: z.number().int().min(60).max(86_400).optional(),
  /** sensor_silent / station_silent / feed_outage / sync_stalled: how long without news raises. */
  silent_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .optional(),
  raise_delay_seconds: z.number().int().min(0).max(86_400),
  clear_delay_seconds: z.number().int().min(0).max(86_400),
  /** How far back past the bound the value must come to start clearing (same unit as threshold). */
  hysteresis: z.number().finite().min(0).optional(),
  ladder: z.strictObject({
    steps: z.array(ladderStep).min(1).max(10),
    reminder_every_seconds: z.number().int().min(60).max(86_400).optional(),
    always_local: z.array(z.enum(localAlarmChannels)).max(localAlarmChannels.length).optional(),
  }),
});
export type AlarmRuleSpec = z.infer<typeof alarmRuleSpec>;

/** Each command type and its payload. */
export const commandPayloads = {
  'alarm.acknowledge': z.strictObject({
    alarm_id: z.uuid(),
    farm_id: topicSegment,
    barn_id: topicSegment.optional(),
    rule_id: topicSegment,
    acknowledged_by: text(1, 200),
    note: text(1, 1000).optional(),
    acknowledged_at: eventTime,
  }),
  'alarm_rule.upsert': alarmRuleSpec,
  'alarm_rule.delete': z.strictObject({ rule_id: topicSegment, farm_id: topicSegment }),
  'device.provision': z.strictObject({
    device_id: topicSegment,
    farm_id: topicSegment,
    barn_id: topicSegment,
    device_type: text(1, 64),
  }),
  'device.revoke': z.strictObject({ device_id: topicSegment }),
} as const;
export type CommandType = keyof typeof commandPayloads;
export const commandTypes = Object.keys(commandPayloads) as CommandType[];

/** One command as the cloud sends it. `seq` orders an edge's commands; the edge applies them in seq order. */
export const edgeCommand = z.object({
  command_id: z.uuid(),
  seq: z.number().int().min(1),
  tenant_id: z.uuid(),
  type: z.string(),
  /** Checked per type by parseCommand on the edge: one malformed command is refused, the rest still apply. */
  payload: z.unknown(),
  created_at: eventTime,
  created_by: text(1, 200),
});
export type EdgeCommand = z.infer<typeof edgeCommand>;

export type ParsedCommand = { [T in CommandType]: { type: T; payload: z.infer<(typeof commandPayloads)[T]> } }[CommandType];

export function parseCommand(c: Pick<EdgeCommand, 'type' | 'payload'>): { ok: true; command: ParsedCommand } | { ok: false; reason: string } {
  if (!(commandTypes as string[]).includes(c.type)) return { ok: false, reason: 'unknown_command_type' };
  const schema = commandPayloads[c.type as CommandType];
  const parsed = schema.safeParse(c.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `invalid_payload:${issue.path.join('.') || 'payload'}` };
  }
  return { ok: true, command: { type: c.type, payload: parsed.data } as ParsedCommand };
}

/** What the edge reports per command: applied, or refused with a stable reason (never retried). */
export const commandOutcome = z.object({
  command_id: z.uuid(),
  status: z.enum(['applied', 'refused']),
  /** applied: what it did ("acknowledged", "already_cleared", …); refused: the reason code. */
  result: text(1, 200),
  applied_at: eventTime,
});
export type CommandOutcome = z.infer<typeof commandOutcome>;

export const commandsPullRequest = z.object({
  edge_id: text(1, 128),
  /** The highest seq the edge has recorded; the cloud answers the commands after it that lack an outcome. */
  after_seq: z.number().int().min(0),
  /** 0: answer at once; up to maxPullWaitSeconds: hold the request until a command is queued. */
  wait_seconds: z.number().int().min(0).max(maxPullWaitSeconds),
  outcomes: z.array(commandOutcome).max(1000),
});
export type CommandsPullRequest = z.infer<typeof commandsPullRequest>;

export const commandsPullResponse = z.object({
  commands: z.array(edgeCommand).max(maxCommandsPerPull),
  /** How many outcomes of the request the cloud recorded (the rest were already recorded, or unknown). */
  outcomes_recorded: z.number().int().min(0),
});
export type CommandsPullResponse = z.infer<typeof commandsPullResponse>;
