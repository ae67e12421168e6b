/**
 * The only writer of the edge's flock tables (flocks, flock_daily_counts). The operator actions
 * (place, record a day, depopulate) each write their rows and append the catalog event to the
 * sync outbox in one transaction, so the cloud learns exactly what the farm server recorded. The
 * ingest micro-batch calls checkMortality and recordDailyCounts on its own transaction for the
 * counts that arrive over MQTT.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from '../db/transaction';
import { farmEventSchema, type FarmEvent } from '../domain/contracts';
import type { FlockMortalityPayload, FlockPlacedPayload, MortalitySource } from '../domain/contracts/flock-payloads';
import type { RejectReason } from '../domain/contracts/rejects';
import { appendEvents, outboxEvent, outboxPriority } from '../sync/outbox';
import type { DailyCount, Flock } from './flock-model';
import { addDays } from '../domain/calendar/days';
import { farmDayOf } from './head-count';

/** Why an operator action was refused; the HTTP layer turns the code into its answer. */
export class FlockRefusal extends Error {
  constructor(
    readonly code: 'flock_not_found' | 'flock_depopulated' | 'barn_occupied' | 'flock_id_conflict' | 'flock_day_out_of_range' | 'depopulated_before_placement',
    message: string,
  ) {
    super(message);
  }
}

/** Who acted and under which trace (the request id of the operator API). */
export interface ActionMeta {
  traceId: string;
  /** The envelope's device_id for events an operator made. */
  actor: string;
}

interface FlockRow {
  tenant_id: string;
  flock_id: string;
  farm_id: string;
  barn_id: string;
  species: Flock['species'];
  breed: string;
  sex: Flock['sex'];
  head_count_placed: number;
  age_at_placement_days: number;
  placement_weight_kg: string | null;
  placed_at: Date;
  status: Flock['status'];
  depopulated_at: Date | null;
}

const flockColumns = `tenant_id::text, flock_id::text, farm_id, barn_id, species, breed, sex, head_count_placed,
  age_at_placement_days, placement_weight_kg, placed_at, status, depopulated_at`;

function toFlock(r: FlockRow): Flock {
  return {
    tenantId: r.tenant_id,
    flockId: r.flock_id,
    farmId: r.farm_id,
    barnId: r.barn_id,
    species: r.species,
    breed: r.breed,
    sex: r.sex,
    headCountPlaced: r.head_count_placed,
    ageAtPlacementDays: r.age_at_placement_days,
    placementWeightKg: r.placement_weight_kg === null ? null : Number(r.placement_weight_kg),
    placedAt: r.placed_at.toISOString(),
    status: r.status,
    depopulatedAt: r.depopulated_at?.toISOString() ?? null,
  };
}

export async function getFlock(db: Queryable, flockId: string, opts: { lock?: boolean } = {}): Promise<Flock | undefined> {
  const r = await db.query<FlockRow>(`SELECT ${flockColumns} FROM flocks WHERE flock_id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [flockId]);
  return r.rows[0] && toFlock(r.rows[0]);
}

export async function dailyCounts(db: Queryable, tenantId: string, flockId: string): Promise<DailyCount[]> {
  const r = await db.query<{ day: string; source: MortalitySource; dead: number; culled: number; reason: string | null; recorded_at: Date }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, source, dead, culled, reason, recorded_at
       FROM flock_daily_counts WHERE tenant_id = $1 AND flock_id = $2 ORDER BY day, source`,
    [tenantId, flockId],
  );
  return r.rows.map((x) => ({ day: x.day, source: x.source, dead: x.dead, culled: x.culled, reason: x.reason, recordedAt: x.recorded_at.toISOString() }));
}

/**
 * Whether `flockId` is the flock in that barn at time `at`: placed there at or before `at` and not
 * depopulated before it. WeighVision's `batch_id` is checked with it.
 */
