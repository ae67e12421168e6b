/**
 * A barn's climate series of one metric, every sensor of the barn combined per bucket (the mean
 * weighted by each rollup's reading count, the min of the mins, the max of the maxes), from the
 * rollups the edge publishes (telemetry_rollups, one row per device, minute and hour windows):
 *
 *   range ≤ 48 h  → minute rollups ('1m'), the hour still open included (its minutes are there);
 *   longer        → hour rollups ('1h'). The edge publishes a window only once it has closed, so the
 *                   open hour — and a closed hour whose rollup is still on its way — has no hour row:
 *                   every hour after the barn's newest hour rollup of the range (at most the last
 *                   48 h) is made from its minute rollups, with the same weighting.
 *
 * A range is at most maxClimateRangeDays, so a series holds at most 2 880 minute or about 4 800
 * hour points. Both queries are ordered scans of telemetry_rollups_barn_metric_time.
 */
import type { PoolClient } from 'pg';
import { daysBetween } from '../../domain/calendar/days';
import { canonicalUnits, isClimateMetric } from '../../domain/climate';
import { farmDayOf } from '../../flocks/head-count';
import { climateBand, shownName, storedNames, type Band } from './climate-band';
import type { FarmContext } from './read-scope';

export const minuteResolutionMaxMs = 48 * 3_600_000;
export const maxClimateRangeDays = 200;

export type Resolution = '1m' | '1h';

export interface ClimatePoint {
  t: Date;
  mean: number;
  min: number;
  max: number;
  count: number;
}

export interface ClimateSeries {
  metric: string;
  unit: string | null;
  resolution: Resolution;
  from: Date;
  to: Date;
  points: ClimatePoint[];
  band: Band | null;
}

export const resolutionFor = (from: Date, to: Date): Resolution => (to.getTime() - from.getTime() <= minuteResolutionMaxMs ? '1m' : '1h');

// One range scan of the index per stored name, metric = name among its conditions: PostgreSQL 15
// applies `metric = ANY(…)` as a filter after a scan of every metric of the barn, and OFFSET 0 keeps
// the planner from flattening the lateral back into that.
const rollups = (width: Resolution, lower: string, upper: string) => `(
  SELECT r.* FROM unnest($4::text[]) AS n(name)
  CROSS JOIN LATERAL (
    SELECT bucket_start, value_mean, value_min, value_max, reading_count, unit FROM telemetry_rollups
    WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND metric = n.name AND bucket_width = '${width}'
      AND bucket_start >= ${lower} AND bucket_start < ${upper}
    OFFSET 0) r)`;
const combined = `sum(value_mean * reading_count) / sum(reading_count::float8) AS mean, min(value_min) AS min, max(value_max) AS max,
       sum(reading_count)::float8 AS count, max(unit) AS unit`;
const hourOf = (t: string) => `date_trunc('hour', ${t}::timestamptz, 'UTC')`;

const minuteSeriesSql = `
SELECT bucket_start AS t, ${combined}
FROM ${rollups('1m', `date_trunc('minute', $5::timestamptz, 'UTC')`, '$6')} m
GROUP BY bucket_start
ORDER BY bucket_start`;

// $5 from, $6 to. `tail` is where minute-made hours begin.
const hourSeriesSql = `
WITH tail AS (
  SELECT greatest(${hourOf('$5')}, coalesce(max(bucket_start) + interval '1 hour', '-infinity'), ${hourOf(`($6::timestamptz - interval '48 hours')`)}) AS start
  FROM ${rollups('1h', hourOf('$5'), '$6')} h
)
SELECT bucket_start AS t, ${combined}
FROM ${rollups('1h', hourOf('$5'), '(SELECT start FROM tail)')} h
GROUP BY bucket_start
UNION ALL
SELECT date_trunc('hour', bucket_start, 'UTC') AS t, ${combined}
FROM ${rollups('1m', '(SELECT start FROM tail)', '$6')} m
GROUP BY 1
ORDER BY t`;

// The flock in the barn at the end of the range: its species and age choose the temperature band.
const flockAtSql = `
SELECT species, age_at_placement_days, placed_at, depopulated_at
FROM flocks
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND placed_at IS NOT NULL AND placed_at < $5 AND (depopulated_at IS NULL OR depopulated_at > $4)
ORDER BY placed_at DESC
LIMIT 1`;

