/**
 * The farm data of the dashboard API, read-only (docs/farm-data.md): the overview, climate series,
 * weighings, growth, feed, mortality and flock KPIs of the tenant's barns, and its farm servers'
 * sync health. Every route answers another tenant's farm, barn, flock or edge with 404.
 *
 * tenantPool: farmiq_app, every farm read under row-level security (cloud/farm-data/read-scope.ts).
 * pool: the owner pool, only for dead_letters (an edge's last error, cloud/farm-data/edge-health.ts),
 * a table the tenant role has no grant on; the tenant is spelled out in that one query, run only
 * after the edge was found to be the tenant's.
 */
import type { Pool } from 'pg';
import type { Logger } from '../../../platform/logger';
import { ApiRouter } from '../api/api-router';
import { addClimateRoutes } from './climate-routes';
import { addFlockRoutes } from './flock-routes';
import { addOverviewRoutes } from './overview-routes';
import { addWeighingsRoutes } from './weighings-routes';

export interface FarmDataRouterDeps {
  /** farmiq_app: every read under row-level security. */
  tenantPool: Pool;
  /** The owner pool: dead_letters only. */
  pool: Pool;
  log: Logger;
  /** The farms' clock; the real one by default (tests pin it). */
  now?: () => Date;
}

export function createFarmDataRouter(deps: FarmDataRouterDeps): ApiRouter {
  const api = new ApiRouter('farm-data');
  const d = { tenantPool: deps.tenantPool, pool: deps.pool, now: deps.now ?? (() => new Date()) };
  addOverviewRoutes(api, d);
  addClimateRoutes(api, d);
  addWeighingsRoutes(api, d);
  addFlockRoutes(api, d);
  return api;
}
