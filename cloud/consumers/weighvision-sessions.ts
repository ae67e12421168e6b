/**
 * The cloud copy of WeighVision sessions, written from events that arrive in any order (live lane
 * beside backfill, two queues): a weight or an image result may come before its session's
 * `created`, `finalized` before the last weight. So every write is an upsert that only moves a
 * session forward, and the summary columns (reading count, scale weight, vision estimate, quality
 * flags) are recomputed from the child rows rather than incremented — the same rows give the same
 * session whatever the order or the number of redeliveries.
 *
 * One truth for a weighing: once the edge's `weighvision.session.concluded` has arrived, the
 * summary is the edge's conclusion (weight and its source, scale median, vision estimate before and
 * after calibration, confidence, factor, flags, status), stored as sent, and the recompute no
 * longer touches it; the raw readings and image results stay stored for analysis. Before it
 * arrives (or for an edge that predates it) the recompute is provisional, `concluded_at IS NULL`:
 * weight_kg the stable readings' median, vision the mean of every image estimate.
 *
 * Concurrency: two services write a session's rows (telemetry: session, weights; analytics: image
 * results), and a recompute must see every child committed before it. Row locks are not enough —
 * an UPDATE that waited for a row lock re-checks the row but still reads the other tables with its
 * old snapshot, and a session row may not exist yet. So every transaction that touches a session
 * first takes a transaction-scoped advisory lock on (tenant, session), in key order: writers of
 * one session run one after another, and each statement after the lock sees the previous one's
 * rows. (A deadlock between two batches locking in two handlers is retried as transient.)
 */
import type { PoolClient } from 'pg';
import type { CloudEvent, CloudEventOf } from '../cloud-event';

export type SessionStatus = 'created' | 'collecting' | 'finalized' | 'timed_out' | 'failed';

export interface SessionUpsert {
  tenantId: string;
  sessionId: string;
  farmId: string;
  barnId: string;
  stationId: string;
  status: SessionStatus;
  batchId?: string;
  startedAt?: string;
  finalizedAt?: string;
  imageCount?: number;
  traceId: string;
}

// As rankSql: the edge's timed_out / failed are final and outrank a device's finalized.
const statusRank: Record<SessionStatus, number> = { created: 0, collecting: 1, finalized: 3, timed_out: 4, failed: 4 };

/** Where a WeighVision event happened; ingestion guarantees these are present (cloud-event.ts). */
export function sessionPlace(e: CloudEvent): { sessionId: string; farmId: string; barnId: string; stationId: string } {
  if (!e.session_id || !e.farm_id || !e.barn_id) {
    throw new Error(`${e.event_type} ${e.event_id} lacks session_id, farm_id or barn_id`);
  }
  return { sessionId: e.session_id, farmId: e.farm_id, barnId: e.barn_id, stationId: e.device_id };
}

const lockSql = `
SELECT pg_advisory_xact_lock(k)
FROM (SELECT DISTINCT hashtextextended(lower(u.tenant_id::text) || '/' || u.session_id, 0) AS k
      FROM unnest($1::uuid[], $2::text[]) AS u(tenant_id, session_id)) keys
ORDER BY k`;

/** Serialises this transaction with every other one on these sessions, until commit. */
export async function lockSessions(client: PoolClient, sessions: { tenantId: string; sessionId: string }[]): Promise<void> {
  if (sessions.length === 0) return;
  await client.query(lockSql, [sessions.map((s) => s.tenantId), sessions.map((s) => s.sessionId)]);
}

