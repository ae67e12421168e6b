/**
 * The dashboard's reads of the cloud alarm tables (written by alarm-store.ts), under the tenant's
 * row-level security (`db` inside withTenant). An alarm is listed once its severity and summary
 * are known (its raise or an escalation arrived; an acknowledgement or clearing may come first).
 * `pending_acknowledgement` is the dashboard's acknowledgement on its way down (the downlink
 * command and where it stands) while the farm server has not yet said the alarm is acknowledged.
 */
import type { Queryable } from '../../db/transaction';
import type { AlarmRuleKind, AlarmSeverity } from '../../domain/contracts/alarm-payloads';

export type AlarmState = 'raised' | 'acknowledged' | 'cleared';
export type AcknowledgementStatus = 'pending' | 'delivered' | 'applied' | 'refused';

export interface CloudAlarm {
  alarm_id: string;
  edge_id: string | null;
  farm_id: string;
  barn_id: string | null;
  rule_id: string;
  rule_kind: AlarmRuleKind | null;
  severity: AlarmSeverity;
  state: AlarmState;
  summary: string;
  value: number | null;
  threshold: number | null;
  unit: string | null;
  condition_since: string | null;
  raised_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  cleared_at: string | null;
  last_step: number | null;
  pending_acknowledgement: { command_id: string; status: AcknowledgementStatus; created_at: string } | null;
}

export interface AlarmHistoryEntry {
  at: string;
  what: 'raised' | 'escalated' | 'acknowledged' | 'cleared';
  detail: string;
  event_id: string;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const alarmSelect = `
SELECT a.alarm_id::text, a.edge_id, a.farm_id, a.barn_id, a.rule_id, a.rule_kind, a.severity, a.state, a.summary,
       a.value, a.threshold, a.unit, ${iso('a.condition_since')} AS condition_since, ${iso('a.raised_at')} AS raised_at,
       ${iso('a.acknowledged_at')} AS acknowledged_at, a.acknowledged_by, ${iso('a.cleared_at')} AS cleared_at, a.last_step,
       CASE WHEN r.command_id IS NOT NULL AND a.state = 'raised' THEN json_build_object(
         'command_id', r.command_id::text,
         'status', coalesce(c.outcome, CASE WHEN c.delivered_at IS NULL THEN 'pending' ELSE 'delivered' END),
         'created_at', ${iso('r.requested_at')}) END AS pending_acknowledgement
  FROM alarms a
  LEFT JOIN alarm_acknowledgement_requests r ON r.tenant_id = a.tenant_id AND r.alarm_id = a.alarm_id
  LEFT JOIN edge_commands c ON c.command_id = r.command_id
 WHERE a.tenant_id = $1 AND a.severity IS NOT NULL AND a.summary IS NOT NULL`;

export const maxAlarmPage = 500;

/** Open (not cleared) alarms first, then the newest; `open` leaves the cleared ones out. */
export async function listAlarms(db: Queryable, tenantId: string, q: { farmId?: string; state: 'open' | 'all'; limit: number }): Promise<CloudAlarm[]> {
  const { rows } = await db.query<CloudAlarm>(
    `${alarmSelect}
       AND ($2::text IS NULL OR a.farm_id = $2) AND ($3::boolean OR a.state <> 'cleared')
     ORDER BY (a.state = 'cleared'), coalesce(a.raised_at, a.first_seen_at) DESC, a.alarm_id
     LIMIT $4`,
    [tenantId, q.farmId ?? null, q.state === 'all', Math.min(q.limit, maxAlarmPage)],
  );
  return rows;
}

export async function getAlarm(db: Queryable, tenantId: string, alarmId: string): Promise<CloudAlarm | undefined> {
  const { rows } = await db.query<CloudAlarm>(`${alarmSelect} AND a.alarm_id = $2`, [tenantId, alarmId]);
  return rows[0];
}

/** The alarm's events in the order they happened on the farm server. */
export async function alarmHistory(db: Queryable, tenantId: string, alarmId: string): Promise<AlarmHistoryEntry[]> {
  const { rows } = await db.query<AlarmHistoryEntry>(
    `SELECT ${iso('at')} AS at, what, detail, event_id::text FROM alarm_events
      WHERE tenant_id = $1 AND alarm_id = $2 ORDER BY at, received_at, event_id`,
    [tenantId, alarmId],
  );
  return rows;
}

/** The place an acknowledgement command needs, for any alarm (even one whose details are not known yet). */
export async function alarmPlace(
  db: Queryable,
  tenantId: string,
  alarmId: string,
): Promise<{ edge_id: string | null; farm_id: string; barn_id: string | null; rule_id: string; state: AlarmState } | undefined> {
  const { rows } = await db.query<{ edge_id: string | null; farm_id: string; barn_id: string | null; rule_id: string; state: AlarmState }>(
    'SELECT edge_id, farm_id, barn_id, rule_id, state FROM alarms WHERE tenant_id = $1 AND alarm_id = $2',
    [tenantId, alarmId],
  );
  return rows[0];
}
