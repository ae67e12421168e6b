/**
 * One farm at a glance (cloud/farm-data/overview.ts) and one farm server's sync health
 * (cloud/farm-data/edge-health.ts):
 *
 *   GET /api/v1/farms/:farmId/overview   viewer
 *   GET /api/v1/edges/:edgeId/health     operator
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { barnSummaries } from '../../../cloud/farm-directory';
import { edgeIdSchema, edgeStatuses, listTenantEdges } from '../../../cloud/edges';
import { readEdgeHealth } from '../../../cloud/farm-data/edge-health';
import { backlogCountCap } from '../../../domain/sync';
import { readBarnGlances } from '../../../cloud/farm-data/overview';
import { farmContext, readForTenant } from '../../../cloud/farm-data/read-scope';
import type { ApiRouter } from '../api/api-router';
import { flockJson, flockSchema } from '../directory/directory-http';
import { orNull } from '../api/openapi';
import { bandSchema } from './climate-routes';
import { answered, farmParams, iso, json } from './farm-data-http';

const climateNowSchema = z
  .object({
    metric: z.string(),
    value: z.number(),
    unit: z.string(),
    at: iso.meta({ description: 'start of the newest minute' }),
    band: bandSchema.nullable(),
    status: z.enum(['ok', 'low', 'high', 'stale', 'unknown']).meta({ description: 'stale: older than 15 minutes; unknown: no band' }),
  })
  .meta({ id: 'ClimateNow' });

const barnOverviewSchema = z
  .object({
    barn_id: z.string(),
    name: z.string(),
    flock: orNull(flockSchema),
    climate: z.array(climateNowSchema),
    mortality_today: z
      .object({ dead: z.number().int(), culled: z.number().int() })
      .nullable()
      .meta({ description: 'of the farm’s local today; null when nothing is recorded yet' }),
    latest_weight: z.object({ kg: z.number(), at: iso, session_id: z.string(), source: z.enum(['scale', 'vision', 'provisional']) }).nullable(),
    open_alerts: z.number().int().meta({ description: 'the caller’s unread in-app notifications about this barn' }),
  })
  .meta({ id: 'BarnOverview' });

const overviewSchema = z
  .object({
    farm: z.object({ farm_id: z.string(), name: z.string(), timezone: z.string() }),
    barns: z.array(barnOverviewSchema),
    edges: z.array(z.object({ edge_id: z.string(), last_batch_at: iso.nullable(), status: z.enum(edgeStatuses) })),
  })
  .meta({ id: 'FarmOverview' });

const edgeBacklogSchema = z
  .object({
    pending_events: z
      .number()
      .int()
      .min(0)
      .meta({ description: `events waiting on the farm server to be sent, counted up to ${backlogCountCap} (at the cap: at least that many)` }),
    oldest_pending_at: iso.nullable().meta({ description: 'when the oldest waiting event happened; null when none waits' }),
    reported_at: iso.meta({ description: 'the signed request time of the batch that brought this report' }),
  })
  .meta({ id: 'EdgeBacklog' });

const edgeHealthSchema = z
  .object({
    edge_id: z.string(),
    status: z.enum(edgeStatuses),
    last_batch_at: iso.nullable(),
    events_per_minute: z.number().meta({ description: 'events brought for the tenant, mean over the last 15 minutes' }),
    batches_last_hour: z.number().int(),
    last_error: z
      .object({ at: iso, code: z.string(), message: z.string() })
      .nullable()
      .meta({ description: 'the newest dead letter of an event this edge brought' }),
    backlog: orNull(edgeBacklogSchema).meta({
      description: 'the backlog the farm server reported with its newest batch that carried one (all its tenants); null before any',
    }),
  })
  .meta({ id: 'EdgeHealth' });

export function addOverviewRoutes(api: ApiRouter, deps: { tenantPool: Pool; pool: Pool; now: () => Date }): void {
  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/overview',
      role: 'viewer',
      summary: 'A farm at a glance: every barn’s flock, climate now, today’s losses, latest weight; the farm servers',
      params: farmParams,
      responses: { 200: { description: 'the overview', schema: overviewSchema } },
    },
    async ({ params, auth }) => {
      const now = deps.now();
      const { farm, barns } = await answered(() =>
        readForTenant(deps.tenantPool, auth.tenantId, async (c) => ({
          farm: await farmContext(c, auth.tenantId, params.farmId),
          barns: await barnSummaries(deps.tenantPool, auth.tenantId, params.farmId, undefined, now),
        })),
      );
      const glances = await readForTenant(deps.tenantPool, auth.tenantId, (c) =>
        readBarnGlances(
          c,
          farm,
          barns.map((b) => ({
            barnId: b.barnId,
            flock: b.currentFlock && { flockId: b.currentFlock.flockId, species: b.currentFlock.species, ageDays: b.currentFlock.ageDays },
          })),
          auth.userId,
          now,
        ),
      );
      const edges = await listTenantEdges(deps.tenantPool, auth.tenantId);
      return {
        body: {
          farm: { farm_id: farm.farmId, name: farm.name, timezone: farm.timezone },
          barns: barns.map((b) => {
            const g = glances.get(b.barnId);
            return {
              barn_id: b.barnId,
              name: b.name,
              flock: b.currentFlock && flockJson(b.currentFlock),
              climate: json(g?.climate ?? []),
              mortality_today: g?.mortalityToday ?? null,
              latest_weight: g?.latestWeight ? json(g.latestWeight) : null,
              open_alerts: g?.openAlerts ?? 0,
            };
          }),
          edges: edges.map((e) => ({ edge_id: e.edgeId, last_batch_at: e.lastBatchAt?.toISOString() ?? null, status: e.status })),
        },
      };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/edges/:edgeId/health',
      role: 'operator',
      summary: 'How a farm server is syncing: last batch, events per minute, batches of the last hour, last error, reported backlog',
      params: z.strictObject({ edgeId: edgeIdSchema }),
      responses: { 200: { description: 'the edge’s health', schema: edgeHealthSchema } },
    },
    async ({ params, auth }) => ({
      body: json(await answered(() => readEdgeHealth({ tenantPool: deps.tenantPool, ownerPool: deps.pool }, auth.tenantId, params.edgeId, deps.now()))),
    }),
  );
}
