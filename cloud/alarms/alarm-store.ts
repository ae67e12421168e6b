/**
 * The only writer of the cloud alarm tables (db/migrations/cloud/0016_alarms.sql): the alarm row
 * and its history, written by cloud-alarm-service from the farm server's alarm events, and the
 * dashboard's acknowledgement requests.
 *
 * Events arrive in any order (a retried batch, a redelivery, a clearing before its raise): every
 * write is an upsert that converges. The state only moves forward — raised → acknowledged →
 * cleared — the first acknowledgement and the first clearing stand, the raise fills in the
 * details whenever it comes, and an edge once known is kept.
 */
import type { z } from 'zod';
import type { alarmAcknowledged, alarmCleared, alarmEscalated, alarmRaised } from '../../domain/contracts/alarm-payloads';
import type { Queryable } from '../../db/transaction';

export type AlarmRaised = z.infer<typeof alarmRaised>;
export type AlarmEscalated = z.infer<typeof alarmEscalated>;
export type AlarmAcknowledged = z.infer<typeof alarmAcknowledged>;
export type AlarmCleared = z.infer<typeof alarmCleared>;

/** What every write knows: whose alarm, which farm server sent it, the event. */
export interface AlarmEventMeta {
  tenantId: string;
  eventId: string;
  edgeId: string | null;
}

