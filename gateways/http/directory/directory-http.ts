/**
 * What the directory routers (farms, devices, edges) share: the refusals of cloud/farm-directory.ts,
 * cloud/device-directory.ts and cloud/edges.ts as HTTP errors with stable codes, the path
 * parameters, and the Flock of the API contract.
 */
import { z } from 'zod';
import { topicSegment } from '../../../domain/contracts/envelope';
import { DirectoryRefusal, type FlockView } from '../../../cloud/farm-directory';
import { EdgeRefusal, edgeIdSchema } from '../../../cloud/edges';
import { errorBodySchema } from '../api/openapi';
import { HttpError, type ErrorCode } from '../errors';

export function directoryError(status: number, code: ErrorCode, message: string, field?: string): HttpError {
  return new HttpError(status, code, message, field);
}

const refusals: Record<DirectoryRefusal['code'] | EdgeRefusal['code'], [number, ErrorCode, string?]> = {
  // The token's tenant is gone (removed after the token was issued): nothing of it to show.
  unknown_tenant: [404, 'not_found'],
  unknown_farm: [404, 'farm_not_found'],
  unknown_barn: [404, 'barn_not_found'],
  unknown_device: [404, 'device_not_found'],
  unknown_edge: [404, 'edge_not_found'],
  farm_exists: [409, 'farm_exists'],
  barn_exists: [409, 'barn_exists'],
  device_exists: [409, 'device_exists'],
  edge_exists: [409, 'edge_exists'],
  edge_shared: [409, 'edge_shared'],
  edge_revoked: [409, 'edge_revoked'],
  invalid_comfort_band: [400, 'invalid_body', 'comfort_temp_min_c'],
};

/** A refusal of the directory as its HTTP error; anything else as it is. */
export function asHttpError(err: unknown): unknown {
  if (!(err instanceof DirectoryRefusal) && !(err instanceof EdgeRefusal)) return err;
  const [status, code, field] = refusals[err.code];
  return directoryError(status, code, err.message, field);
}

/** Runs the directory call and answers its refusal as HTTP. */
export async function refusedAsHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asHttpError(err);
  }
}

export const conflict = { description: 'it exists already (farm_exists, barn_exists, device_exists, edge_exists)', schema: errorBodySchema };

export const farmParams = z.strictObject({ farmId: topicSegment });
export const barnParams = z.strictObject({ farmId: topicSegment, barnId: topicSegment });
export const edgeParams = z.strictObject({ edgeId: edgeIdSchema });

const iso = z.iso.datetime({ offset: true });

export const flockSchema = z
  .object({
    flock_id: z.uuid(),
    farm_id: z.string(),
    barn_id: z.string(),
    species: z.string(),
    breed: z.string(),
    sex: z.string().nullable(),
    head_count_placed: z.number().int(),
    placed_at: iso,
    depopulated_at: iso.nullable(),
    age_days: z.number().int().meta({ description: 'age on the farm’s today (its time zone), or on its depopulation day' }),
    head_count: z.number().int().meta({ description: 'closing head count of the farm’s today (flocks/head-count.ts); 0 once depopulated' }),
  })
  .meta({ id: 'Flock' });

export function flockJson(f: FlockView): z.infer<typeof flockSchema> {
  return {
    flock_id: f.flockId,
    farm_id: f.farmId,
    barn_id: f.barnId,
    species: f.species,
    breed: f.breed,
    sex: f.sex,
    head_count_placed: f.headCountPlaced,
    placed_at: f.placedAt.toISOString(),
    depopulated_at: f.depopulatedAt?.toISOString() ?? null,
    age_days: f.ageDays,
    head_count: f.headCount,
  };
}