interface PointRow {
  t: Date;
  mean: number;
  min: number;
  max: number;
  count: number;
  unit: string;
}

/** The animals the band is for at the end of [from, to): the flock's species and age then, else the farm's species. */
export async function animalsAt(client: PoolClient, farm: FarmContext, barnId: string, from: Date, to: Date) {
  const f = (
    await client.query<{ species: string; age_at_placement_days: number; placed_at: Date; depopulated_at: Date | null }>(flockAtSql, [
      farm.tenantId,
      farm.farmId,
      barnId,
      from,
      to,
    ])
  ).rows[0];
  if (!f) return { species: farm.species, ageDays: null, farmBand: farm.comfortBand };
  const end = f.depopulated_at && f.depopulated_at < to ? f.depopulated_at : new Date(to.getTime() - 1);
  const age = f.age_at_placement_days + daysBetween(farmDayOf(f.placed_at.toISOString(), farm.timezone), farmDayOf(end.toISOString(), farm.timezone));
  return { species: f.species, ageDays: Math.max(f.age_at_placement_days, age), farmBand: farm.comfortBand };
}

export async function readClimateSeries(
  client: PoolClient,
  farm: FarmContext,
  barnId: string,
  q: { metric: string; from: Date; to: Date },
): Promise<ClimateSeries> {
  const resolution = resolutionFor(q.from, q.to);
  const rows = await client.query<PointRow>(resolution === '1m' ? minuteSeriesSql : hourSeriesSql, [
    farm.tenantId,
    farm.farmId,
    barnId,
    storedNames(q.metric),
    q.from,
    q.to,
  ]);
  const unit = rows.rows[0]?.unit ?? (isClimateMetric(q.metric) ? canonicalUnits[q.metric] : null);
  return {
    metric: q.metric,
    unit,
    resolution,
    from: q.from,
    to: q.to,
    points: rows.rows.map((r) => ({ t: r.t, mean: r.mean, min: r.min, max: r.max, count: r.count })),
    band: climateBand(q.metric, unit, await animalsAt(client, farm, barnId, q.from, q.to)),
  };
}

// Loose index scan: one probe of telemetry_rollups_barn_metric_time per metric the barn has.
const metricsSql = `
WITH RECURSIVE m(metric) AS (
  (SELECT metric FROM telemetry_rollups WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 ORDER BY metric LIMIT 1)
  UNION ALL
  SELECT (SELECT r.metric FROM telemetry_rollups r WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = $3 AND r.metric > m.metric
          ORDER BY r.metric LIMIT 1)
  FROM m WHERE m.metric IS NOT NULL
)
SELECT m.metric, coalesce(mi.unit, hr.unit) AS unit, coalesce(mi.bucket_start, hr.bucket_start) AS last_at
FROM m
LEFT JOIN LATERAL (SELECT unit, bucket_start FROM telemetry_rollups r
                   WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = $3 AND r.metric = m.metric AND r.bucket_width = '1m'
                   ORDER BY bucket_start DESC LIMIT 1) mi ON true
LEFT JOIN LATERAL (SELECT unit, bucket_start FROM telemetry_rollups r
                   WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = $3 AND r.metric = m.metric AND r.bucket_width = '1h'
                   ORDER BY bucket_start DESC LIMIT 1) hr ON mi.bucket_start IS NULL
WHERE m.metric IS NOT NULL
ORDER BY m.metric`;

export interface BarnMetric {
  metric: string;
  unit: string;
  /** Start of the newest minute (else hour) rollup. */
  lastAt: Date;
}

/** The metrics the barn has rollups of, ammonia shown as nh3. */
export async function readBarnMetrics(client: PoolClient, farm: FarmContext, barnId: string): Promise<BarnMetric[]> {
  const rows = await client.query<{ metric: string; unit: string; last_at: Date }>(metricsSql, [farm.tenantId, farm.farmId, barnId]);
  const byName = new Map<string, BarnMetric>();
  for (const r of rows.rows) {
    const name = shownName(r.metric);
    const held = byName.get(name);
    if (!held || r.last_at > held.lastAt) byName.set(name, { metric: name, unit: r.unit, lastAt: r.last_at });
  }
  return [...byName.values()].sort((a, b) => (a.metric < b.metric ? -1 : 1));
}