export async function isCurrentFlockOf(db: Queryable, tenantId: string, farmId: string, barnId: string, flockId: string, at: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM flocks
      WHERE tenant_id = $1 AND flock_id = $2 AND farm_id = $3 AND barn_id = $4
        AND placed_at <= $5 AND (depopulated_at IS NULL OR depopulated_at > $5)`,
    [tenantId, flockId, farmId, barnId, at],
  );
  return (r.rowCount ?? 0) > 0;
}

/** A day's losses to record, from either channel. */
export interface MortalityRecord {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  eventId: string;
  traceId: string;
  /** The event's time: the newer record of a (flock, day, source) wins. */
  recordedAt: string;
  source: MortalitySource;
  payload: FlockMortalityPayload;
}

export type MortalityVerdict = { ok: true } | { ok: false; reason: RejectReason; detail: string };

/**
 * The farm's IANA time zone, in which a record's `day` and the placement's day are read. The farm
 * server has no setting for it yet: UTC until one is passed (docs/flocks.md).
 */
export const defaultFarmTimeZone = 'UTC';

function judge(rec: MortalityRecord, flock: Flock | undefined, timeZone: string): MortalityVerdict {
  const p = rec.payload;
  if (!flock || flock.tenantId !== rec.tenantId) return { ok: false, reason: 'unknown_flock', detail: `no flock ${p.flock_id} is placed on this farm server` };
  if (flock.farmId !== rec.farmId || flock.barnId !== rec.barnId) {
    return {
      ok: false,
      reason: 'flock_barn_mismatch',
      detail: `flock ${p.flock_id} is in ${flock.farmId}/${flock.barnId}, not ${rec.farmId}/${rec.barnId}`,
    };
  }
  if (flock.status === 'depopulated')
    return { ok: false, reason: 'flock_depopulated', detail: `flock ${p.flock_id} was depopulated at ${flock.depopulatedAt}` };
  const placedDay = farmDayOf(flock.placedAt, timeZone);
  if (p.day < placedDay) {
    return { ok: false, reason: 'flock_day_out_of_range', detail: `day ${p.day} is before flock ${p.flock_id} was placed (${placedDay})` };
  }
  // One day of slack for a counter whose clock runs behind, or a farm east of the zone assumed.
  if (p.day > addDays(farmDayOf(rec.recordedAt, timeZone), 1)) {
    return { ok: false, reason: 'flock_day_out_of_range', detail: `day ${p.day} is after the record's own time ${rec.recordedAt}` };
  }
  return { ok: true };
}

/** Each record's verdict against the flocks as they stand (read under FOR SHARE: a depopulation waits). */
export async function checkMortality(db: Queryable, records: readonly MortalityRecord[], timeZone: string = defaultFarmTimeZone): Promise<MortalityVerdict[]> {
  const ids = [...new Set(records.map((r) => r.payload.flock_id.toLowerCase()))];
  const r = await db.query<FlockRow>(`SELECT ${flockColumns} FROM flocks WHERE flock_id = ANY($1::uuid[]) ORDER BY flock_id FOR SHARE`, [ids]);
  const flocks = new Map(r.rows.map((row) => [row.flock_id, toFlock(row)]));
  return records.map((rec) => judge(rec, flocks.get(rec.payload.flock_id.toLowerCase()), timeZone));
}

const upsertCounts = `
INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, dead, culled, reason, event_id, device_id, recorded_at, trace_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[], $4::text[], $5::int[], $6::int[], $7::text[], $8::uuid[], $9::text[],
                     $10::timestamptz[], $11::text[])
ON CONFLICT (tenant_id, flock_id, day, source) DO UPDATE
   SET dead = excluded.dead, culled = excluded.culled, reason = excluded.reason, event_id = excluded.event_id,
       device_id = excluded.device_id, recorded_at = excluded.recorded_at, trace_id = excluded.trace_id, updated_at = now()
 WHERE (excluded.recorded_at, excluded.event_id) > (flock_daily_counts.recorded_at, flock_daily_counts.event_id)`;

const newer = (a: MortalityRecord, b: MortalityRecord) =>
  Date.parse(a.recordedAt) > Date.parse(b.recordedAt) || (a.recordedAt === b.recordedAt && a.eventId > b.eventId);

/**
 * Writes the day rows of records already judged ok: per (flock, day, source) the newest record
 * stands, whatever order they come in. Returns how many rows changed.
 */
