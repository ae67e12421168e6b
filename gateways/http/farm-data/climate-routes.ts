/**
 * A barn's climate (cloud/farm-data/climate-series.ts):
 *
 *   GET /api/v1/farms/:farmId/barns/:barnId/climate?metric=&from=&to=   viewer   (+ ?format=csv)
 *   GET /api/v1/farms/:farmId/barns/:barnId/climate/metrics             viewer
 *
 * The resolution follows the window: up to 48 h minute rollups, beyond hour rollups (the open hour
 * made from its minutes). Default window the last 24 h; at most maxClimateRangeDays.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { maxClimateRangeDays, readBarnMetrics, readClimateSeries } from '../../../cloud/farm-data/climate-series';
import { farmContext, readForTenant } from '../../../cloud/farm-data/read-scope';
import type { ApiRouter } from '../api/api-router';
import { answered, barnParams, iso, json, windowOf, windowQuery } from './farm-data-http';

export const bandSchema = z
  .object({ min: z.number().nullable(), max: z.number().nullable() })
  .meta({ id: 'ClimateBand', description: 'temperature: comfort band at the animals’ age; humidity, CO2, NH3: the species’ limits' });

const pointSchema = z
  .object({
    t: iso.meta({ description: 'start of the minute or hour' }),
    mean: z.number().meta({ description: 'mean of the barn’s sensors, weighted by reading count' }),
    min: z.number(),
    max: z.number(),
    count: z.number().meta({ description: 'readings behind the point' }),
  })
  .meta({ id: 'ClimatePoint' });

const seriesSchema = z
  .object({
    metric: z.string(),
    unit: z.string().nullable(),
    resolution: z.enum(['1m', '1h']),
    from: iso,
    to: iso,
    points: z.array(pointSchema),
    band: bandSchema.nullable().meta({ description: 'at the animals’ age at the end of the window' }),
  })
  .meta({ id: 'ClimateSeries' });

const metricSchema = z.object({ metric: z.string(), unit: z.string(), last_at: iso }).meta({ id: 'BarnMetric' });

const climateQuery = z.strictObject({
  metric: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/)
    .meta({ description: 'temperature, humidity, co2, nh3, or any metric the barn has (see …/climate/metrics)' }),
  ...windowQuery,
});

export function addClimateRoutes(api: ApiRouter, deps: { tenantPool: Pool; now: () => Date }): void {
  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/climate',
      role: 'viewer',
      summary: 'A barn’s climate series of one metric',
      description: `Up to 48 h: minute points (the open hour included); longer: hour points, the open hour made from its minutes. Default the last 24 h; at most ${maxClimateRangeDays} days.`,
      params: barnParams,
      query: climateQuery,
      responses: { 200: { description: 'the series', schema: seriesSchema } },
      csv: {
        rows: (b: z.infer<typeof seriesSchema>) => b.points,
        columns: ['t', 'mean', 'min', 'max', 'count'],
        filename: (p) => `climate-${p.farmId}-${p.barnId}`,
      },
    },
    async ({ params, query, auth }) => {
      const window = windowOf(query, deps.now(), { defaultMs: 24 * 3_600_000, maxDays: maxClimateRangeDays });
      const series = await answered(() =>
        readForTenant(deps.tenantPool, auth.tenantId, async (c) =>
          readClimateSeries(c, await farmContext(c, auth.tenantId, params.farmId, params.barnId), params.barnId, { metric: query.metric, ...window }),
        ),
      );
      return { body: json(series) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/climate/metrics',
      role: 'viewer',
      summary: 'The metrics a barn has data for',
      params: barnParams,
      responses: { 200: { description: 'the metrics, by name', schema: z.object({ items: z.array(metricSchema) }) } },
    },
    async ({ params, auth }) => {
      const items = await answered(() =>
        readForTenant(deps.tenantPool, auth.tenantId, async (c) =>
          readBarnMetrics(c, await farmContext(c, auth.tenantId, params.farmId, params.barnId), params.barnId),
        ),
      );
      return { body: { items: json(items) } };
    },
  );
}
