/**
 * Reads what a feature summary is computed from, reducing in the database and never scanning raw
 * readings: hourly barn climate from the 1h telemetry rollups, and per-day aggregates of feed
 * intake and WeighVision sessions. The KPI arithmetic itself is in insights/kpis (pure).
 *
 * Every query runs through `TenantDb`, i.e. inside `withTenant` on the row-level-security pool in
 * production, and also names the tenant explicitly (belt and braces: either alone isolates).
 */
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../auth/tenant-db';
import type { FeatureSummary } from './feature-summary';
import { addDays } from '../domain/calendar/days';
import type { BarnHour } from './kpis/climate';
import { buildFeatureSummary, type BarnAggregates, type FlockAggregates, type SummaryInputs } from './kpis/summary';

/** Runs `fn` in a transaction scoped to the request's tenant (auth/tenant-db.ts withTenant). */
export type TenantDb = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

/**
 * The TenantDb of the insight activities: withTenant on the row-level-security pool, with a 20 s
 * statement_timeout (an attempt fails well inside its activity timeout) and JIT off — these
 * queries take milliseconds, and compiling them (the planner's cost estimate says "big") would
 * add more than it saves.
 */
export function tenantScopedDb(pool: Pool, tenantId: string): TenantDb {
  return <T>(fn: (client: PoolClient) => Promise<T>) =>
    withTenant(pool, tenantId, async (client) => {
      await client.query(`SET LOCAL statement_timeout = '20s'; SET LOCAL jit = off`);
      return fn(client);
    });
}

export interface AggregationRequest {
  tenantId: string;
  farmId: string;
  barnId: string | null;
  window: { from: string; to: string };
  /** Days after the window's last day the growth forecast is for (default 7). */
  forecastDays?: number;
  /** Default: the species' reference target weight. */
  targetWeightKg?: number | null;
}

export const defaultForecastDays = 7;

export class FarmNotFound extends Error {
  readonly type = 'FarmNotFound';
  constructor(what: string) {
    super(`${what} does not exist for this tenant`);
    this.name = 'FarmNotFound';
  }
}

interface FarmRow {
  farm_id: string;
  name: string;
  species: string;
  timezone: string;
  comfort_min_c: number | null;
  comfort_max_c: number | null;
  from_day: string;
  to_day: string;
}

interface ClimateRow {
  barn_id: string;
  metric: 'temperature' | 'humidity';
  hours: number[];
  local_days: number[];
  means: number[];
  mins: number[];
  maxs: number[];
  readings: number[];
}

/** A cloud flocks row as the flock KPIs take it (the insights and the read API both read them). */
export function flockFromRow(f: Omit<FlockRow, 'barn_id'>): FlockAggregates['flock'] {
  return {
    flockId: f.flock_id,
    placedAt: f.placed_at.toISOString(),
    headPlaced: f.head_count_placed,
    ageAtPlacementDays: f.age_at_placement_days,
    species: f.species,
    breed: f.breed,
    // Recorded at placement when weighed; else the KPIs take the breed standard's (fcr.placementWeightSource).
    placementWeightKg: f.placement_weight_kg,
    depopulatedAt: f.depopulated_at ? f.depopulated_at.toISOString() : null,
  };
}

export interface FlockRow {
  barn_id: string;
  flock_id: string;
  species: string;
  breed: string;
  head_count_placed: number;
  age_at_placement_days: number;
  placement_weight_kg: number | null;
  placed_at: Date;
  depopulated_at: Date | null;
}

interface BarnRow {
  barn_id: string;
  name: string;
  animal_count: number | null;
  placed_at: string | null;
  age_at_placement_days: number;
}

const farmQuery = `
SELECT f.farm_id, f.name, f.species, f.timezone,
       f.comfort_temp_min_c::float8 AS comfort_min_c, f.comfort_temp_max_c::float8 AS comfort_max_c,
       to_char(($3::timestamptz AT TIME ZONE f.timezone)::date, 'YYYY-MM-DD') AS from_day,
       to_char((($4::timestamptz - interval '1 microsecond') AT TIME ZONE f.timezone)::date, 'YYYY-MM-DD') AS to_day
FROM farms f
WHERE f.tenant_id = $1 AND f.farm_id = $2`;