export async function recordDailyCounts(db: Queryable, records: readonly MortalityRecord[]): Promise<number> {
  // One statement may not touch a row twice: the newest of each key in this call goes in.
  const byKey = new Map<string, MortalityRecord>();
  for (const rec of records) {
    const key = `${rec.tenantId}/${rec.payload.flock_id.toLowerCase()}/${rec.payload.day}/${rec.source}`;
    const held = byKey.get(key);
    if (!held || newer(rec, held)) byKey.set(key, rec);
  }
  const rows = [...byKey.values()].sort((a, b) =>
    a.payload.flock_id < b.payload.flock_id ? -1 : a.payload.flock_id > b.payload.flock_id ? 1 : a.payload.day < b.payload.day ? -1 : 1,
  );
  if (rows.length === 0) return 0;
  const r = await db.query(upsertCounts, [
    rows.map((x) => x.tenantId),
    rows.map((x) => x.payload.flock_id),
    rows.map((x) => x.payload.day),
    rows.map((x) => x.source),
    rows.map((x) => x.payload.dead),
    rows.map((x) => x.payload.culled),
    rows.map((x) => x.payload.reason ?? null),
    rows.map((x) => x.eventId),
    rows.map((x) => x.deviceId),
    rows.map((x) => x.recordedAt),
    rows.map((x) => x.traceId),
  ]);
  return r.rowCount ?? 0;
}

/** A catalog envelope for an event the edge itself makes, checked against the catalog. */
function edgeEvent(type: 'flock.placed' | 'flock.mortality.recorded' | 'flock.depopulated', flock: Flock, payload: unknown, meta: ActionMeta): FarmEvent {
  return farmEventSchema.parse({
    schema_version: '1.0',
    event_id: randomUUID(),
    trace_id: meta.traceId,
    event_type: type,
    tenant_id: flock.tenantId,
    device_id: meta.actor,
    ts: new Date().toISOString(),
    farm_id: flock.farmId,
    barn_id: flock.barnId,
    payload,
  });
}

async function appendEvent(db: Queryable, event: FarmEvent): Promise<void> {
  await appendEvents(db, [outboxEvent(event, outboxPriority.normal)]);
}

export type PlaceInput = FlockPlacedPayload & { tenant_id: string };

function samePlacement(f: Flock, p: PlaceInput): boolean {
  return (
    f.tenantId === p.tenant_id.toLowerCase() &&
    f.farmId === p.farm_id &&
    f.barnId === p.barn_id &&
    f.species === p.species &&
    f.breed === p.breed &&
    f.sex === (p.sex ?? null) &&
    f.headCountPlaced === p.head_count &&
    f.ageAtPlacementDays === p.age_at_placement_days &&
    f.placementWeightKg === (p.placement_weight_kg ?? null) &&
    Date.parse(f.placedAt) === Date.parse(p.placed_at)
  );
}

/**
 * Places a flock: its row and `flock.placed` in one transaction. Placing the same flock again with
 * the same figures is a no-op (`created: false`), so a retried request is harmless.
 */
export async function placeFlock(pool: Pool, placement: PlaceInput, meta: ActionMeta): Promise<{ flock: Flock; created: boolean }> {
  // To the grams the column keeps (numeric(8,3)), so a retried request compares equal to its row.
  const w = placement.placement_weight_kg;
  const input = w === undefined ? placement : { ...placement, placement_weight_kg: Math.round(w * 1000) / 1000 };
  return inTransaction(pool, async (client) => {
    // Serialises placements into one barn (the partial unique index would refuse the second anyway).
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `flock-barn/${input.tenant_id.toLowerCase()}/${input.farm_id}/${input.barn_id}`,
    ]);
    const existing = await getFlock(client, input.flock_id);
    if (existing) {
      if (samePlacement(existing, input)) return { flock: existing, created: false };
      throw new FlockRefusal('flock_id_conflict', `flock ${input.flock_id} is already placed with other figures`);
    }
    const occupant = await client.query<{ flock_id: string }>(
      `SELECT flock_id::text FROM flocks WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND status = 'placed'`,
      [input.tenant_id, input.farm_id, input.barn_id],
    );
    if (occupant.rows[0]) {
      throw new FlockRefusal('barn_occupied', `barn ${input.farm_id}/${input.barn_id} holds flock ${occupant.rows[0].flock_id}; depopulate it first`);
    }
    const payload: FlockPlacedPayload = {
      flock_id: input.flock_id,
      farm_id: input.farm_id,
      barn_id: input.barn_id,
      placed_at: input.placed_at,
      species: input.species,
      breed: input.breed,
      ...(input.sex ? { sex: input.sex } : {}),
      head_count: input.head_count,
      age_at_placement_days: input.age_at_placement_days,
      ...(input.placement_weight_kg !== undefined ? { placement_weight_kg: input.placement_weight_kg } : {}),
    };
    const event = edgeEvent('flock.placed', { tenantId: input.tenant_id, farmId: input.farm_id, barnId: input.barn_id } as Flock, payload, meta);
    const r = await client.query<FlockRow>(
      `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days,
                           placement_weight_kg, placed_at, placed_event_id, trace_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING ${flockColumns}`,
      [
        input.tenant_id,
        input.flock_id,
        input.farm_id,
        input.barn_id,
        input.species,
        input.breed,
        input.sex ?? null,
        input.head_count,
        input.age_at_placement_days,
        input.placement_weight_kg ?? null,
        input.placed_at,
        event.event_id,
        meta.traceId,
      ],
    );
    await appendEvent(client, event);
    return { flock: toFlock(r.rows[0]), created: true };
  });
}

