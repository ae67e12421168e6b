/**
 * The only writer of the edge tables `alarms` and `alarm_history` (db/migrations/edge/0010_alarms.sql).
 * Each record* function runs inside the caller's transaction and appends the alarm's catalog event
 * to sync_outbox (priority outboxPriority.alarm, ahead of any backlog) in that same transaction,
 * only when its own history line is new: a retried activity finds the line and appends nothing.
 */
import type { Queryable } from '../db/transaction';
import type { LocalAlarmChannel } from '../domain/contracts/alarm-payloads';
import { appendEvents, outboxEvent, outboxPriority } from '../sync/outbox';
import type { AlarmAcknowledgement, AlarmAddress, AlarmClear, AlarmHistoryEntry, AlarmRaise, AlarmState } from './alarm-contract';
import { alarmAcknowledgedEvent, alarmClearedEvent, alarmEscalatedEvent, alarmRaisedEvent, type Escalation } from './alarm-events';

type What = AlarmHistoryEntry['what'];

/** Appends one history line unless its key is there; true when it was new. */
async function addLine(db: Queryable, tenantId: string, alarmId: string, key: string, at: string, what: What, detail: string): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO alarm_history (tenant_id, alarm_id, entry_key, at, what, detail) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (alarm_id, entry_key) DO NOTHING`,
    [tenantId, alarmId, key, at, what, detail.slice(0, 2000)],
  );
  return r.rowCount === 1;
}

export interface RecordRaised {
  address: AlarmAddress;
  raise: AlarmRaise;
  workflowId: string;
}

/** The alarm's row, its `raised` line and alarm.raised; false when it was recorded before. */
export async function recordRaised(db: Queryable, { address, raise, workflowId }: RecordRaised): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO alarms (alarm_id, tenant_id, farm_id, barn_id, rule_id, rule_kind, severity, workflow_id, summary,
                         metric, device_id, value, threshold, unit, condition_since, raised_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (alarm_id) DO NOTHING`,
    [
      raise.alarmId,
      address.tenantId,
      address.farmId,
      address.barnId ?? null,
      address.ruleId,
      raise.ruleKind,
      raise.severity,
      workflowId,
      raise.summary,
      raise.metric ?? null,
      raise.deviceId ?? null,
      raise.value ?? null,
      raise.threshold ?? null,
      raise.unit ?? null,
      raise.conditionSince,
      raise.raisedAt,
    ],
  );
  if (r.rowCount !== 1) return false;
  await addLine(db, address.tenantId, raise.alarmId, 'raised', raise.raisedAt, 'raised', `${raise.severity}: ${raise.summary}`);
  await appendEvents(db, [outboxEvent(alarmRaisedEvent(address, raise), outboxPriority.alarm)]);
  return true;
}

/** How one local channel fared at one step. */
export interface LocalOutcome {
  channel: LocalAlarmChannel;
  ok: boolean;
  detail: string;
}

export interface RecordEscalation {
  address: AlarmAddress;
  raise: Pick<AlarmRaise, 'alarmId' | 'severity' | 'summary'>;
  escalation: Escalation;
  local: LocalOutcome[];
}

/** The history key of a step: once per alarm and step, whatever ran it. */
export const stepKey = (step: number) => `step:${step}`;

/** A step's lines (escalated or reminded, one per local channel), last_step and alarm.escalated; false when recorded before. */
export async function recordEscalation(db: Queryable, { address, raise, escalation: e, local }: RecordEscalation): Promise<boolean> {
  const { tenantId } = address;
  const detail = `step ${e.step} (${e.kind}): ${e.rung.channels.join(', ')} to ${e.rung.recipients.join(', ') || 'nobody'}`;
  if (!(await addLine(db, tenantId, raise.alarmId, stepKey(e.step), e.at, e.kind === 'reminder' ? 'reminded' : 'escalated', detail))) return false;
  for (const o of local) {
    await addLine(
      db,
      tenantId,
      raise.alarmId,
      `local:${e.step}:${o.channel}`,
      e.at,
      o.ok ? 'delivered_locally' : 'local_delivery_failed',
      `${o.channel}: ${o.detail}`,
    );
  }
  await db.query(`UPDATE alarms SET last_step = GREATEST(coalesce(last_step, -1), $2), updated_at = now() WHERE alarm_id = $1`, [raise.alarmId, e.step]);
  await appendEvents(db, [outboxEvent(alarmEscalatedEvent(address, raise, e), outboxPriority.alarm)]);
  return true;
}

