/**
 * Rows for the farm-data tests, written straight into the cloud test database through the owner
 * pool (as the consumers would have stored them): farms, barns, flocks, counts, feed, rollups and
 * weighing sessions of fresh tenants.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export const uniq = () => randomUUID().slice(0, 8);

export class Seed {
  constructor(
    readonly owner: Pool,
    readonly tenantId: string,
  ) {}

  async farm(farmId: string, opts: { species?: string; timezone?: string; comfort?: [number, number] } = {}): Promise<void> {
    await this.owner.query(
      'INSERT INTO farms (tenant_id, farm_id, name, species, timezone, comfort_temp_min_c, comfort_temp_max_c) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [this.tenantId, farmId, `Farm ${farmId}`, opts.species ?? 'broiler', opts.timezone ?? 'UTC', opts.comfort?.[0] ?? null, opts.comfort?.[1] ?? null],
    );
  }

  async barn(farmId: string, barnId: string): Promise<void> {
    await this.owner.query('INSERT INTO barns (tenant_id, farm_id, barn_id, name) VALUES ($1, $2, $3, $4)', [this.tenantId, farmId, barnId, `House ${barnId}`]);
  }

  async flock(
    farmId: string,
    barnId: string,
    f: { placedAt: string; head: number; breed?: string; species?: string; ageAtPlacement?: number; depopulatedAt?: string },
  ): Promise<string> {
    const flockId = randomUUID();
    await this.owner.query(
      `INSERT INTO flocks (tenant_id, flock_id, farm_id, barn_id, species, breed, sex, head_count_placed, age_at_placement_days, placed_at,
                           placed_event_id, depopulated_at, depopulated_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'mixed', $7, $8, $9, $10, $11, $12)`,
      [
        this.tenantId,
        flockId,
        farmId,
        barnId,
        f.species ?? 'broiler',
        f.breed ?? 'Ross 308',
        f.head,
        f.ageAtPlacement ?? 0,
        f.placedAt,
        randomUUID(),
        f.depopulatedAt ?? null,
        f.depopulatedAt ? randomUUID() : null,
      ],
    );
    return flockId;
  }

  async losses(
    farmId: string,
    barnId: string,
    flockId: string,
    day: string,
    dead: number,
    culled: number,
    source: 'device' | 'operator' = 'device',
  ): Promise<void> {
    await this.owner.query(
      `INSERT INTO flock_daily_counts (tenant_id, flock_id, day, source, farm_id, barn_id, dead, culled, event_id, device_id, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'counter-1', now())`,
      [this.tenantId, flockId, day, source, farmId, barnId, dead, culled, randomUUID()],
    );
  }

  async feed(farmId: string, barnId: string, kg: number, at: string): Promise<void> {
    await this.owner.query(
      `INSERT INTO feed_intake (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg, feed_type, dispensed_at)
       VALUES ($1, $2, $3, $4, $5, 'feeder-1', $6, 'starter', $7)`,
      [this.tenantId, randomUUID(), randomUUID(), farmId, barnId, kg, at],
    );
  }

  async rollup(
    farmId: string,
    barnId: string,
    r: { device: string; metric?: string; width: '1m' | '1h'; at: string; count: number; mean: number; min?: number; max?: number; unit?: string },
  ): Promise<void> {
    await this.owner.query(
      `INSERT INTO telemetry_rollups (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
                                      value_mean, value_min, value_max, revision, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)`,
      [
        this.tenantId,
        farmId,
        barnId,
        r.device,
        r.metric ?? 'temperature',
        r.width,
        r.at,
        r.unit ?? 'C',
        r.count,
        r.mean,
        r.min ?? r.mean,
        r.max ?? r.mean,
        randomUUID(),
      ],
    );
  }

  async session(
    farmId: string,
    barnId: string,
    s: {
      id?: string;
      finalizedAt?: string | null;
      startedAt?: string;
      status?: string;
      kg?: number | null;
      source?: 'scale' | 'vision';
      concludedAt?: string;
      flags?: string[];
      batchId?: string;
    },
  ): Promise<string> {
    const id = s.id ?? `s-${uniq()}`;
    await this.owner.query(
      `INSERT INTO weighvision_sessions (tenant_id, session_id, farm_id, barn_id, station_id, status, started_at, finalized_at, weight_kg,
                                         weight_source, scale_median_kg, concluded_at, quality_flags, reading_count, batch_id)
       VALUES ($1, $2, $3, $4, 'station-1', $5, $6, $7, $8, $9, $10, $11, $12, 3, $13)`,
      [
        this.tenantId,
        id,
        farmId,
        barnId,
        s.status ?? 'finalized',
        s.startedAt ?? null,
        s.finalizedAt === undefined ? null : s.finalizedAt,
        s.kg ?? null,
        s.source ?? null,
        s.source === 'scale' ? s.kg : null,
        s.concludedAt ?? null,
        s.flags ?? [],
        s.batchId ?? null,
      ],
    );
    return id;
  }
}
