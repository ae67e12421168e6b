/**
 * A barn's flock figures (cloud/farm-data/): growth, feed, mortality and the flock KPIs. `flock_id`
 * picks one of the barn's flocks (another barn's or tenant's answers 404); without it, the barn's
 * newest placement.
 *
 *   GET …/barns/:barnId/growth?flock_id=          viewer   (+ ?format=csv: the days)
 *   GET …/barns/:barnId/feed?from=&to=            viewer   (+ ?format=csv)
 *   GET …/barns/:barnId/mortality?flock_id=       viewer   (+ ?format=csv)
 *   GET …/barns/:barnId/kpis?flock_id=            viewer
 */
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { barnFlocks } from '../../../cloud/farm-directory';
import { readFeed } from '../../../cloud/farm-data/feed';
import { kpisOfFlock } from '../../../cloud/farm-data/flock-kpis';
import { readFlockRecords } from '../../../cloud/farm-data/flock-records';
import { readGrowth } from '../../../cloud/farm-data/growth';
import { readMortality } from '../../../cloud/farm-data/mortality';
import { farmContext, readForTenant, type FarmContext } from '../../../cloud/farm-data/read-scope';
import type { AuthContext } from '../../../auth/tokens';
import type { ApiRouter } from '../api/api-router';
import { flockJson, flockSchema } from '../directory/directory-http';
import { orNull } from '../api/openapi';
import { answered, barnParams, day, json, windowOf, windowQuery } from './farm-data-http';
import { flockKpisSchema } from './kpi-schemas';
import { tableWindow } from './weighings-routes';

interface Deps {
  tenantPool: Pool;
  now: () => Date;
}

const flockQuery = z.strictObject({ flock_id: z.uuid().optional().meta({ description: 'default: the barn’s newest flock' }) });

const growthDaySchema = z
  .object({
    day,
    age_days: z.number().int().nullable(),
    mean_kg: z.number(),
    session_count: z.number().int(),
    standard_kg: z.number().nullable().meta({ description: 'the breed standard at that age (insights/kpis/standards)' }),
  })
  .meta({ id: 'GrowthDay' });

const weightBinSchema = z.object({ from_kg: z.number(), to_kg: z.number(), count: z.number().int() }).meta({ id: 'WeightBin' });

const growthSchema = z
  .object({
    flock: orNull(flockSchema),
    standard_key: z.string().nullable(),
    days: z.array(growthDaySchema),
    forecast: z.array(z.object({ day, age_days: z.number().int(), kg: z.number(), low_kg: z.number(), high_kg: z.number() }).meta({ id: 'GrowthForecastDay' })),
    forecast_status: z.enum(['ok', 'insufficient_evidence', 'no_flock']),
    forecast_reason: z.string().nullable(),
    uniformity: z
      .object({
        day,
        status: z.enum(['ok', 'insufficient_sample']),
        n: z.number().int().meta({ description: 'sessions weighed that day (each counts once)' }),
        cv_pct: z.number().nullable(),
        within_10pct_pct: z.number().nullable(),
        bins: z.array(weightBinSchema),
      })
      .nullable()
      .meta({ description: 'of the last weighing day; CV and uniformity need 30 sessions' }),
  })
  .meta({ id: 'FlockGrowth' });

const feedSchema = z
  .object({
    days: z.array(z.object({ day, kg: z.number(), kg_per_head: z.number().nullable().meta({ description: 'kg per animal-day' }) }).meta({ id: 'FeedDay' })),
    fcr: z.number().nullable(),
    fcr_basis: z
      .object({
        flock_id: z.uuid().nullable(),
        kind: z.literal('cumulative'),
        as_of_day: day.nullable(),
        feed_kg: z.number().nullable(),
        mortality_adjusted: z.number().nullable(),
        placement_weight_source: z.enum(['recorded', 'breed_standard']).nullable(),
        missing_reason: z.enum(['no_flock', 'no_weighing', 'no_placement_weight', 'no_gain']).nullable(),
      })
      .meta({ id: 'FcrBasis' }),
  })
  .meta({ id: 'BarnFeed' });

const mortalitySchema = z
  .object({
    flock_id: z.uuid().nullable(),
    days: z.array(z.object({ day, dead: z.number().int(), culled: z.number().int(), cumulative_pct: z.number() }).meta({ id: 'MortalityDay' })),
    head_count: z.number().int().nullable(),
    livability_pct: z.number().nullable(),
  })
  .meta({ id: 'FlockMortality' });

const kpisAnswer = z.object({ flock: orNull(flockSchema), as_of_day: day.nullable(), kpis: orNull(flockKpisSchema) }).meta({ id: 'FlockKpisAnswer' });

type Params = z.infer<typeof barnParams>;