const barnsQuery = `
SELECT barn_id, name, animal_count, to_char(placed_at, 'YYYY-MM-DD') AS placed_at, age_at_placement_days
FROM barns
WHERE tenant_id = $1 AND farm_id = $2 AND ($3::text IS NULL OR barn_id = $3)
ORDER BY barn_id`;

// One row per barn and metric, holding that barn's hours as parallel arrays: every sensor's 1h
// rollup of an hour combined, the mean weighted by reading counts. The LATERAL makes one ordered
// index scan of telemetry_rollups_barn_metric_time per (barn, metric), so grouping needs no sort
// (a single scan over all barns with = ANY sorted all 170,000 rows of 90 days: 2–3× slower), and
// arrays instead of one row per hour keep the client-side parsing small. The arrays come from one
// aggregate node, so they are aligned with each other whatever their order; the client sorts by
// hour if they ever are not. local_day is days since 1970-01-01 in the farm's time zone. The scan
// starts 7 days before the window: those hours are the barn's own profile the climate judgement
// measures shifts and spikes against (domain/climate/); the KPIs count only the window's hours.
// Ammonia is stored under either name units.ts accepts (nh3, ammonia).
const hourlyClimateQuery = `
SELECT b.barn_id, m.metric, h.hours, h.local_days, h.means, h.mins, h.maxs, h.readings
FROM unnest($3::text[]) AS b(barn_id)
CROSS JOIN (VALUES ('temperature', ARRAY['temperature']), ('humidity', ARRAY['humidity']), ('co2', ARRAY['co2']),
                   ('nh3', ARRAY['nh3', 'ammonia'])) AS m(metric, stored_as)
CROSS JOIN LATERAL (
  SELECT array_agg(extract(epoch FROM g.bucket_start)::float8) AS hours,
         array_agg((g.bucket_start AT TIME ZONE $6)::date - date '1970-01-01') AS local_days,
         array_agg(g.mean) AS means, array_agg(g.min) AS mins, array_agg(g.max) AS maxs, array_agg(g.readings) AS readings
  FROM (
    SELECT r.bucket_start, sum(r.value_mean * r.reading_count) / sum(r.reading_count::float8) AS mean,
           min(r.value_min) AS min, max(r.value_max) AS max, sum(r.reading_count::float8) AS readings
    FROM telemetry_rollups r
    WHERE r.tenant_id = $1 AND r.farm_id = $2 AND r.barn_id = b.barn_id AND r.metric = ANY(m.stored_as) AND r.bucket_width = '1h'
      AND r.bucket_start >= (date_trunc('hour', $4::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - interval '7 days'
      AND r.bucket_start < $5
    GROUP BY r.bucket_start
    ORDER BY r.bucket_start
  ) g
) h
WHERE h.hours IS NOT NULL`;

const dailyFeedQuery = `
SELECT barn_id, to_char((dispensed_at AT TIME ZONE $6)::date, 'YYYY-MM-DD') AS day,
       sum(quantity_kg)::float8 AS kg, count(*)::int AS events
FROM feed_intake
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = ANY($3::text[]) AND dispensed_at >= $4::timestamptz - interval '7 days' AND dispensed_at < $5
GROUP BY 1, 2
ORDER BY 1, 2`;

