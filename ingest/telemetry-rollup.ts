/**
 * The only writer of telemetry_rollup, the edge's minute and hour windows per device and metric.
 * Ingest keeps them current inside each micro-batch's transaction (rollupUpsert, one statement
 * with the batch's readings) and bumps `revision` on every change; the rollup publisher
 * (activities/ingest/rollups.ts) selects closed windows and marks each published with the
 * revision it appended to the outbox.
 */
import type { PoolClient } from 'pg';
import type { RollupWindow } from '../domain/contracts';
import type { Queryable } from '../db/transaction';

/**
 * The INSERT … ON CONFLICT that folds accepted readings into their windows, for a CTE of a larger
 * statement. `readings` names a relation with tenant_id, farm_id, barn_id, device_id, metric,
 * value, unit and occurred_at. Rows are grouped and inserted in key order, so two batches that
 * touch the same hot window wait for each other instead of deadlocking.
 */
export function rollupUpsert(readings: string): string {
  return `
  INSERT INTO telemetry_rollup AS r (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start,
                                     unit, reading_count, value_sum, value_min, value_max)
  SELECT tenant_id, farm_id, barn_id, device_id, metric, w.width, date_trunc(w.field, occurred_at, 'UTC'),
         max(unit), count(*), sum(value), min(value), max(value)
  FROM ${readings} CROSS JOIN (VALUES ('1m', 'minute'), ('1h', 'hour')) AS w(width, field)
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start) DO UPDATE SET
    reading_count = r.reading_count + excluded.reading_count,
    value_sum     = r.value_sum + excluded.value_sum,
    value_min     = least(r.value_min, excluded.value_min),
    value_max     = greatest(r.value_max, excluded.value_max),
    unit          = excluded.unit,
    revision      = r.revision + 1,
    updated_at    = now()`;
}

export interface RollupRow {
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
  metric: string;
  bucket_width: RollupWindow;
  bucket_start: Date;
  bucket_end: Date;
  unit: string;
  reading_count: string; // bigint
  value_sum: number;
  value_min: number;
  value_max: number;
  revision: number;
}

const widthInterval = `CASE r.bucket_width WHEN '1m' THEN interval '1 minute' ELSE interval '1 hour' END`;

// `revision > published_revision` matches the partial index telemetry_rollup_unpublished, and the
// first bucket_start bound (true for every closed window of any width) lets the index scan stop
// early; the second bound is the exact per-width test. SKIP LOCKED: a row the bridge is updating
// right now is left for the next run, never waited on.
const selectClosed = `
SELECT r.tenant_id, r.farm_id, r.barn_id, r.device_id, r.metric, r.bucket_width, r.bucket_start,
       r.bucket_start + ${widthInterval} AS bucket_end,
       r.unit, r.reading_count, r.value_sum, r.value_min, r.value_max, r.revision
FROM telemetry_rollup r
WHERE r.revision > r.published_revision
  AND r.bucket_start <= now() - make_interval(secs => $1) - interval '1 minute'
  AND r.bucket_start + ${widthInterval} <= now() - make_interval(secs => $1)
ORDER BY r.bucket_start
LIMIT $2
FOR UPDATE OF r SKIP LOCKED`;

const markPublished = `
UPDATE telemetry_rollup r SET published_revision = k.revision
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::int[])
  AS k(tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, revision)
WHERE r.tenant_id = k.tenant_id AND r.farm_id = k.farm_id AND r.barn_id = k.barn_id
  AND r.device_id = k.device_id AND r.metric = k.metric AND r.bucket_width = k.bucket_width
  AND r.bucket_start = k.bucket_start`;

/** Up to `limit` windows closed for at least `graceSeconds` with an unpublished revision, locked. */
export async function selectClosedRollups(client: PoolClient, graceSeconds: number, limit: number): Promise<RollupRow[]> {
  return (await client.query<RollupRow>(selectClosed, [graceSeconds, limit])).rows;
}

function markParams(rows: readonly RollupRow[]): unknown[] {
  return [
    rows.map((r) => r.tenant_id),
    rows.map((r) => r.farm_id),
    rows.map((r) => r.barn_id),
    rows.map((r) => r.device_id),
    rows.map((r) => r.metric),
    rows.map((r) => r.bucket_width),
    rows.map((r) => r.bucket_start),
    rows.map((r) => r.revision),
  ];
}

/** Marks each window published at the revision it was selected with. */
export async function markRollupsPublished(db: Queryable, rows: readonly RollupRow[]): Promise<void> {
  await db.query(markPublished, markParams(rows));
}
