/**
 * The time-based alarm rules, checked every minute by the `alarm-sweep/<edge>` schedule
 * (docs/alarm-rules.md): a silent sensor, a silent WeighVision station, a barn with a flock and
 * no feed, and a farm server that cannot sync. Each is the seconds without news at a place, fed to
 * the same condition machine as the readings (a max bound of silent_seconds), raised and cleared
 * the same way (evaluator.ts). A condition left open by a rule that no longer applies at its
 * place — deleted or disabled, an age band gone with the flock, the sensor, station or dispenser
 * revoked — is cleared with reason `rule_removed`.
 *
 * Every query reads an index only: the minute rollups by device and metric (the rollup's key),
 * the sessions by barn and status, the feed by barn and time, the outbox's claim index.
 */
import type { Pool } from 'pg';
import type { AlarmRuleSpec } from '../domain/downlink/commands';
import type { Logger } from '../platform/logger';
import type { ConditionState } from './condition';
import { judge, openAlarmId, signalJudgement, unstoredStarts, workflowIdOf, type ConditionSignaller, type Observed } from './evaluator';
import { farmRules, loadConditions, openConditions, saveConditions, conditionKeyOf, type ConditionKey } from './rule-store';
import { barnFlocks } from './flock-ages';
import { appliesAt, conditionRuleAt, farmPlace, isFarmWide, telemetryDeviceKinds, timeKinds, type BarnFlock } from './rules';

/** The schedule's workflow (workflows/alarms/sweep.ts, exported from workflows/edge.ts). */
export const alarmSweepWorkflowType = 'sweepAlarmRules';

export interface AlarmSweepInput {
  /** Only these tenants (tests sharing a database); all the edge holds when absent. */
  tenantIds?: string[];
}

export interface AlarmSweepResult {
  farms: number;
  judged: number;
  raised: number;
  cleared: number;
  /** Signals Temporal did not take: their conditions stay as they were, and the next minute tries again. */
  failed: number;
}

export type AlarmSweepWorkflow = (input: AlarmSweepInput) => Promise<AlarmSweepResult>;

/** How far back the last news is looked for; beyond it a place counts as silent since then. */
const lookbackSeconds = 8 * 86_400;

interface Silence {
  tenantId: string;
  farmId: string;
  place: string;
  seconds: number;
  deviceId?: string;
}

type Kind = (typeof timeKinds)[number];

const tenantFilter = (col: string, param: string) => `(${param}::uuid[] IS NULL OR ${col} = ANY(${param}::uuid[]))`;

/**
 * Per barn, the telemetry device (telemetryDeviceKinds) silent longest: its last minute rollup of
 * any metric it reports, or its provisioning. The device's metrics are walked on the rollup's key
 * (a skip scan: one probe per metric), each metric's last minute one probe more.
 */
async function sensorSilence(pool: Pool, now: Date, tenants: string[] | null): Promise<Silence[]> {
  const r = await pool.query<{ tenant_id: string; farm_id: string; barn_id: string; device_id: string; seconds: number }>(
    `SELECT d.tenant_id::text, d.farm_id, d.barn_id, d.device_id,
            extract(epoch FROM $1::timestamptz - greatest(d.created_at, $1::timestamptz - $3 * interval '1 second',
              (WITH RECURSIVE m(metric) AS (
                 SELECT min(r.metric) FROM telemetry_rollup r
                  WHERE r.tenant_id = d.tenant_id AND r.farm_id = d.farm_id AND r.barn_id = d.barn_id AND r.device_id = d.device_id
                 UNION ALL
                 SELECT (SELECT min(r.metric) FROM telemetry_rollup r
                          WHERE r.tenant_id = d.tenant_id AND r.farm_id = d.farm_id AND r.barn_id = d.barn_id AND r.device_id = d.device_id
                            AND r.metric > m.metric)
                   FROM m WHERE m.metric IS NOT NULL)
               SELECT max(last.at) FROM m, LATERAL (
                 SELECT max(r.bucket_start) + interval '1 minute' AS at FROM telemetry_rollup r
                  WHERE r.tenant_id = d.tenant_id AND r.farm_id = d.farm_id AND r.barn_id = d.barn_id AND r.device_id = d.device_id
                    AND r.metric = m.metric AND r.bucket_width = '1m' AND r.bucket_start >= $1::timestamptz - $3 * interval '1 second') last
                WHERE m.metric IS NOT NULL)))::float8 AS seconds
       FROM edge_devices d
      WHERE d.kind = ANY($4::text[]) AND d.revoked_at IS NULL AND ${tenantFilter('d.tenant_id', '$2')}`,
    [now, tenants, lookbackSeconds, [...telemetryDeviceKinds]],
  );
  return worstPerBarn(r.rows);
}