// The finalized sessions of the window, each with one weight: the edge's concluded result where it
// has arrived (concluded_at set; cloud/consumers/weighvision-sessions.ts stores it in weight_kg,
// scale_median_kg and vision_weight_kg as the edge sent it, status included, so a session the edge
// timed out or failed is not 'finalized' here even if the station said so), else the provisional
// recompute (weight_kg the stable readings' median, vision the mean image estimate).
// Scale: the concluded scale median, or the provisional weight_kg, which is the scale median too;
// a concluded weight_kg may be the vision estimate (weight_source 'vision') and is no scale figure.
//
// In a barn with a flock in the window ($7…$10: barn, flock, stay), only that flock's sessions:
// those whose batch_id names it, and those without a batch_id finalized within its stay. A
// session naming another flock (the previous one's, a stray) is never this flock's, whatever its date.
const windowSessions = `
WITH bf AS (SELECT * FROM unnest($7::text[], $8::uuid[], $9::timestamptz[], $10::timestamptz[])
              AS bf(barn_id, flock_id, placed_at, depopulated_at)),
ws AS (
  SELECT s.barn_id, s.station_id, s.session_id, (s.finalized_at AT TIME ZONE $6)::date AS day, s.weight_kg::float8 AS weight_kg,
         (CASE WHEN s.concluded_at IS NOT NULL THEN s.scale_median_kg ELSE s.weight_kg END)::float8 AS scale_kg,
         s.vision_weight_kg::float8 AS vision_kg
  FROM weighvision_sessions s
  LEFT JOIN bf ON bf.barn_id = s.barn_id
  WHERE s.tenant_id = $1 AND s.farm_id = $2 AND s.barn_id = ANY($3::text[])
    AND s.status = 'finalized' AND s.weight_kg IS NOT NULL AND s.finalized_at >= $4 AND s.finalized_at < $5
    AND (bf.flock_id IS NULL
         OR s.batch_id = bf.flock_id
         OR (s.batch_id IS NULL AND s.finalized_at >= bf.placed_at AND (bf.depopulated_at IS NULL OR s.finalized_at < bf.depopulated_at)))
)`;

const dailyWeightsQuery = `
${windowSessions}
SELECT barn_id, to_char(day, 'YYYY-MM-DD') AS day, count(*)::int AS sessions, avg(weight_kg)::float8 AS mean_kg
FROM ws
GROUP BY 1, 2
ORDER BY 1, 2`;

const lastDayWeightsQuery = `
${windowSessions},
last AS (SELECT barn_id, max(day) AS day FROM ws GROUP BY barn_id)
SELECT ws.barn_id, array_agg(ws.weight_kg ORDER BY ws.weight_kg) AS weights
FROM ws JOIN last USING (barn_id, day)
GROUP BY ws.barn_id`;

const stationPairsQuery = `
${windowSessions}
SELECT barn_id, station_id,
       array_agg(scale_kg ORDER BY session_id) AS scale_kg,
       array_agg(vision_kg ORDER BY session_id) AS vision_kg
FROM ws
WHERE scale_kg > 0 AND vision_kg > 0
GROUP BY barn_id, station_id`;

// The flock of each barn in the window (cloud/consumers/flock-service.ts writes the table): the
// latest placed whose stay overlaps [from, to). A barn without one keeps barns.animal_count.
const flocksQuery = `
SELECT DISTINCT ON (barn_id) barn_id, flock_id::text AS flock_id, species, breed, head_count_placed, age_at_placement_days,
       placement_weight_kg::float8 AS placement_weight_kg, placed_at, depopulated_at
FROM flocks
WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = ANY($3::text[]) AND placed_at IS NOT NULL
  AND placed_at < $5 AND (depopulated_at IS NULL OR depopulated_at > $4)
ORDER BY barn_id, placed_at DESC`;

// One figure per flock and day up to the window's last local day: the operator's count of a day
// stands over a device's (flocks/head-count.ts effectiveDailyLosses).
const flockLossesQuery = `
SELECT DISTINCT ON (flock_id, day) flock_id::text AS flock_id, to_char(day, 'YYYY-MM-DD') AS day, dead, culled
FROM flock_daily_counts
WHERE tenant_id = $1 AND flock_id = ANY($2::uuid[]) AND day <= $3::date
ORDER BY flock_id, day, (source = 'operator') DESC`;

// Feed per local day from each flock's placement to the window's end (cumulative FCR needs it all);
// feed dispensed before the placement instant is not the flock's.
const flockFeedQuery = `
SELECT f.barn_id, to_char((i.dispensed_at AT TIME ZONE $6)::date, 'YYYY-MM-DD') AS day, sum(i.quantity_kg)::float8 AS kg
FROM unnest($3::text[], $4::timestamptz[]) AS f(barn_id, placed_at)
JOIN feed_intake i ON i.tenant_id = $1 AND i.farm_id = $2 AND i.barn_id = f.barn_id
                  AND i.dispensed_at >= f.placed_at AND i.dispensed_at < $5
GROUP BY 1, 2
ORDER BY 1, 2`;

