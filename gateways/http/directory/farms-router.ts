/**
 * The farm directory of the dashboard API (docs/directory.md): farms, their barns and the barns'
 * flocks. Viewers read, admins write; another tenant's farm or barn answers 404. Flocks are placed
 * on the farm server and arrive with its events (cloud/consumers/flock-service.ts): read-only here.
 *
 *   GET   /api/v1/farms                                    viewer  { items: Farm[] }
 *   POST  /api/v1/farms                                    admin   201 Farm; 409 farm_exists
 *   GET   /api/v1/farms/:farmId                            viewer  { farm: Farm, barns: Barn[] }
 *   PATCH /api/v1/farms/:farmId                            admin   Farm
 *   GET   /api/v1/farms/:farmId/barns                      viewer  { items: Barn[] }
 *   POST  /api/v1/farms/:farmId/barns                      admin   201 Barn; 409 barn_exists
 *   PATCH /api/v1/farms/:farmId/barns/:barnId              admin   Barn
 *   GET   /api/v1/farms/:farmId/barns/:barnId/flocks       viewer  { items: Flock[] }
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import {
  barnSummaries,
  barnFlocks,
  createBarn,
  createFarm,
  farmSummaries,
  farmWithBarns,
  getFarm,
  newBarnSchema,
  newFarmSchema,
  updateBarn,
  updateFarm,
  farmChangeSchema,
  type BarnSummary,
  type FarmSummary,
} from '../../../cloud/farm-directory';
import { ApiRouter } from '../api/api-router';
import { orNull } from '../api/openapi';
import { barnParams, conflict, farmParams, flockJson, flockSchema, refusedAsHttp } from './directory-http';

export interface FarmsRouterDeps {
  /** The tenant pool (farmiq_app): every statement under row-level security. */
  pool: Pool;
  /** The clock a flock's age and head count are read on; tests only. */
  now?: () => Date;
}

const iso = z.iso.datetime({ offset: true });

const farmSchema = z
  .object({
    farm_id: z.string(),
    name: z.string(),
    species: z.string(),
    timezone: z.string(),
    comfort_temp_min_c: z.number().nullable(),
    comfort_temp_max_c: z.number().nullable(),
    barn_count: z.number().int(),
    created_at: iso,
  })
  .meta({ id: 'Farm' });

const barnSchema = z
  .object({
    farm_id: z.string(),
    barn_id: z.string(),
    name: z.string(),
    species: z.string().optional().meta({ description: 'the current flock’s species, else the farm’s' }),
    current_flock: orNull(flockSchema),
    device_count: z.number().int(),
  })
  .meta({ id: 'Barn' });

const f = newFarmSchema.shape;

const newFarmBody = z
  .strictObject({
    farm_id: f.farmId,
    name: f.name,
    species: f.species,
    timezone: f.timezone,
    comfort_temp_min_c: f.comfortTempMinC,
    comfort_temp_max_c: f.comfortTempMaxC,
  })
  .refine((b) => (b.comfort_temp_min_c === undefined) === (b.comfort_temp_max_c === undefined), {
    message: 'give both ends of the comfort band, or neither',
    path: ['comfort_temp_max_c'],
  })
  .refine((b) => b.comfort_temp_min_c === undefined || b.comfort_temp_max_c === undefined || b.comfort_temp_min_c < b.comfort_temp_max_c, {
    message: 'the comfort band minimum must be below its maximum',
    path: ['comfort_temp_min_c'],
  })
  .meta({ id: 'NewFarm' });

const c = farmChangeSchema.shape;

const farmChangeBody = z
  .strictObject({
    name: c.name,
    species: c.species,
    timezone: c.timezone,
    comfort_temp_min_c: c.comfortTempMinC,
    comfort_temp_max_c: c.comfortTempMaxC,
  })
  .meta({ id: 'FarmChange', description: 'the fields to change; null on both comfort band ends clears the band' });

const newBarnBody = z.strictObject({ barn_id: newBarnSchema.shape.barnId, name: newBarnSchema.shape.name }).meta({ id: 'NewBarn' });
const barnChangeBody = z.strictObject({ name: newBarnSchema.shape.name }).meta({ id: 'BarnChange' });

function farmJson(farm: FarmSummary): z.infer<typeof farmSchema> {
  return {
    farm_id: farm.farmId,
    name: farm.name,
    species: farm.species,
    timezone: farm.timezone,
    comfort_temp_min_c: farm.comfortTempMinC,
    comfort_temp_max_c: farm.comfortTempMaxC,
    barn_count: farm.barnCount,
    created_at: farm.createdAt.toISOString(),
  };
}