/** Per barn with a WeighVision station, the time since its last session started. */
async function stationSilence(pool: Pool, now: Date, tenants: string[] | null): Promise<Silence[]> {
  const r = await pool.query<{ tenant_id: string; farm_id: string; barn_id: string; device_id: string; seconds: number }>(
    `SELECT d.tenant_id::text, d.farm_id, d.barn_id, min(d.device_id) AS device_id,
            extract(epoch FROM $1::timestamptz - greatest(min(d.created_at), $1::timestamptz - $3 * interval '1 second',
              (SELECT max(s.last) FROM unnest(ARRAY['created','collecting','finalizing','finalized','timed_out','failed']) AS st(status),
                 LATERAL (SELECT max(w.started_at) AS last FROM weighvision_sessions w
                           WHERE w.tenant_id = d.tenant_id AND w.farm_id = d.farm_id AND w.barn_id = d.barn_id AND w.status = st.status) s)))::float8 AS seconds
       FROM edge_devices d
      WHERE d.kind = 'weighvision-station' AND d.revoked_at IS NULL AND ${tenantFilter('d.tenant_id', '$2')}
      GROUP BY d.tenant_id, d.farm_id, d.barn_id`,
    [now, tenants, lookbackSeconds],
  );
  return worstPerBarn(r.rows);
}

/**
 * Per barn with a placed flock that is fed by this farm's kit — a feed dispenser provisioned there,
 * or feed dispensed there within the lookback — the time since feed was last dispensed, counted
 * from the later of the placement and the first dispenser's provisioning (a barn fed by hand and
 * never recorded here has nothing to be judged on).
 */
async function feedSilence(pool: Pool, now: Date, tenants: string[] | null): Promise<Silence[]> {
  const r = await pool.query<{ tenant_id: string; farm_id: string; barn_id: string; seconds: number }>(
    `SELECT x.tenant_id::text, x.farm_id, x.barn_id,
            extract(epoch FROM $1::timestamptz - greatest(x.placed_at, x.dispenser_since, $1::timestamptz - $3 * interval '1 second', x.last_feed))::float8 AS seconds
       FROM (SELECT f.tenant_id, f.farm_id, f.barn_id, f.placed_at,
                    (SELECT min(d.created_at) FROM edge_devices d
                      WHERE d.tenant_id = f.tenant_id AND d.farm_id = f.farm_id AND d.barn_id = f.barn_id
                        AND d.kind = 'feed-dispenser' AND d.revoked_at IS NULL) AS dispenser_since,
                    (SELECT max(i.dispensed_at) FROM feed_intake_local i
                      WHERE i.tenant_id = f.tenant_id AND i.farm_id = f.farm_id AND i.barn_id = f.barn_id
                        AND i.dispensed_at >= $1::timestamptz - $3 * interval '1 second') AS last_feed
               FROM flocks f
              WHERE f.status = 'placed' AND ${tenantFilter('f.tenant_id', '$2')}) x
      WHERE x.dispenser_since IS NOT NULL OR x.last_feed IS NOT NULL`,
    [now, tenants, lookbackSeconds],
  );
  return r.rows.map((x) => ({ tenantId: x.tenant_id, farmId: x.farm_id, place: x.barn_id, seconds: Math.max(0, x.seconds) }));
}

/** How long the oldest row still waiting to be synced has waited (0: nothing waits). One claim-index probe. */
async function syncWait(pool: Pool, now: Date): Promise<number> {
  const r = await pool.query<{ oldest: Date | null }>(
    `SELECT min(created_at) AS oldest FROM (
       SELECT created_at FROM sync_outbox WHERE status IN ('pending', 'claimed') ORDER BY priority DESC, occurred_at LIMIT 1000) w`,
  );
  const oldest = r.rows[0]?.oldest;
  return oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0;
}

function worstPerBarn(rows: { tenant_id: string; farm_id: string; barn_id: string; device_id: string; seconds: number }[]): Silence[] {
  const worst = new Map<string, Silence>();
  for (const x of rows) {
    const k = `${x.tenant_id}|${x.farm_id}|${x.barn_id}`;
    const seconds = Math.max(0, x.seconds);
    const hit = worst.get(k);
    if (!hit || seconds > hit.seconds) worst.set(k, { tenantId: x.tenant_id, farmId: x.farm_id, place: x.barn_id, seconds, deviceId: x.device_id });
  }
  return [...worst.values()];
}

/** The farms this edge holds anything of: devices, flocks, stored rules. */
async function edgeFarms(pool: Pool, tenants: string[] | null): Promise<{ tenantId: string; farmId: string }[]> {
  const r = await pool.query<{ tenant_id: string; farm_id: string }>(
    `SELECT DISTINCT tenant_id::text, farm_id FROM (
       SELECT tenant_id, farm_id FROM edge_devices WHERE revoked_at IS NULL
       UNION SELECT tenant_id, farm_id FROM flocks WHERE status = 'placed'
       UNION SELECT tenant_id, farm_id FROM alarm_rules) f
      WHERE ${tenantFilter('tenant_id', '$1')}`,
    [tenants],
  );
  return r.rows.map((x) => ({ tenantId: x.tenant_id, farmId: x.farm_id }));
}