function emptyBarn(b: BarnRow): BarnAggregates {
  return {
    barnId: b.barn_id,
    name: b.name,
    animalCount: b.animal_count,
    placedAt: b.placed_at,
    ageAtPlacementDays: b.age_at_placement_days,
    temperatureHours: [],
    humidityHours: [],
    dailyFeed: [],
    feedEvents: 0,
    dailyWeights: [],
    lastDayWeightsKg: [],
    stations: [],
  };
}

async function readFlockRecords(c: PoolClient, tenantId: string, farmId: string, flocks: FlockRow[], to: string, timezone: string, toDay: string) {
  return {
    losses: (await c.query<{ flock_id: string; day: string; dead: number; culled: number }>(flockLossesQuery, [tenantId, flocks.map((f) => f.flock_id), toDay]))
      .rows,
    flockFeed: (
      await c.query<{ barn_id: string; day: string; kg: number }>(flockFeedQuery, [
        tenantId,
        farmId,
        flocks.map((f) => f.barn_id),
        flocks.map((f) => f.placed_at),
        to,
        timezone,
      ])
    ).rows,
  };
}

/**
 * A barn's flock as the KPIs take it. The weighings are the last weighing day's sessions, one per
 * finalized session: sessions identify no animal, so each counts once (flock-uniformity.ts).
 */
function flockAggregates(
  f: FlockRow,
  barn: BarnAggregates,
  losses: { flock_id: string; day: string; dead: number; culled: number }[],
  feed: { barn_id: string; day: string; kg: number }[],
): FlockAggregates {
  const lastDay = barn.dailyWeights.reduce<string | null>((d, w) => (d === null || w.day > d ? w.day : d), null);
  return {
    flock: flockFromRow(f),
    losses: losses.filter((l) => l.flock_id === f.flock_id).map((l) => ({ day: l.day, deaths: l.dead, culls: l.culled })),
    feedSincePlacement: feed.filter((r) => r.barn_id === f.barn_id).map((r) => ({ day: r.day, kg: r.kg })),
    weighings: lastDay
      ? barn.lastDayWeightsKg.map((w, i) => ({ sessionId: `${barn.barnId}/${lastDay}/${i}`, stationId: 'any', day: lastDay, weightKg: w }))
      : [],
  };
}