/** A step recorded before (a retry, or the step run again after a restart): what its local channels did. */
export async function recordedStep(db: Queryable, alarmId: string, step: number): Promise<LocalOutcome[] | undefined> {
  const r = await db.query<{ entry_key: string; what: What; detail: string }>(
    `SELECT entry_key, what, detail FROM alarm_history WHERE alarm_id = $1 AND (entry_key = $2 OR entry_key LIKE $3) ORDER BY id`,
    [alarmId, stepKey(step), `local:${step}:%`],
  );
  if (!r.rows.some((x) => x.entry_key === stepKey(step))) return undefined;
  return r.rows
    .filter((x) => x.entry_key !== stepKey(step))
    .map((x) => ({
      channel: x.entry_key.split(':')[2] as LocalAlarmChannel,
      ok: x.what === 'delivered_locally',
      detail: x.detail.replace(/^[a-z_]+: /, ''),
    }));
}

export interface RecordAcknowledged {
  address: AlarmAddress;
  ack: AlarmAcknowledgement;
}

/** State acknowledged, who/when/how, its line and alarm.acknowledged; false when it was acknowledged before. */
export async function recordAcknowledged(db: Queryable, { address, ack }: RecordAcknowledged): Promise<boolean> {
  const r = await db.query(
    `UPDATE alarms SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, acknowledged_via = $4,
                       acknowledgement_note = $5, acknowledged_command_id = $6, updated_at = now()
     WHERE alarm_id = $1 AND acknowledged_at IS NULL`,
    [ack.alarmId, ack.by, ack.at, ack.source, ack.note ?? null, ack.commandId ?? null],
  );
  if (r.rowCount !== 1) return false;
  const via = ack.commandId ? `${ack.source}, command ${ack.commandId}` : ack.source;
  await addLine(db, address.tenantId, ack.alarmId, 'acknowledged', ack.at, 'acknowledged', `by ${ack.by} (${via})${ack.note ? `: ${ack.note}` : ''}`);
  await appendEvents(db, [outboxEvent(alarmAcknowledgedEvent(address, ack), outboxPriority.alarm)]);
  return true;
}

export interface RecordCleared {
  address: AlarmAddress;
  clear: AlarmClear;
  acknowledged: boolean;
}

/** State cleared, its line and alarm.cleared; false when it was cleared before. */
export async function recordCleared(db: Queryable, { address, clear, acknowledged }: RecordCleared): Promise<boolean> {
  const r = await db.query(
    `UPDATE alarms SET state = 'cleared', cleared_at = $2, clear_reason = $3, updated_at = now() WHERE alarm_id = $1 AND state <> 'cleared'`,
    [clear.alarmId, clear.at, clear.reason],
  );
  if (r.rowCount !== 1) return false;
  const value = clear.value === undefined ? '' : `, value ${clear.value}`;
  await addLine(db, address.tenantId, clear.alarmId, 'cleared', clear.at, 'cleared', `${clear.reason}${value}${acknowledged ? '' : ' (never acknowledged)'}`);
  await appendEvents(db, [outboxEvent(alarmClearedEvent(address, clear, acknowledged), outboxPriority.alarm)]);
  return true;
}

/** A line that changes nothing else (an ignored signal); `key` dedupes it. */
export async function recordNote(
  db: Queryable,
  note: { tenantId: string; alarmId: string; key: string; at: string; what: What; detail: string },
): Promise<boolean> {
  return addLine(db, note.tenantId, note.alarmId, note.key, note.at, note.what, note.detail);
}

// --- Reads (operator API, CLI, acknowledgement, local delivery) ---------------------------------

export interface AlarmRecord {
  alarmId: string;
  tenantId: string;
  farmId: string;
  barnId?: string;
  ruleId: string;
  ruleKind: string;
  severity: string;
  workflowId: string;
  state: AlarmState;
  summary: string;
  metric?: string;
  deviceId?: string;
  value?: number;
  threshold?: number;
  unit?: string;
  conditionSince: string;
  raisedAt: string;
  lastStep?: number;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  acknowledgedVia?: string;
  acknowledgementNote?: string;
  acknowledgedCommandId?: string;
  clearedAt?: string;
  clearReason?: string;
}