function barnJson(b: BarnSummary): z.infer<typeof barnSchema> {
  return {
    farm_id: b.farmId,
    barn_id: b.barnId,
    name: b.name,
    species: b.species,
    current_flock: b.currentFlock ? flockJson(b.currentFlock) : null,
    device_count: b.deviceCount,
  };
}

export function createFarmsRouter({ pool, now = () => new Date() }: FarmsRouterDeps): ApiRouter {
  const api = new ApiRouter('directory');

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms',
      role: 'viewer',
      summary: 'The tenant’s farms',
      responses: { 200: { description: 'the farms, by farm id', schema: z.object({ items: z.array(farmSchema) }) } },
    },
    async ({ auth }) => ({ body: { items: (await refusedAsHttp(() => farmSummaries(pool, auth.tenantId))).map(farmJson) } }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/farms',
      role: 'admin',
      summary: 'Add a farm',
      body: newFarmBody,
      responses: { 201: { description: 'the farm', schema: farmSchema }, 409: conflict },
    },
    async ({ auth, body }) => {
      const farm = await refusedAsHttp(async () => {
        await createFarm(pool, {
          tenantId: auth.tenantId,
          farmId: body.farm_id,
          name: body.name,
          species: body.species,
          timezone: body.timezone,
          comfortTempMinC: body.comfort_temp_min_c,
          comfortTempMaxC: body.comfort_temp_max_c,
        });
        return getFarm(pool, auth.tenantId, body.farm_id);
      });
      return { status: 201, body: farmJson(farm) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId',
      role: 'viewer',
      summary: 'One farm with its barns',
      params: farmParams,
      responses: { 200: { description: 'the farm and its barns', schema: z.object({ farm: farmSchema, barns: z.array(barnSchema) }) } },
    },
    async ({ auth, params }) => {
      const { farm, barns } = await refusedAsHttp(() => farmWithBarns(pool, auth.tenantId, params.farmId, now()));
      return { body: { farm: farmJson(farm), barns: barns.map(barnJson) } };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/api/v1/farms/:farmId',
      role: 'admin',
      summary: 'Change a farm',
      params: farmParams,
      body: farmChangeBody,
      responses: { 200: { description: 'the farm as it is now', schema: farmSchema } },
    },
    async ({ auth, params, body }) => {
      const farm = await refusedAsHttp(() =>
        updateFarm(pool, auth.tenantId, params.farmId, {
          name: body.name,
          species: body.species,
          timezone: body.timezone,
          comfortTempMinC: body.comfort_temp_min_c,
          comfortTempMaxC: body.comfort_temp_max_c,
        }),
      );
      return { body: farmJson(farm) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns',
      role: 'viewer',
      summary: 'The farm’s barns with their current flock and device count',
      params: farmParams,
      responses: { 200: { description: 'the barns, by barn id', schema: z.object({ items: z.array(barnSchema) }) } },
    },
    async ({ auth, params }) => ({
      body: { items: (await refusedAsHttp(() => barnSummaries(pool, auth.tenantId, params.farmId, undefined, now()))).map(barnJson) },
    }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/farms/:farmId/barns',
      role: 'admin',
      summary: 'Add a barn to the farm',
      params: farmParams,
      body: newBarnBody,
      responses: { 201: { description: 'the barn', schema: barnSchema }, 409: conflict },
    },
    async ({ auth, params, body }) => {
      const [barn] = await refusedAsHttp(async () => {
        await createBarn(pool, { tenantId: auth.tenantId, farmId: params.farmId, barnId: body.barn_id, name: body.name });
        return barnSummaries(pool, auth.tenantId, params.farmId, body.barn_id, now());
      });
      return { status: 201, body: barnJson(barn) };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/api/v1/farms/:farmId/barns/:barnId',
      role: 'admin',
      summary: 'Rename a barn',
      params: barnParams,
      body: barnChangeBody,
      responses: { 200: { description: 'the barn as it is now', schema: barnSchema } },
    },
    async ({ auth, params, body }) => ({
      body: barnJson(await refusedAsHttp(() => updateBarn(pool, auth.tenantId, params.farmId, params.barnId, body, now()))),
    }),
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/farms/:farmId/barns/:barnId/flocks',
      role: 'viewer',
      summary: 'The flocks placed in the barn, newest first',
      description: 'Flocks are placed on the farm server (`farmiq flocks`, its operator API) and reach the cloud with its events; read-only here.',
      params: barnParams,
      responses: { 200: { description: 'the flocks', schema: z.object({ items: z.array(flockSchema) }) } },
    },
    async ({ auth, params }) => ({
      body: { items: (await refusedAsHttp(() => barnFlocks(pool, auth.tenantId, params.farmId, params.barnId, now()))).map(flockJson) },
    }),
  );

  return api;
}