/** One upsert per session: a multi-row upsert may not touch the same row twice. */
function mergeBySession(rows: SessionUpsert[]): SessionUpsert[] {
  const merged = new Map<string, SessionUpsert>();
  for (const r of rows) {
    const key = `${r.tenantId.toLowerCase()}/${r.sessionId}`;
    const m = merged.get(key);
    if (!m) {
      merged.set(key, { ...r });
      continue;
    }
    if (statusRank[r.status] > statusRank[m.status]) m.status = r.status;
    m.batchId ??= r.batchId;
    m.startedAt ??= r.startedAt;
    m.finalizedAt ??= r.finalizedAt;
    m.imageCount ??= r.imageCount;
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

const rankSql = (s: string) => `coalesce(array_position(ARRAY['created','collecting','finalizing','finalized'], ${s}), 4)`;

const upsertSql = `
INSERT INTO weighvision_sessions AS s
  (tenant_id, session_id, farm_id, barn_id, station_id, status, batch_id, started_at, finalized_at, image_count, trace_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[],
                     $8::timestamptz[], $9::timestamptz[], $10::int[], $11::text[])
ON CONFLICT (tenant_id, session_id) DO UPDATE SET
  status       = CASE WHEN ${rankSql('excluded.status')} > ${rankSql('s.status')} THEN excluded.status ELSE s.status END,
  batch_id     = coalesce(s.batch_id, excluded.batch_id),
  started_at   = coalesce(s.started_at, excluded.started_at),
  finalized_at = coalesce(s.finalized_at, excluded.finalized_at),
  image_count  = coalesce(excluded.image_count, s.image_count),
  trace_id     = coalesce(s.trace_id, excluded.trace_id),
  updated_at   = now()`;

export async function upsertSessions(client: PoolClient, rows: SessionUpsert[]): Promise<void> {
  const merged = mergeBySession(rows);
  if (merged.length === 0) return;
  await client.query(upsertSql, [
    merged.map((r) => r.tenantId),
    merged.map((r) => r.sessionId),
    merged.map((r) => r.farmId),
    merged.map((r) => r.barnId),
    merged.map((r) => r.stationId),
    merged.map((r) => r.status),
    merged.map((r) => r.batchId ?? null),
    merged.map((r) => r.startedAt ?? null),
    merged.map((r) => r.finalizedAt ?? null),
    merged.map((r) => r.imageCount ?? null),
    merged.map((r) => r.traceId),
  ]);
}

// Scale weight: median of the readings the scale called stable (or did not qualify), as the edge
// does; unstable readings count but do not weigh. Vision: mean of the image estimates.
const refreshSql = `
UPDATE weighvision_sessions s SET
  reading_count     = w.reading_count,
  weight_kg         = w.median_kg,
  vision_weight_kg  = v.vision_kg,
  vision_confidence = v.confidence,
  quality_flags     = v.flags,
  updated_at        = now()
FROM (SELECT DISTINCT * FROM unnest($1::uuid[], $2::text[]) AS k(tenant_id, session_id)) k
CROSS JOIN LATERAL (
  SELECT count(*)::int AS reading_count,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ww.weight_kg) FILTER (WHERE ww.stable IS NOT FALSE) AS median_kg
  FROM weighvision_weights ww WHERE ww.tenant_id = k.tenant_id AND ww.session_id = k.session_id
) w
CROSS JOIN LATERAL (
  SELECT avg(r.estimated_weight_kg) AS vision_kg, avg(r.confidence) AS confidence,
         coalesce((SELECT array_agg(DISTINCT f ORDER BY f)
                   FROM inference_results r2, unnest(r2.quality_flags) f
                   WHERE r2.tenant_id = k.tenant_id AND r2.session_id = k.session_id), '{}') AS flags
  FROM inference_results r WHERE r.tenant_id = k.tenant_id AND r.session_id = k.session_id
) v
WHERE s.tenant_id = k.tenant_id AND s.session_id = k.session_id AND s.concluded_at IS NULL`;

/**
 * Recomputes the provisional summary of these sessions from their rows (sessions not stored yet,
 * and sessions the edge's conclusion has reached, are skipped).
 */
export async function refreshSessionSummaries(client: PoolClient, sessions: { tenantId: string; sessionId: string }[]): Promise<void> {
  if (sessions.length === 0) return;
  await client.query(refreshSql, [sessions.map((s) => s.tenantId), sessions.map((s) => s.sessionId)]);
}

type Concluded = CloudEventOf<'weighvision.session.concluded'>;

// The edge's conclusion, as sent. A later conclusion of the same session (there is one per
// session; a second could only come from a re-run) replaces an earlier one, never the reverse.
const concludeSql = `
UPDATE weighvision_sessions s SET
  status               = c.status,
  weight_kg            = c.weight_kg,
  weight_source        = c.weight_source,
  scale_median_kg      = c.scale_median_kg,
  reading_count        = c.reading_count,
  stable_reading_count = c.stable_reading_count,
  vision_raw_kg        = c.vision_raw_kg,
  vision_weight_kg     = c.vision_weight_kg,
  vision_confidence    = c.vision_confidence,
  calibration_factor   = c.calibration_factor,
  images_inferred      = c.images_inferred,
  missing_images       = c.missing_images,
  quality_flags        = ARRAY(SELECT jsonb_array_elements_text(c.quality_flags)),
  failure_reason       = c.failure_reason,
  concluded_event_id   = c.event_id,
  concluded_at         = c.concluded_at,
  updated_at           = now()
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::text[], $6::numeric[], $7::text[], $8::numeric[], $9::int[],
            $10::int[], $11::numeric[], $12::numeric[], $13::float8[], $14::float8[], $15::int[], $16::int[], $17::jsonb[], $18::text[])
  AS c(tenant_id, session_id, event_id, concluded_at, status, weight_kg, weight_source, scale_median_kg, reading_count,
       stable_reading_count, vision_raw_kg, vision_weight_kg, vision_confidence, calibration_factor, images_inferred,
       missing_images, quality_flags, failure_reason)
WHERE s.tenant_id = c.tenant_id AND s.session_id = c.session_id
  AND (s.concluded_at IS NULL OR c.concluded_at >= s.concluded_at)`;

/** Stores the edge's conclusions (their sessions locked and upserted by the caller). */
export async function recordConclusions(client: PoolClient, events: Concluded[]): Promise<void> {
  const latest = new Map<string, Concluded>();
  for (const e of events) {
    const key = `${e.tenant_id.toLowerCase()}/${sessionPlace(e).sessionId}`;
    const kept = latest.get(key);
    if (!kept || Date.parse(e.ts) > Date.parse(kept.ts)) latest.set(key, e);
  }
  const rows = [...latest.values()];
  if (rows.length === 0) return;
  await client.query(concludeSql, [
    rows.map((e) => e.tenant_id),
    rows.map((e) => sessionPlace(e).sessionId),
    rows.map((e) => e.event_id),
    rows.map((e) => e.ts),
    rows.map((e) => e.payload.status),
    rows.map((e) => e.payload.weight_kg ?? null),
    rows.map((e) => e.payload.weight_source ?? null),
    rows.map((e) => e.payload.scale_median_kg ?? null),
    rows.map((e) => e.payload.reading_count),
    rows.map((e) => e.payload.stable_reading_count),
    rows.map((e) => e.payload.vision_raw_kg ?? null),
    rows.map((e) => e.payload.vision_weight_kg ?? null),
    rows.map((e) => e.payload.vision_confidence ?? null),
    rows.map((e) => e.payload.calibration_factor),
    rows.map((e) => e.payload.images_inferred),
    rows.map((e) => e.payload.missing_images),
    rows.map((e) => JSON.stringify(e.payload.quality_flags)),
    rows.map((e) => e.payload.failure_reason ?? null),
  ]);
}