interface AlarmRow {
  alarm_id: string;
  tenant_id: string;
  farm_id: string;
  barn_id: string | null;
  rule_id: string;
  rule_kind: string;
  severity: string;
  workflow_id: string;
  state: AlarmState;
  summary: string;
  metric: string | null;
  device_id: string | null;
  value: number | null;
  threshold: number | null;
  unit: string | null;
  condition_since: Date;
  raised_at: Date;
  last_step: number | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  acknowledged_via: string | null;
  acknowledgement_note: string | null;
  acknowledged_command_id: string | null;
  cleared_at: Date | null;
  clear_reason: string | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
const iso = (d: Date | null) => (d === null ? undefined : d.toISOString());

function recordOf(r: AlarmRow): AlarmRecord {
  return {
    alarmId: r.alarm_id,
    tenantId: r.tenant_id,
    farmId: r.farm_id,
    barnId: opt(r.barn_id),
    ruleId: r.rule_id,
    ruleKind: r.rule_kind,
    severity: r.severity,
    workflowId: r.workflow_id,
    state: r.state,
    summary: r.summary,
    metric: opt(r.metric),
    deviceId: opt(r.device_id),
    value: opt(r.value),
    threshold: opt(r.threshold),
    unit: opt(r.unit),
    conditionSince: r.condition_since.toISOString(),
    raisedAt: r.raised_at.toISOString(),
    lastStep: opt(r.last_step),
    acknowledgedBy: opt(r.acknowledged_by),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedVia: opt(r.acknowledged_via),
    acknowledgementNote: opt(r.acknowledgement_note),
    acknowledgedCommandId: opt(r.acknowledged_command_id),
    clearedAt: iso(r.cleared_at),
    clearReason: opt(r.clear_reason),
  };
}

export async function getAlarm(db: Queryable, alarmId: string): Promise<AlarmRecord | undefined> {
  const r = await db.query<AlarmRow>(`SELECT * FROM alarms WHERE alarm_id = $1`, [alarmId]);
  return r.rows[0] ? recordOf(r.rows[0]) : undefined;
}

export async function listAlarms(db: Queryable, opts: { open: boolean; limit: number; tenantId?: string }): Promise<AlarmRecord[]> {
  const r = await db.query<AlarmRow>(
    `SELECT * FROM alarms WHERE ($1::boolean IS FALSE OR state <> 'cleared') AND ($2::uuid IS NULL OR tenant_id = $2)
     ORDER BY raised_at DESC, alarm_id LIMIT $3`,
    [opts.open, opts.tenantId ?? null, opts.limit],
  );
  return r.rows.map(recordOf);
}

export async function alarmHistory(db: Queryable, alarmId: string): Promise<AlarmHistoryEntry[]> {
  const r = await db.query<{ at: Date; what: What; detail: string }>(`SELECT at, what, detail FROM alarm_history WHERE alarm_id = $1 ORDER BY at, id`, [
    alarmId,
  ]);
  return r.rows.map((x) => ({ at: x.at.toISOString(), what: x.what, detail: x.detail }));
}

/** A history line saying the siren was published for this alarm (a step, its acknowledgement or clear). */
const sirenLine = `h.what = 'delivered_locally' AND h.entry_key LIKE 'local:%:mqtt_siren'`;

/**
 * The alarms that sound the siren at this place (tenant, farm, barn or farm-wide): raised, not
 * acknowledged (acknowledging silences the horn) nor cleared, and sounded it at some step, plus
 * `including` if it is raised (the alarm whose step is sounding it now). Newest first, at most
 * `limit`, with the count of them all: the siren's state is on while there is any.
 */
export async function sirenAlarms(
  db: Queryable,
  address: Pick<AlarmAddress, 'tenantId' | 'farmId' | 'barnId'>,
  opts: { limit: number; including?: string },
): Promise<{ alarms: AlarmRecord[]; total: number }> {
  const r = await db.query<AlarmRow & { total: string }>(
    `SELECT a.*, count(*) OVER () AS total FROM alarms a
     WHERE a.tenant_id = $1 AND a.farm_id = $2 AND a.barn_id IS NOT DISTINCT FROM $3 AND a.state = 'raised'
       AND (a.alarm_id = $4 OR EXISTS (SELECT 1 FROM alarm_history h WHERE h.alarm_id = a.alarm_id AND ${sirenLine}))
     ORDER BY a.raised_at DESC, a.alarm_id LIMIT $5`,
    [address.tenantId, address.farmId, address.barnId ?? null, opts.including ?? null, opts.limit],
  );
  return { alarms: r.rows.map(recordOf), total: r.rows[0] ? Number(r.rows[0].total) : 0 };
}

/** True when this alarm sounded the siren at some step. */
export async function soundedSiren(db: Queryable, alarmId: string): Promise<boolean> {
  const r = await db.query(`SELECT 1 FROM alarm_history h WHERE h.alarm_id = $1 AND ${sirenLine} LIMIT 1`, [alarmId]);
  return (r.rowCount ?? 0) > 0;
}
