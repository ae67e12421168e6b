/**
 * The alarm workflow's activities (workflows/alarms/alarm.ts): each transition of an alarm writes
 * the edge alarm tables and appends its catalog event to sync_outbox in one transaction
 * (alarms/alarm-store.ts), idempotent under retries and restarts. A ladder step also delivers on
 * the farm's own channels when the cloud cannot be counted on (alarms/local-delivery.ts).
 */
import type { Pool } from 'pg';
import { inTransaction } from '../../db/transaction';
import type { LocalAlarmChannel } from '../../domain/contracts/alarm-payloads';
import type { AlarmAcknowledgement, AlarmAddress, AlarmClear, AlarmRaise, LadderStep } from '../../alarms/alarm-contract';
import {
  otherSirenAlarm,
  recordAcknowledged,
  recordCleared,
  recordedStep,
  recordEscalation,
  recordNote,
  recordRaised,
  soundedSiren,
  type LocalOutcome,
} from '../../alarms/alarm-store';
import { cloudReachability, type CloudReachability } from '../../alarms/cloud-reachability';
import { deliverLocally, localChannelsFor, type LocalChannels } from '../../alarms/local-delivery';
import { sirenTopic } from '../../alarms/local-channels/mqtt-siren';

export interface AlarmActivityDeps {
  pool: Pool;
  /** ALARM_CLOUD_GRACE_SECONDS: how recent the last successful sync exchange must be. */
  cloudGraceSeconds: number;
  local: LocalChannels;
  /** Tests: decide reachability without the outbox. */
  reachability?: () => Promise<CloudReachability>;
}

const tx = { statementTimeout: '20s' } as const;

/** What an alarm event needs to say about the alarm itself. */
export type AlarmSummary = Pick<AlarmRaise, 'alarmId' | 'severity' | 'summary'>;

export interface RecordRaisedInput {
  address: AlarmAddress;
  raise: AlarmRaise;
  workflowId: string;
}

export interface DeliverStepInput {
  address: AlarmAddress;
  alarm: AlarmSummary;
  step: number;
  kind: 'step' | 'reminder';
  rung: LadderStep;
  alwaysLocal: LocalAlarmChannel[];
  /** The workflow's time when the step fell due: the event's escalated_at. */
  at: string;
}

export interface StepDelivered {
  /** Local channels that took the step. */
  deliveredLocally: LocalAlarmChannel[];
  local: LocalOutcome[];
  cloudReachable: boolean;
  /** The step had been recorded before (a retry, a restarted worker): nothing was delivered again. */
  repeated: boolean;
}

export interface RecordAcknowledgedInput {
  address: AlarmAddress;
  ack: AlarmAcknowledgement;
}

export interface RecordClearedInput {
  address: AlarmAddress;
  alarm: AlarmSummary;
  clear: AlarmClear;
  acknowledged: boolean;
}

export interface NoteInput {
  address: AlarmAddress;
  alarmId: string;
  key: string;
  at: string;
  detail: string;
}

export function createAlarmActivities(deps: AlarmActivityDeps) {
  const { pool } = deps;
  const reachability = deps.reachability ?? (() => cloudReachability(pool, deps.cloudGraceSeconds));

  return {
    async recordAlarmRaised(input: RecordRaisedInput): Promise<{ recorded: boolean }> {
      return { recorded: await inTransaction(pool, (c) => recordRaised(c, input), tx) };
    },

    async deliverAlarmStep(input: DeliverStepInput): Promise<StepDelivered> {
      const { address, alarm, step } = input;
      const before = await recordedStep(pool, alarm.alarmId, step);
      const cloud = await reachability();
      if (before) return delivered(before, cloud.reachable, true);
      const use = localChannelsFor(input.rung, input.alwaysLocal, cloud.reachable, deps.local);
      const local = await deliverLocally(deps.local, use, {
        address,
        message: { alarm_id: alarm.alarmId, rule_id: address.ruleId, severity: alarm.severity, siren: 'on', state: 'raised', summary: alarm.summary },
        step,
        kind: input.kind,
        at: input.at,
      });
      const escalation = { step, kind: input.kind, rung: input.rung, deliveredLocally: local.filter((o) => o.ok).map((o) => o.channel), at: input.at };
      const recorded = await inTransaction(pool, (c) => recordEscalation(c, { address, raise: alarm, escalation, local }), tx);
      // Recorded meanwhile by an earlier attempt that timed out after its commit: that one counts.
      if (!recorded) return delivered((await recordedStep(pool, alarm.alarmId, step)) ?? local, cloud.reachable, true);
      return delivered(local, cloud.reachable, false);
    },

    async recordAlarmAcknowledged(input: RecordAcknowledgedInput): Promise<{ recorded: boolean }> {
      return { recorded: await inTransaction(pool, (c) => recordAcknowledged(c, input), tx) };
    },

    async recordAlarmCleared(input: RecordClearedInput): Promise<{ recorded: boolean; siren?: LocalOutcome }> {
      const { address, alarm, clear } = input;
      const recorded = await inTransaction(pool, (c) => recordCleared(c, input), tx);
      if (!(await soundedSiren(pool, alarm.alarmId))) return { recorded };
      // The siren this alarm sounded goes off, unless another open alarm here sounded it too.
      const other = await otherSirenAlarm(pool, address, alarm.alarmId);
      const message = other
        ? { alarm_id: other.alarmId, rule_id: other.ruleId, severity: other.severity, siren: 'on' as const, state: other.state, summary: other.summary }
        : { alarm_id: alarm.alarmId, rule_id: address.ruleId, severity: alarm.severity, siren: 'off' as const, state: 'cleared', summary: alarm.summary };
      let siren: LocalOutcome;
      try {
        await deps.local.siren.publish(sirenTopic(address), message);
        siren = { channel: 'mqtt_siren', ok: true, detail: other ? `siren left on for alarm ${other.alarmId}` : `siren off on ${sirenTopic(address)}` };
      } catch (err) {
        siren = { channel: 'mqtt_siren', ok: false, detail: `siren off: ${(err as Error).message}` };
      }
      await recordNote(pool, {
        tenantId: address.tenantId,
        alarmId: alarm.alarmId,
        key: 'local:clear:mqtt_siren',
        at: clear.at,
        what: siren.ok ? 'delivered_locally' : 'local_delivery_failed',
        detail: `mqtt_siren: ${siren.detail}`,
      });
      return { recorded, siren };
    },

    /** A signal the alarm ignored (another alarm's id), kept in its history once per key. */
    async noteAlarm(input: NoteInput): Promise<{ recorded: boolean }> {
      const { address, ...note } = input;
      return { recorded: await recordNote(pool, { ...note, tenantId: address.tenantId, what: 'ignored' }) };
    },
  };
}

function delivered(local: LocalOutcome[], cloudReachable: boolean, repeated: boolean): StepDelivered {
  return { deliveredLocally: local.filter((o) => o.ok).map((o) => o.channel), local, cloudReachable, repeated };
}

export type AlarmActivities = ReturnType<typeof createAlarmActivities>;
