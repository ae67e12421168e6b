/**
 * The alarm workflow's activities (workflows/alarms/alarm.ts): each transition of an alarm writes
 * the edge alarm tables and appends its catalog event to sync_outbox in one transaction
 * (alarms/alarm-store.ts), idempotent under retries and restarts. A ladder step also delivers on
 * the farm's own channels when the cloud cannot be counted on (alarms/local-delivery.ts).
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../../db/transaction';
import type { LocalAlarmChannel } from '../../domain/contracts/alarm-payloads';
import type { AlarmAcknowledgement, AlarmAddress, AlarmClear, AlarmRaise, LadderStep } from '../../alarms/alarm-contract';
import {
  getAlarm,
  recordAcknowledged,
  recordCleared,
  recordedStep,
  recordEscalation,
  recordNote,
  recordRaised,
  sirenAlarms,
  soundedSiren,
  type AlarmRecord,
  type LocalOutcome,
} from '../../alarms/alarm-store';
import { cloudReachability, type CloudReachability } from '../../alarms/cloud-reachability';
import { deliverLocally, localChannelsFor, sirenDetail, type LocalChannels } from '../../alarms/local-delivery';
import { sirenListedAlarms, sirenState, sirenTopic, type AlarmMessage } from '../../alarms/local-channels/mqtt-siren';

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

  /** Publishes the barn's siren state after an acknowledgement or clear, and notes it in the alarm's history. */
  async function republishSiren(c: PoolClient, address: AlarmAddress, silencedBy: AlarmMessage, why: 'ack' | 'clear', at: string): Promise<LocalOutcome> {
    const topic = sirenTopic(address);
    const sounding = await sirenAlarms(c, address, { limit: sirenListedAlarms });
    const message = sirenState({ alarms: sounding.alarms.map(messageOf), total: sounding.total }, silencedBy);
    let siren: LocalOutcome;
    try {
      await deps.local.siren.publish(topic, message);
      siren = { channel: 'mqtt_siren', ok: true, detail: sirenDetail(message, topic, silencedBy.alarm_id) };
    } catch (err) {
      siren = { channel: 'mqtt_siren', ok: false, detail: `siren ${message.siren}: ${(err as Error).message}` };
    }
    await recordNote(c, {
      tenantId: address.tenantId,
      alarmId: silencedBy.alarm_id,
      key: `local:${why}:mqtt_siren`,
      at,
      what: siren.ok ? 'delivered_locally' : 'local_delivery_failed',
      detail: `mqtt_siren: ${siren.detail}`,
    });
    return siren;
  }

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
      const message: AlarmMessage = {
        alarm_id: alarm.alarmId,
        rule_id: address.ruleId,
        severity: alarm.severity,
        siren: 'on',
        state: 'raised',
        summary: alarm.summary,
      };
      // The siren publishes the barn's state with this alarm in it (unless it was acknowledged or
      // cleared meanwhile), and the step's line that says it sounded commits under the same lock.
      const recorded = await inTransaction(
        pool,
        async (c) => {
          let siren = sirenState({ alarms: [message], total: 1 }, message);
          if (use.includes('mqtt_siren')) {
            await sirenLock(c, address);
            const sounding = await sirenAlarms(c, address, { limit: sirenListedAlarms, including: alarm.alarmId });
            const self = sounding.total === 0 ? await getAlarm(c, alarm.alarmId) : undefined;
            siren = sirenState(
              { alarms: sounding.alarms.map(messageOf), total: sounding.total },
              { ...message, siren: 'off', state: self?.state ?? 'cleared' },
            );
          }
          const local = await deliverLocally(deps.local, use, { address, message, siren, step, kind: input.kind, at: input.at });
          const escalation = { step, kind: input.kind, rung: input.rung, deliveredLocally: local.filter((o) => o.ok).map((o) => o.channel), at: input.at };
          return (await recordEscalation(c, { address, raise: alarm, escalation, local })) ? local : undefined;
        },
        tx,
      );
      // Recorded meanwhile by an earlier attempt that timed out after its commit: that one counts.
      if (!recorded) return delivered((await recordedStep(pool, alarm.alarmId, step)) ?? [], cloud.reachable, true);
      return delivered(recorded, cloud.reachable, false);
    },

    /** Acknowledging silences the horn: the barn's siren is republished without this alarm. */
    async recordAlarmAcknowledged(input: RecordAcknowledgedInput): Promise<{ recorded: boolean; siren?: LocalOutcome }> {
      const { address, ack } = input;
      return inTransaction(
        pool,
        async (c) => {
          await sirenLock(c, address);
          const recorded = await recordAcknowledged(c, input);
          if (!(await soundedSiren(c, ack.alarmId))) return { recorded };
          const alarm = await getAlarm(c, ack.alarmId);
          const silencedBy: AlarmMessage = { ...(alarm ? messageOf(alarm) : fallbackMessage(address, ack.alarmId)), state: 'acknowledged' };
          return { recorded, siren: await republishSiren(c, address, silencedBy, 'ack', ack.at) };
        },
        tx,
      );
    },

    /** The clear republishes the barn's siren: off, unless other alarms there still sound it. */
    async recordAlarmCleared(input: RecordClearedInput): Promise<{ recorded: boolean; siren?: LocalOutcome }> {
      const { address, alarm, clear } = input;
      return inTransaction(
        pool,
        async (c) => {
          await sirenLock(c, address);
          const recorded = await recordCleared(c, input);
          if (!(await soundedSiren(c, alarm.alarmId))) return { recorded };
          const silencedBy: AlarmMessage = {
            alarm_id: alarm.alarmId,
            rule_id: address.ruleId,
            severity: alarm.severity,
            siren: 'off',
            state: 'cleared',
            summary: alarm.summary,
          };
          return { recorded, siren: await republishSiren(c, address, silencedBy, 'clear', clear.at) };
        },
        tx,
      );
    },

    /** A signal the alarm ignored (another alarm's id), kept in its history once per key. */
    async noteAlarm(input: NoteInput): Promise<{ recorded: boolean }> {
      const { address, ...note } = input;
      return { recorded: await recordNote(pool, { ...note, tenantId: address.tenantId, what: 'ignored' }) };
    },
  };
}

/**
 * One siren topic per barn: whoever publishes its state (a step, an acknowledgement, a clear) reads
 * the sounding alarms, publishes and records under this lock until its transaction ends, so two
 * alarms of a barn never publish states out of order (a stale `off` after another's `on`).
 */
async function sirenLock(c: PoolClient, address: AlarmAddress): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`farmiq-siren:${sirenTopic(address)}`]);
}

function messageOf(a: AlarmRecord): AlarmMessage {
  return { alarm_id: a.alarmId, rule_id: a.ruleId, severity: a.severity, siren: 'on', state: a.state, summary: a.summary };
}

function fallbackMessage(address: AlarmAddress, alarmId: string): AlarmMessage {
  return { alarm_id: alarmId, rule_id: address.ruleId, severity: 'unknown', siren: 'off', state: 'acknowledged', summary: '' };
}

function delivered(local: LocalOutcome[], cloudReachable: boolean, repeated: boolean): StepDelivered {
  return { deliveredLocally: local.filter((o) => o.ok).map((o) => o.channel), local, cloudReachable, repeated };
}

export type AlarmActivities = ReturnType<typeof createAlarmActivities>;