/** The read, on the barn of the path (404 unless it is the tenant's). */
function inBarn<T>(deps: Deps, auth: AuthContext, params: Params, read: (c: PoolClient, farm: FarmContext) => Promise<T>): Promise<T> {
  return answered(() => readForTenant(deps.tenantPool, auth.tenantId, async (c) => read(c, await farmContext(c, auth.tenantId, params.farmId, params.barnId))));
}

/** The flock as the directory shows it (its age and head count today). */
async function flockOf(deps: Deps, auth: AuthContext, params: Params, flockId: string | null) {
  if (flockId === null) return null;
  const flocks = await barnFlocks(deps.tenantPool, auth.tenantId, params.farmId, params.barnId, deps.now());
  const f = flocks.find((x) => x.flockId === flockId);
  return f ? flockJson(f) : null;
}

export function addFlockRoutes(api: ApiRouter, deps: Deps): void {
  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/growth',
      role: 'viewer',
      summary: 'A flock’s daily weights against the breed standard, forecast and uniformity',
      params: barnParams,
      query: flockQuery,
      responses: { 200: { description: 'the growth', schema: growthSchema } },
      csv: {
        rows: (b: z.infer<typeof growthSchema>) => b.days,
        columns: ['day', 'age_days', 'mean_kg', 'session_count', 'standard_kg'],
        filename: (p) => `growth-${p.farmId}-${p.barnId}`,
      },
    },
    async ({ params, query, auth }) => {
      const g = await inBarn(deps, auth, params, (c, farm) => readGrowth(c, farm, params.barnId, query.flock_id, deps.now()));
      const u = g.uniformity;
      return {
        body: {
          flock: await flockOf(deps, auth, params, g.flockId),
          standard_key: g.standardKey,
          days: json(g.days),
          forecast: json(g.forecast),
          forecast_status: g.forecastStatus,
          forecast_reason: g.forecastReason,
          uniformity: u && { day: u.day, status: u.status, n: u.n, cv_pct: u.cvPct, within_10pct_pct: u.within10PctPct, bins: json(u.bins) },
        },
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/feed',
      role: 'viewer',
      summary: 'A barn’s feed per farm-local day, per head, and the flock’s FCR',
      description: 'Every farm-local day of the window (0 where nothing was dispensed). Default the last 30 days; at most 400.',
      params: barnParams,
      query: z.strictObject(windowQuery),
      responses: { 200: { description: 'the feed', schema: feedSchema } },
      csv: { rows: (b: z.infer<typeof feedSchema>) => b.days, columns: ['day', 'kg', 'kg_per_head'], filename: (p) => `feed-${p.farmId}-${p.barnId}` },
    },
    async ({ params, query, auth }) => {
      const window = windowOf(query, deps.now(), tableWindow);
      return { body: json(await inBarn(deps, auth, params, (c, farm) => readFeed(c, farm, params.barnId, window, deps.now()))) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/mortality',
      role: 'viewer',
      summary: 'A flock’s deaths and culls per day with the cumulative depletion',
      params: barnParams,
      query: flockQuery,
      responses: { 200: { description: 'the losses', schema: mortalitySchema } },
      csv: {
        rows: (b: z.infer<typeof mortalitySchema>) => b.days,
        columns: ['day', 'dead', 'culled', 'cumulative_pct'],
        filename: (p) => `mortality-${p.farmId}-${p.barnId}`,
      },
    },
    async ({ params, query, auth }) => ({
      body: json(await inBarn(deps, auth, params, (c, farm) => readMortality(c, farm, params.barnId, query.flock_id, deps.now()))),
    }),
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/kpis',
      role: 'viewer',
      summary: 'A flock’s KPIs (FCR, ADG, livability, EPEF, uniformity, breed standard, forecast) with their basis',
      description: 'As of the flock’s last day (today, or its depopulation day); FCR as of its last weighing day.',
      params: barnParams,
      query: flockQuery,
      responses: { 200: { description: 'the KPIs; null when the barn has had no flock', schema: kpisAnswer } },
    },
    async ({ params, query, auth }): Promise<{ body: z.infer<typeof kpisAnswer> }> => {
      const found = await inBarn(deps, auth, params, async (c, farm) => {
        const records = await readFlockRecords(c, farm, params.barnId, query.flock_id, deps.now());
        return records && { lastDay: records.lastDay, kpis: kpisOfFlock(farm, records) };
      });
      if (!found) return { body: { flock: null, as_of_day: null, kpis: null } };
      const { mortality, periodLosses: _periodLosses, ...rest } = found.kpis;
      const { daily: _daily, ...totals } = mortality;
      return {
        body: { flock: await flockOf(deps, auth, params, found.kpis.flockId), as_of_day: found.lastDay, kpis: json({ ...rest, mortality: totals }) },
      };
    },
  );
}