/** The summary inputs for a request; FarmNotFound when the farm (or barn) is not the tenant's. */
export async function readSummaryInputs(db: TenantDb, req: AggregationRequest): Promise<SummaryInputs> {
  const { tenantId, farmId, barnId, window } = req;
  const directory = await db(async (c) => {
    const farm = (await c.query<FarmRow>(farmQuery, [tenantId, farmId, window.from, window.to])).rows[0];
    const barns = farm ? (await c.query<BarnRow>(barnsQuery, [tenantId, farmId, barnId])).rows : [];
    const flocks = barns.length ? (await c.query<FlockRow>(flocksQuery, [tenantId, farmId, barns.map((b) => b.barn_id), window.from, window.to])).rows : [];
    return { farm, barns, flocks };
  });
  if (!directory.farm) throw new FarmNotFound(`farm ${farmId}`);
  if (barnId !== null && directory.barns.length === 0) throw new FarmNotFound(`barn ${barnId} of farm ${farmId}`);
  const { farm, flocks } = directory;

  const barns = new Map(directory.barns.map((b) => [b.barn_id, emptyBarn(b)]));
  const params = [tenantId, farmId, [...barns.keys()], window.from, window.to, farm.timezone];
  const sessionParams = [
    ...params,
    flocks.map((f) => f.barn_id),
    flocks.map((f) => f.flock_id),
    flocks.map((f) => f.placed_at),
    flocks.map((f) => f.depopulated_at),
  ];

  // The climate scan is the big one: barns are split over two connections (two cores' worth of
  // Postgres) beside a third that runs the small daily queries.
  const barnIds = [...barns.keys()];
  const halves = [barnIds.filter((_, i) => i % 2 === 0), barnIds.filter((_, i) => i % 2 === 1)].filter((h) => h.length > 0);
  const [daily, ...climate] = await Promise.all([
    db(async (c) => ({
      feed: (await c.query<{ barn_id: string; day: string; kg: number; events: number }>(dailyFeedQuery, params)).rows,
      weights: (await c.query<{ barn_id: string; day: string; sessions: number; mean_kg: number }>(dailyWeightsQuery, sessionParams)).rows,
      lastDay: (await c.query<{ barn_id: string; weights: number[] }>(lastDayWeightsQuery, sessionParams)).rows,
      stations: (await c.query<{ barn_id: string; station_id: string; scale_kg: number[]; vision_kg: number[] }>(stationPairsQuery, sessionParams)).rows,
      ...(flocks.length ? await readFlockRecords(c, tenantId, farmId, flocks, window.to, farm.timezone, farm.to_day) : { losses: [], flockFeed: [] }),
    })),
    ...halves.map((half) => db((c) => c.query<ClimateRow>(hourlyClimateQuery, [tenantId, farmId, half, window.from, window.to, farm.timezone]))),
  ]);

  const dayLabels = new Map<number, string>();
  const dayLabel = (n: number) => {
    let label = dayLabels.get(n);
    if (label === undefined) {
      label = new Date(n * 86_400_000).toISOString().slice(0, 10);
      dayLabels.set(n, label);
    }
    return label;
  };
  for (const r of climate.flatMap((q) => q.rows)) {
    const barn = barns.get(r.barn_id);
    if (!barn) continue;
    const order = r.hours.every((h, i) => i === 0 || r.hours[i - 1] < h)
      ? r.hours.map((_, i) => i)
      : r.hours.map((_, i) => i).sort((x, y) => r.hours[x] - r.hours[y]);
    const hours: BarnHour[] = order.map((i) => ({
      hour: new Date(r.hours[i] * 1000).toISOString(),
      localDay: dayLabel(r.local_days[i]),
      mean: r.means[i],
      min: r.mins[i],
      max: r.maxs[i],
      readingCount: r.readings[i],
    }));
    if (r.metric === 'temperature') barn.temperatureHours = hours;
    else if (r.metric === 'humidity') barn.humidityHours = hours;
    else if (r.metric === 'co2') barn.co2Hours = hours;
    else barn.nh3Hours = hours;
  }
  for (const r of daily.feed) {
    const barn = barns.get(r.barn_id);
    if (!barn) continue;
    // The 7 days before the window are the history a feed drop is measured against, not the window's feed.
    if (r.day < farm.from_day) {
      (barn.feedBeforeWindow ??= []).push({ day: r.day, kg: r.kg });
      continue;
    }
    barn.dailyFeed.push({ day: r.day, kg: r.kg });
    barn.feedEvents += r.events;
  }
  for (const r of daily.weights) barns.get(r.barn_id)?.dailyWeights.push({ day: r.day, sessions: r.sessions, meanKg: r.mean_kg });
  for (const r of daily.lastDay) {
    const barn = barns.get(r.barn_id);
    if (barn) barn.lastDayWeightsKg = r.weights;
  }
  for (const r of daily.stations) {
    barns.get(r.barn_id)?.stations.push({ stationId: r.station_id, pairs: r.scale_kg.map((s, i) => ({ scaleKg: s, visionKg: r.vision_kg[i] })) });
  }
  for (const f of flocks) {
    const barn = barns.get(f.barn_id);
    if (barn) barn.flock = flockAggregates(f, barn, daily.losses, daily.flockFeed);
  }

  return {
    farm: {
      farmId: farm.farm_id,
      name: farm.name,
      species: farm.species,
      timezone: farm.timezone,
      comfortMinC: farm.comfort_min_c,
      comfortMaxC: farm.comfort_max_c,
    },
    barnId,
    window,
    localDays: { from: farm.from_day, to: farm.to_day },
    forecastDate: addDays(farm.to_day, req.forecastDays ?? defaultForecastDays),
    targetWeightKg: req.targetWeightKg ?? null,
    barns: [...barns.values()],
  };
}

export async function aggregateFeatureSummary(db: TenantDb, req: AggregationRequest): Promise<FeatureSummary> {
  return buildFeatureSummary(await readSummaryInputs(db, req));
}
