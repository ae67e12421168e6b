/**
 * Flocks on the edge operator API (docs/flocks.md), behind the operator token like every route of
 * the operator app. Each action writes the flock tables and appends its catalog event to the sync
 * outbox in one transaction (flocks/flock-store.ts); sync carries it to the cloud.
 *
 *   POST /api/v1/flocks                         place a flock (optionally with placement_weight_kg, the mean
 *                                               weight at placement): 201, or 200 when the same placement exists
 *   GET  /api/v1/flocks/:flockId?day=           the flock, its day rows and its head count at the end of the
 *                                               farm day `day` (today), in the farm's time zone
 *   POST /api/v1/flocks/:flockId/mortality      { day, dead, culled, reason? }: one day's losses, 201
 *   POST /api/v1/flocks/:flockId/depopulate     { depopulated_at }: 200 (again with the same time: unchanged)
 *
 * Refusals: 400 invalid_body / invalid_query (with the field), 404 flock_not_found, 409 barn_occupied,
 * flock_id_conflict, flock_depopulated; 422 flock_day_out_of_range, depopulated_before_placement.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { checkPlacementWeight, farmDay, flockDepopulated, flockMortalityRecorded, flockPlacedFields } from '../../../domain/contracts/flock-payloads';
import { isUuid } from '../../../domain/contracts/identifiers';
import { flockJson, flockStay } from '../../../flocks/flock-model';
import {
  dailyCounts,
  defaultFarmTimeZone,
  depopulateFlock,
  FlockRefusal,
  getFlock,
  placeFlock,
  recordOperatorMortality,
  type ActionMeta,
} from '../../../flocks/flock-store';
import { effectiveDailyLosses, farmDayOf, headCountOn } from '../../../flocks/head-count';
import { HttpError, type ErrorCode } from '../errors';
import { operatorOf } from '../operator-auth';
import { parseBody, parseQuery } from '../sync/sync-http';
import { syncJsonBody as jsonBody } from '../sync/status';

/** The flock API's own codes beside errors.ts's (cast only because ErrorCode is a closed union there). */
type FlockErrorCode = FlockRefusal['code'];

const refusalStatus: Record<FlockErrorCode, number> = {
  flock_not_found: 404,
  barn_occupied: 409,
  flock_id_conflict: 409,
  flock_depopulated: 409,
  flock_day_out_of_range: 422,
  depopulated_before_placement: 422,
};

function httpError(err: unknown): unknown {
  return err instanceof FlockRefusal ? new HttpError(refusalStatus[err.code], err.code as unknown as ErrorCode, err.message) : err;
}

const placeBody = flockPlacedFields
  .extend({
    tenant_id: z.uuid(),
    flock_id: z.uuid().optional(),
    age_at_placement_days: flockPlacedFields.shape.age_at_placement_days.default(0),
  })
  .strict()
  .superRefine(checkPlacementWeight);
const mortalityBody = flockMortalityRecorded.omit({ flock_id: true, source: true }).strict();
const depopulateBody = flockDepopulated.pick({ depopulated_at: true }).strict();
const flockQuery = z.object({ day: farmDay.optional() }).strict();
const noQuery = z.object({}).strict();

/** The operator's actions are events of the edge's operator API; the name of who acted is in the trace. */
function metaOf(res: Response): ActionMeta {
  const requestId = String(res.locals.requestId ?? randomUUID());
  const operator = operatorOf(res)?.name;
  return { traceId: operator ? `${requestId} operator:${operator}`.slice(0, 128) : requestId, actor: 'edge-operator-api' };
}

function flockIdOf(raw: unknown): string {
  const id = String(raw);
  if (!isUuid(id)) throw new HttpError(400, 'invalid_query', 'path parameter flockId: must be a UUID', 'flockId');
  return id;
}

export interface FlocksRouterOptions {
  /** The farm's IANA time zone: the days of the head count and of the mortality records. */
  timeZone?: string;
}

export function flocksRouter(pool: Pool, options: FlocksRouterOptions = {}): Router {
  const router = Router();
  const timeZone = options.timeZone ?? defaultFarmTimeZone;

  router.post('/', jsonBody, async (req, res) => {
    parseQuery(noQuery, req);
    const body = parseBody(placeBody, req);
    const { flock, created } = await placeFlock(pool, { ...body, flock_id: body.flock_id ?? randomUUID() }, metaOf(res)).catch((e) => {
      throw httpError(e);
    });
    res.status(created ? 201 : 200).json({ flock: flockJson(flock), created });
  });

  router.get('/:flockId', async (req, res) => {
    const q = parseQuery(flockQuery, req);
    const flock = await getFlock(pool, flockIdOf(req.params.flockId));
    if (!flock) throw new HttpError(404, 'flock_not_found' as unknown as ErrorCode, `no flock ${req.params.flockId}`);
    const rows = await dailyCounts(pool, flock.tenantId, flock.flockId);
    const day = q.day ?? farmDayOf(new Date().toISOString(), timeZone);
    res.json({
      flock: flockJson(flock),
      day,
      time_zone: timeZone,
      head_count: headCountOn(flockStay(flock), effectiveDailyLosses(rows), timeZone, day),
      daily_counts: rows.map((r) => ({ day: r.day, source: r.source, dead: r.dead, culled: r.culled, reason: r.reason, recorded_at: r.recordedAt })),
    });
  });

  router.post('/:flockId/mortality', jsonBody, async (req, res) => {
    parseQuery(noQuery, req);
    const flockId = flockIdOf(req.params.flockId);
    const body = parseBody(mortalityBody, req);
    const { eventId } = await recordOperatorMortality(pool, flockId, body, metaOf(res), timeZone).catch((e) => {
      throw httpError(e);
    });
    res.status(201).json({ flock_id: flockId, day: body.day, dead: body.dead, culled: body.culled, event_id: eventId });
  });

  router.post('/:flockId/depopulate', jsonBody, async (req, res) => {
    parseQuery(noQuery, req);
    const flockId = flockIdOf(req.params.flockId);
    const body = parseBody(depopulateBody, req);
    const { flock, changed } = await depopulateFlock(pool, flockId, body.depopulated_at, metaOf(res)).catch((e) => {
      throw httpError(e);
    });
    res.json({ flock: flockJson(flock), changed });
  });

  return router;
}