/** An operator's count of one day: the day row and `flock.mortality.recorded`, in one transaction. */
export async function recordOperatorMortality(
  pool: Pool,
  flockId: string,
  counts: Omit<FlockMortalityPayload, 'flock_id' | 'source'>,
  meta: ActionMeta,
  timeZone: string = defaultFarmTimeZone,
): Promise<{ flock: Flock; eventId: string }> {
  return inTransaction(pool, async (client) => {
    const flock = await getFlock(client, flockId, { lock: true });
    if (!flock) throw new FlockRefusal('flock_not_found', `no flock ${flockId}`);
    const payload: FlockMortalityPayload = { flock_id: flock.flockId, ...counts, source: 'operator' };
    const event = edgeEvent('flock.mortality.recorded', flock, payload, meta);
    const record: MortalityRecord = {
      tenantId: flock.tenantId,
      farmId: flock.farmId,
      barnId: flock.barnId,
      deviceId: meta.actor,
      eventId: event.event_id,
      traceId: meta.traceId,
      recordedAt: event.ts,
      source: 'operator',
      payload,
    };
    const verdict = judge(record, flock, timeZone);
    if (!verdict.ok) throw new FlockRefusal(verdict.reason === 'flock_depopulated' ? 'flock_depopulated' : 'flock_day_out_of_range', verdict.detail);
    await recordDailyCounts(client, [record]);
    await appendEvent(client, event);
    return { flock, eventId: event.event_id };
  });
}

/** The flock leaves its barn: status, time and `flock.depopulated` in one transaction; again is a no-op. */
export async function depopulateFlock(pool: Pool, flockId: string, depopulatedAt: string, meta: ActionMeta): Promise<{ flock: Flock; changed: boolean }> {
  return inTransaction(pool, async (client) => {
    const flock = await getFlock(client, flockId, { lock: true });
    if (!flock) throw new FlockRefusal('flock_not_found', `no flock ${flockId}`);
    if (flock.status === 'depopulated') {
      if (Date.parse(flock.depopulatedAt!) === Date.parse(depopulatedAt)) return { flock, changed: false };
      throw new FlockRefusal('flock_depopulated', `flock ${flockId} was already depopulated at ${flock.depopulatedAt}`);
    }
    if (Date.parse(depopulatedAt) < Date.parse(flock.placedAt)) {
      throw new FlockRefusal('depopulated_before_placement', `depopulated_at ${depopulatedAt} is before the placement at ${flock.placedAt}`);
    }
    const event = edgeEvent(
      'flock.depopulated',
      flock,
      { flock_id: flock.flockId, farm_id: flock.farmId, barn_id: flock.barnId, depopulated_at: depopulatedAt },
      meta,
    );
    const r = await client.query<FlockRow>(
      `UPDATE flocks SET status = 'depopulated', depopulated_at = $2, depopulated_event_id = $3
        WHERE flock_id = $1 RETURNING ${flockColumns}`,
      [flockId, depopulatedAt, event.event_id],
    );
    await appendEvent(client, event);
    return { flock: toFlock(r.rows[0]), changed: true };
  });
}
