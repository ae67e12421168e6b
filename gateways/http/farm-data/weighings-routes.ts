/**
 * A barn's WeighVision sessions (cloud/farm-data/weighings.ts), newest first, paged:
 *
 *   GET /api/v1/farms/:farmId/barns/:barnId/weighings?from=&to=&limit=&cursor=   viewer   (+ ?format=csv)
 *
 * Default window the last 30 days; at most 400. The CSV is the page asked for (limit up to 1000).
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { farmContext, readForTenant } from '../../../cloud/farm-data/read-scope';
import { readWeighings } from '../../../cloud/farm-data/weighings';
import type { ApiRouter } from '../api/api-router';
import { answered, barnParams, iso, json, windowOf, windowQuery } from './farm-data-http';

export const tableWindow = { defaultMs: 30 * 86_400_000, maxDays: 400 };

const weighingSchema = z
  .object({
    session_id: z.string(),
    station_id: z.string(),
    status: z.string().meta({ description: 'created, collecting, finalizing, finalized, timed_out, failed' }),
    at: iso.meta({ description: 'when it was finalized, else concluded or started: the order of the list' }),
    started_at: iso.nullable(),
    finalized_at: iso.nullable(),
    concluded_at: iso.nullable().meta({ description: 'the edge’s conclusion; null: the figures are the cloud’s provisional recompute' }),
    weight_kg: z.number().nullable(),
    weight_source: z.enum(['scale', 'vision']).nullable(),
    scale_median_kg: z.number().nullable(),
    vision_weight_kg: z.number().nullable(),
    vision_confidence: z.number().nullable(),
    quality_flags: z.array(z.string()),
    reading_count: z.number().int(),
    stable_reading_count: z.number().int().nullable(),
    image_count: z.number().int().nullable(),
  })
  .meta({ id: 'Weighing' });

const pageSchema = z.object({ items: z.array(weighingSchema), next_cursor: z.string().nullable() });

const columns = Object.keys(weighingSchema.shape);

export function addWeighingsRoutes(api: ApiRouter, deps: { tenantPool: Pool; now: () => Date }): void {
  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/weighings',
      role: 'viewer',
      summary: 'A barn’s weighing sessions with their result, source and flags',
      description: 'Newest first; pass next_cursor as cursor for the next page. Default the last 30 days; at most 400.',
      params: barnParams,
      query: z.strictObject({
        ...windowQuery,
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        cursor: z.string().min(1).max(400).optional(),
      }),
      responses: { 200: { description: 'one page of sessions', schema: pageSchema } },
      csv: {
        rows: (b: z.infer<typeof pageSchema>) => b.items.map((w) => ({ ...w, quality_flags: w.quality_flags.join(';') })),
        columns,
        filename: (p) => `weighings-${p.farmId}-${p.barnId}`,
      },
    },
    async ({ params, query, auth }) => {
      const window = windowOf(query, deps.now(), tableWindow);
      const page = await answered(() =>
        readForTenant(deps.tenantPool, auth.tenantId, async (c) =>
          readWeighings(c, await farmContext(c, auth.tenantId, params.farmId, params.barnId), params.barnId, {
            ...window,
            limit: query.limit,
            cursor: query.cursor,
          }),
        ),
      );
      return { body: json(page) };
    },
  );
}
