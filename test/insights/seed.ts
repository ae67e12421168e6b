/**
 * Row-by-row seeding of the cloud tables an insight reads (as the owner: consumers write these
 * tables, farmiq_app only reads them). Small fixtures only; the benchmark seeds in bulk in SQL.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export async function seedFarm(
  owner: Pool,
  f: { tenantId: string; farmId: string; name?: string; species?: string; timezone?: string; comfort?: [number, number] | null },
): Promise<void> {
  await owner.query(
    `INSERT INTO farms (tenant_id, farm_id, name, species, timezone, comfort_temp_min_c, comfort_temp_max_c) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [f.tenantId, f.farmId, f.name ?? `Farm ${f.farmId}`, f.species ?? 'broiler', f.timezone ?? 'UTC', f.comfort?.[0] ?? null, f.comfort?.[1] ?? null],
  );
}

export async function seedBarn(
  owner: Pool,
  b: { tenantId: string; farmId: string; barnId: string; name?: string; animalCount: number | null; placedAt: string | null; ageAtPlacementDays?: number },
): Promise<void> {
  await owner.query(
    `INSERT INTO barns (tenant_id, farm_id, barn_id, name, animal_count, placed_at, age_at_placement_days) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [b.tenantId, b.farmId, b.barnId, b.name ?? `Barn ${b.barnId}`, b.animalCount, b.placedAt, b.ageAtPlacementDays ?? 0],
  );
}

export interface RollupSeed {
  deviceId: string;
  metric: string;
  width?: '1m' | '1h';
  start: string;
  count: number;
  mean: number;
  min: number;
  max: number;
  unit?: string;
}

export async function seedRollups(owner: Pool, scope: { tenantId: string; farmId: string; barnId: string }, rows: RollupSeed[]): Promise<void> {
  for (const r of rows) {
    await owner.query(
      `INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
                                      value_mean, value_min, value_max, revision, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)`,
      [
        scope.tenantId,
        scope.farmId,
        scope.barnId,
        r.deviceId,
        r.metric,
        r.width ?? '1h',
        r.start,
        r.unit ?? (r.metric === 'temperature' ? 'C' : '%'),
        r.count,
        r.mean,
        r.min,
        r.max,
        randomUUID(),
      ],
    );
  }
}

export async function seedRawReadings(
  owner: Pool,
  scope: { tenantId: string; farmId: string; barnId: string },
  rows: { deviceId: string; metric: string; value: number; at: string }[],
): Promise<void> {
  for (const r of rows) {
    await owner.query(
      `INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'C', $8)`,
      [scope.tenantId, randomUUID(), scope.farmId, scope.barnId, r.deviceId, r.metric, r.value, r.at],
    );
  }
}

export async function seedFeed(owner: Pool, scope: { tenantId: string; farmId: string; barnId: string }, rows: { kg: number; at: string }[]): Promise<void> {
  for (const r of rows) {
    await owner.query(
      `INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type, dispensed_at)
       VALUES ($1, $2, $3, $4, $5, 'feeder-1', $6, 'grower', $7)`,
      [scope.tenantId, randomUUID(), randomUUID(), scope.farmId, scope.barnId, r.kg, r.at],
    );
  }
}

export async function seedSessions(
  owner: Pool,
  scope: { tenantId: string; farmId: string; barnId: string },
  rows: { stationId: string; weightKg: number; visionKg?: number | null; at: string; status?: string }[],
): Promise<void> {
  for (const r of rows) {
    await owner.query(
      `INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id, status, started_at, finalized_at, weight_kg, vision_weight_kg)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz - interval '1 minute', $7, $8, $9)`,
      [scope.tenantId, `s-${randomUUID()}`, scope.farmId, scope.barnId, r.stationId, r.status ?? 'finalized', r.at, r.weightKg, r.visionKg ?? null],
    );
  }
}