export interface AlarmSweepDeps {
  pool: Pool;
  signaller: ConditionSignaller;
  log?: Logger;
  now?: () => Date;
}

export async function sweepAlarms(deps: AlarmSweepDeps, input: AlarmSweepInput = {}): Promise<AlarmSweepResult> {
  const { pool, signaller } = deps;
  const now = deps.now?.() ?? new Date();
  const tenants = input.tenantIds?.length ? input.tenantIds.map((t) => t.toLowerCase()) : null;
  const farms = await edgeFarms(pool, tenants);
  const result: AlarmSweepResult = { farms: farms.length, judged: 0, raised: 0, cleared: 0, failed: 0 };
  if (farms.length === 0) return result;

  const [sensors, stations, feed, syncSeconds] = await Promise.all([
    sensorSilence(pool, now, tenants),
    stationSilence(pool, now, tenants),
    feedSilence(pool, now, tenants),
    syncWait(pool, now),
  ]);
  const silences: Record<Kind, Silence[]> = {
    sensor_silent: sensors,
    station_silent: stations,
    feed_outage: feed,
    sync_stalled: farms.map((f) => ({ ...f, place: farmPlace, seconds: syncSeconds })),
  };

  const observed: Observed[] = [];
  const removed: (ConditionKey & { state: ConditionState })[] = [];
  for (const farm of farms) {
    const rules = await farmRules(pool, farm.tenantId, farm.farmId);
    for (const rule of rules) {
      if (!(timeKinds as readonly string[]).includes(rule.kind) || !rule.enabled) continue;
      const cond = conditionRuleAt(rule, undefined);
      if (!cond) continue;
      for (const s of silences[rule.kind as Kind]) {
        if (s.tenantId !== farm.tenantId || s.farmId !== farm.farmId) continue;
        if (isFarmWide(rule) ? s.place !== farmPlace : !appliesAt(rule, s.place)) continue;
        observed.push({
          key: { tenantId: s.tenantId, farmId: s.farmId, place: s.place, ruleId: rule.rule_id },
          rule,
          cond,
          obs: { value: s.seconds, at: now.toISOString() },
          ...(s.deviceId !== undefined ? { deviceId: s.deviceId } : {}),
          // The machine judges seconds; the alarm carries minutes (alarmMeasure).
          unit: 's',
        });
      }
    }
    const open = await openConditions(pool, farm.tenantId, farm.farmId);
    if (open.length === 0) continue;
    const flocks = await barnFlocks(pool, farm.tenantId, farm.farmId, now);
    const judgedHere = new Set(observed.map((o) => conditionKeyOf(o.key)));
    removed.push(...open.filter((c) => !inForce(rules, c, flocks, judgedHere)));
  }

  const prev = await loadConditions(pool, [...new Map(observed.map((o) => [conditionKeyOf(o.key), o.key])).values()]);
  const judgements = judge(observed, prev);
  result.judged = judgements.length;
  const toSave: (ConditionKey & { state: ConditionState })[] = [];
  await saveConditions(pool, unstoredStarts(judgements));
  for (const j of judgements) {
    try {
      toSave.push({ ...j.key, state: await signalJudgement(signaller, j, now) });
      if (j.step.transition === 'raise') result.raised++;
      else if (j.step.transition === 'clear') result.cleared++;
    } catch (err) {
      result.failed++;
      deps.log?.warn({ err: (err as Error).message, workflowId: workflowIdOf(j.key) }, 'alarm signal failed; the next sweep tries again');
    }
  }
  for (const c of removed) {
    try {
      if (c.state.phase === 'active' || c.state.phase === 'pending_clear') {
        await signaller.clear(workflowIdOf(c), { alarmId: openAlarmId(c, c.state), reason: 'rule_removed', at: now.toISOString() });
        result.cleared++;
      }
      toSave.push({ ...c, state: { phase: 'normal' } });
    } catch (err) {
      result.failed++;
      deps.log?.warn({ err: (err as Error).message, workflowId: workflowIdOf(c) }, 'clearing the alarm of a removed rule failed; the next sweep tries again');
    }
  }
  await saveConditions(pool, toSave);
  return result;
}

/**
 * Whether an open condition's rule still applies at its place: the rule is there and enabled, a
 * reading rule still has a bound there (an age band needs the barn's flock), and a time-based rule
 * still has something to judge there this minute (its sensor, station or dispenser not revoked,
 * the flock not gone).
 */
function inForce(rules: readonly AlarmRuleSpec[], c: ConditionKey, flocks: ReadonlyMap<string, BarnFlock>, judgedHere: ReadonlySet<string>): boolean {
  const rule = rules.find((r) => r.rule_id === c.ruleId);
  if (!rule?.enabled) return false;
  if (!(c.place === farmPlace ? isFarmWide(rule) : appliesAt(rule, c.place))) return false;
  if ((timeKinds as readonly string[]).includes(rule.kind)) return judgedHere.has(conditionKeyOf(c));
  return conditionRuleAt(rule, flocks.get(c.place)) !== null;
}