/** One history row: `detail` is the sentence the dashboard shows, `data` the payload and what the cloud did. */
async function appendHistory(
  db: Queryable,
  meta: AlarmEventMeta,
  alarmId: string,
  what: 'raised' | 'escalated' | 'acknowledged' | 'cleared',
  at: string,
  detail: string,
  data: Record<string, unknown>,
): Promise<void> {
  await db.query(
    `INSERT INTO alarm_events (tenant_id, event_id, alarm_id, what, at, detail, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [meta.tenantId, meta.eventId, alarmId, what, at, detail, JSON.stringify(data)],
  );
}

// The place columns every event carries; a row first made by a later event starts from them.
const placeColumns = 'tenant_id, alarm_id, edge_id, farm_id, barn_id, rule_id';
const keepEdge = 'edge_id = coalesce(alarms.edge_id, excluded.edge_id), updated_at = now()';

function placeValues(meta: AlarmEventMeta, p: { alarm_id: string; farm_id: string; barn_id?: string; rule_id: string }): unknown[] {
  return [meta.tenantId, p.alarm_id, meta.edgeId, p.farm_id, p.barn_id ?? null, p.rule_id];
}

export async function recordRaised(db: Queryable, meta: AlarmEventMeta, p: AlarmRaised): Promise<void> {
  // The raise carries the details; whatever state a later event already reached stays.
  await db.query(
    `INSERT INTO alarms (${placeColumns}, rule_kind, severity, state, summary, metric, device_id, value, threshold, unit,
                         condition_since, raised_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'raised', $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (tenant_id, alarm_id) DO UPDATE SET
       rule_kind = excluded.rule_kind, severity = excluded.severity, summary = excluded.summary, metric = excluded.metric,
       device_id = excluded.device_id, value = excluded.value, threshold = excluded.threshold, unit = excluded.unit,
       condition_since = excluded.condition_since, raised_at = excluded.raised_at, ${keepEdge}`,
    [
      ...placeValues(meta, p),
      p.rule_kind,
      p.severity,
      p.summary,
      p.metric ?? null,
      p.device_id ?? null,
      p.value ?? null,
      p.threshold ?? null,
      p.unit ?? null,
      p.condition_since,
      p.raised_at,
    ],
  );
  const bound = p.value !== undefined && p.threshold !== undefined ? ` (${p.value} against ${p.threshold}${p.unit ? ` ${p.unit}` : ''})` : '';
  await appendHistory(db, meta, p.alarm_id, 'raised', p.raised_at, `raised, ${p.severity}: ${p.summary}${bound}`, { payload: p });
}

/** What the cloud did with one escalation step: the notifications it made and the recipients it could not resolve. */
export interface StepDelivery {
  sent: { recipient: string; userId: string | null; channel: string; notificationId: string; duplicate: boolean }[];
  unresolved: { recipient: string; reason: string }[];
  failed: { recipient: string; channel: string; reason: string }[];
  /** Why nothing was sent: the step came after the cloud heard the alarm was acknowledged or cleared. */
  skipped?: string;
}

export function stepDetail(p: AlarmEscalated, d: StepDelivery): string {
  const parts = [`${p.kind === 'reminder' ? 'reminder' : 'step'} ${p.step}: ${p.channels.join(', ')}`];
  if (p.recipients.length > 0) parts.push(`to ${p.recipients.join(', ')}`);
  if (p.delivered_locally.length > 0) parts.push(`delivered locally by the farm server on ${p.delivered_locally.join(', ')}`);
  parts.push(d.skipped ? `not sent by the cloud: ${d.skipped}` : `${d.sent.length} notification(s) sent by the cloud`);
  if (d.unresolved.length > 0) parts.push(`unknown recipient(s): ${d.unresolved.map((u) => u.recipient).join(', ')}`);
  if (d.failed.length > 0) parts.push(`${d.failed.length} notification(s) refused`);
  return parts.join('; ');
}

export async function recordEscalated(db: Queryable, meta: AlarmEventMeta, p: AlarmEscalated, delivery: StepDelivery): Promise<void> {
  await db.query(
    `INSERT INTO alarms (${placeColumns}, severity, state, summary, last_step)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'raised', $8, $9)
     ON CONFLICT (tenant_id, alarm_id) DO UPDATE SET
       severity = coalesce(alarms.severity, excluded.severity), summary = coalesce(alarms.summary, excluded.summary),
       last_step = greatest(alarms.last_step, excluded.last_step), ${keepEdge}`,
    [...placeValues(meta, p), p.severity, p.summary, p.step],
  );
  await appendHistory(db, meta, p.alarm_id, 'escalated', p.escalated_at, stepDetail(p, delivery), { payload: p, delivery });
}

export async function recordAcknowledged(db: Queryable, meta: AlarmEventMeta, p: AlarmAcknowledged): Promise<void> {
  // A clearing that came first stays cleared; the first acknowledgement's who and when stand.
  await db.query(
    `INSERT INTO alarms (${placeColumns}, state, acknowledged_at, acknowledged_by, acknowledged_source, acknowledged_note)
     VALUES ($1, $2, $3, $4, $5, $6, 'acknowledged', $7, $8, $9, $10)
     ON CONFLICT (tenant_id, alarm_id) DO UPDATE SET
       state = CASE WHEN alarms.state = 'cleared' THEN 'cleared' ELSE 'acknowledged' END,
       acknowledged_by = CASE WHEN alarms.acknowledged_at IS NULL THEN excluded.acknowledged_by ELSE alarms.acknowledged_by END,
       acknowledged_source = CASE WHEN alarms.acknowledged_at IS NULL THEN excluded.acknowledged_source ELSE alarms.acknowledged_source END,
       acknowledged_note = CASE WHEN alarms.acknowledged_at IS NULL THEN excluded.acknowledged_note ELSE alarms.acknowledged_note END,
       acknowledged_at = coalesce(alarms.acknowledged_at, excluded.acknowledged_at), ${keepEdge}`,
    [...placeValues(meta, p), p.acknowledged_at, p.acknowledged_by, p.source, p.note ?? null],
  );
  const note = p.note ? `: ${p.note}` : '';
  await appendHistory(db, meta, p.alarm_id, 'acknowledged', p.acknowledged_at, `acknowledged by ${p.acknowledged_by} (${p.source})${note}`, {
    payload: p,
  });
}

export async function recordCleared(db: Queryable, meta: AlarmEventMeta, p: AlarmCleared): Promise<void> {
  await db.query(
    `INSERT INTO alarms (${placeColumns}, state, cleared_at, cleared_reason)
     VALUES ($1, $2, $3, $4, $5, $6, 'cleared', $7, $8)
     ON CONFLICT (tenant_id, alarm_id) DO UPDATE SET
       state = 'cleared',
       cleared_reason = CASE WHEN alarms.cleared_at IS NULL THEN excluded.cleared_reason ELSE alarms.cleared_reason END,
       cleared_at = coalesce(alarms.cleared_at, excluded.cleared_at), ${keepEdge}`,
    [...placeValues(meta, p), p.cleared_at, p.reason],
  );
  const why = p.reason === 'condition' ? 'the condition ended' : 'its rule was removed';
  const value = p.value !== undefined ? ` (value ${p.value})` : '';
  await appendHistory(db, meta, p.alarm_id, 'cleared', p.cleared_at, `cleared: ${why}${value}${p.acknowledged ? '' : ', never acknowledged'}`, {
    payload: p,
  });
}

/**
 * A dashboard user's acknowledgement sent down as a command; inside the tenant's transaction
 * (withTenant) with the command's enqueue. A second request for the alarm keeps the first row.
 */
export async function recordAcknowledgementRequest(
  db: Queryable,
  r: { tenantId: string; alarmId: string; commandId: string; seq: number; requestedBy: string; note: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO alarm_acknowledgement_requests (tenant_id, alarm_id, command_id, seq, requested_by, note)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [r.tenantId, r.alarmId, r.commandId, r.seq, r.requestedBy, r.note],
  );
}
