/**
 * One farm at a glance, per barn: the newest minute of every climate metric (the barn's sensors of
 * that minute combined, weighted by reading count) with its band and status (climate-band.ts),
 * today's deaths and culls of the current flock in the farm's local day (the operator's count over a
 * device's), the newest finalized weighing, and the caller's unread in-app notifications about the
 * barn (notifications carry farm_id and barn_id in their data; a farm-wide one counts for no barn).
 * The barns and their current flocks are the directory's (cloud/farm-directory.ts).
 */
import type { PoolClient } from 'pg';
import { farmDayOf } from '../../flocks/head-count';
import { climateBand, climateStatus, type Band, type ClimateStatus } from './climate-band';
import type { FarmContext } from './read-scope';

export interface LatestClimate {
  metric: string;
  value: number;
  unit: string;
  at: Date;
  band: Band | null;
  status: ClimateStatus;
}

export interface LatestWeight {
  kg: number;
  at: Date;
  sessionId: string;
  source: 'scale' | 'vision' | 'provisional';
}

export interface BarnGlance {
  climate: LatestClimate[];
  mortalityToday: { dead: number; culled: number } | null;
  latestWeight: LatestWeight | null;
  openAlerts: number;
}

/** A barn as the overview needs it: its current flock's id, species and age, if any. */
export interface BarnAnimals {
  barnId: string;
  flock: { flockId: string; species: string; ageDays: number } | null;
}

// Each stored name separately: an ordered index probe per (barn, name) finds its newest minute.
const latestClimateSql = `
SELECT b.barn_id, n.metric, l.bucket_start AS at, x.mean, x.unit
FROM unnest($3::text[]) AS b(barn_id)
CROSS JOIN (VALUES ('temperature', 'temperature'), ('humidity', 'humidity'), ('co2', 'co2'), ('nh3', 'nh3'), ('nh3', 'ammonia')) AS n(metric, stored)
CROSS JOIN LATERAL (
  SELECT r.bucket_start FROM telemetry_rollups r
  WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = b.barn_id AND r.metric = n.stored AND r.bucket_width = '1m' AND r.bucket_start <= $4
  ORDER BY r.bucket_start DESC LIMIT 1
) l
CROSS JOIN LATERAL (
  SELECT sum(r.value_mean * r.reading_count) / sum(r.reading_count::float8) AS mean, max(r.unit) AS unit FROM telemetry_rollups r
  WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = b.barn_id AND r.metric = n.stored AND r.bucket_width = '1m' AND r.bucket_start = l.bucket_start
) x`;

const todaySql = `
SELECT DISTINCT ON (flock_id) flock_id::text, dead, culled
FROM flock_daily_counts
WHERE tenant_id = $1 AND flock_id = ANY($2::uuid[]) AND day = $3::date
ORDER BY flock_id, (source = 'operator') DESC`;

const latestWeightSql = `
SELECT b.barn_id, w.session_id, w.weight_kg, w.finalized_at, w.weight_source, w.concluded_at
FROM unnest($3::text[]) AS b(barn_id)
CROSS JOIN LATERAL (
  SELECT s.session_id, s.weight_kg::float8 AS weight_kg, s.finalized_at, s.weight_source, s.concluded_at FROM weighvision_sessions s
  WHERE s.tenant_id = $1 AND s.farm_id = $2 AND s.barn_id = b.barn_id AND s.finalized_at <= $4 AND s.status = 'finalized' AND s.weight_kg IS NOT NULL
  ORDER BY s.finalized_at DESC LIMIT 1
) w`;

const unreadSql = `
SELECT n.data->>'barn_id' AS barn_id, count(*)::int AS unread
FROM notifications n
LEFT JOIN notification_reads r ON n.user_id IS NULL AND r.tenant_id = n.tenant_id AND r.notification_id = n.id AND r.user_id = $3
WHERE n.tenant_id = $1 AND n.channel = 'in_app' AND (n.user_id = $3 OR n.user_id IS NULL) AND n.data->>'farm_id' = $2
  AND n.data->>'barn_id' IS NOT NULL
  AND CASE WHEN n.user_id IS NULL THEN r.user_id IS NULL ELSE n.read_at IS NULL END
GROUP BY 1`;

export async function readBarnGlances(
  client: PoolClient,
  farm: FarmContext,
  barns: readonly BarnAnimals[],
  userId: string,
  now: Date,
): Promise<Map<string, BarnGlance>> {
  const ids = barns.map((b) => b.barnId);
  const glances = new Map<string, BarnGlance>(ids.map((id) => [id, { climate: [], mortalityToday: null, latestWeight: null, openAlerts: 0 }]));
  const place = [farm.tenantId, farm.farmId, ids, now];

  const climate = await client.query<{ barn_id: string; metric: string; at: Date; mean: number; unit: string }>(latestClimateSql, place);
  for (const b of barns) {
    const newest = new Map<string, { at: Date; mean: number; unit: string }>();
    for (const r of climate.rows) {
      const held = newest.get(r.metric);
      if (r.barn_id === b.barnId && (!held || r.at > held.at)) newest.set(r.metric, r);
    }
    const animals = { species: b.flock?.species ?? farm.species, ageDays: b.flock?.ageDays ?? null, farmBand: farm.comfortBand };
    (glances.get(b.barnId) as BarnGlance).climate = [...newest.entries()]
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([metric, r]) => {
        const band = climateBand(metric, r.unit, animals);
        return { metric, value: r.mean, unit: r.unit, at: r.at, band, status: climateStatus(r.mean, r.at, band, now) };
      });
  }

  const flocks = barns.flatMap((b) => (b.flock ? [{ barnId: b.barnId, flockId: b.flock.flockId }] : []));
  if (flocks.length > 0) {
    const today = await client.query<{ flock_id: string; dead: number; culled: number }>(todaySql, [
      farm.tenantId,
      flocks.map((f) => f.flockId),
      farmDayOf(now.toISOString(), farm.timezone),
    ]);
    for (const t of today.rows) {
      const barnId = flocks.find((f) => f.flockId === t.flock_id)?.barnId;
      if (barnId) (glances.get(barnId) as BarnGlance).mortalityToday = { dead: t.dead, culled: t.culled };
    }
  }

  const weights = await client.query<{
    barn_id: string;
    session_id: string;
    weight_kg: number;
    finalized_at: Date;
    weight_source: 'scale' | 'vision' | null;
    concluded_at: Date | null;
  }>(latestWeightSql, place);
  for (const w of weights.rows) {
    (glances.get(w.barn_id) as BarnGlance).latestWeight = {
      kg: w.weight_kg,
      at: w.finalized_at,
      sessionId: w.session_id,
      source: w.concluded_at === null ? 'provisional' : (w.weight_source ?? 'scale'),
    };
  }

  const unread = await client.query<{ barn_id: string; unread: number }>(unreadSql, [farm.tenantId, farm.farmId, userId]);
  for (const u of unread.rows) {
    const g = glances.get(u.barn_id);
    if (g) g.openAlerts = u.unread;
  }
  return glances;
}
