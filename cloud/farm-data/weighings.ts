/**
 * A barn's WeighVision sessions, newest first, paged by a keyset cursor: each with its result as
 * the cloud holds it — the edge's conclusion once it has arrived (concluded_at set: weight and its
 * source, scale median, calibrated vision estimate, flags, status), else the provisional recompute
 * (weight_source null). A session's time is when it was finalized, else when it was concluded or
 * started (a timed-out session has no finalization): finalized sessions are an ordered scan of
 * weighvision_sessions_barn_time, the few without one its `finalized_at IS NULL` part.
 */
import type { PoolClient } from 'pg';
import type { FarmContext } from './read-scope';

export interface Weighing {
  sessionId: string;
  stationId: string;
  status: string;
  at: Date;
  startedAt: Date | null;
  finalizedAt: Date | null;
  concludedAt: Date | null;
  weightKg: number | null;
  weightSource: 'scale' | 'vision' | null;
  scaleMedianKg: number | null;
  visionWeightKg: number | null;
  visionConfidence: number | null;
  qualityFlags: string[];
  readingCount: number;
  stableReadingCount: number | null;
  imageCount: number | null;
}

export interface WeighingsPage {
  items: Weighing[];
  nextCursor: string | null;
}

export class InvalidWeighingsCursor extends Error {
  constructor() {
    super('the cursor is not one this API returned');
    this.name = 'InvalidWeighingsCursor';
  }
}

const stampPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const stampLength = 27;

// Microseconds as text: a JS Date (milliseconds) would let sessions of one millisecond skip or repeat across pages.
export function encodeWeighingsCursor(at: string, sessionId: string): string {
  return Buffer.from(`${at}|${sessionId}`, 'utf8').toString('base64url');
}

export function decodeWeighingsCursor(cursor: string): { at: string; sessionId: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const at = text.slice(0, stampLength);
  if (!stampPattern.test(at) || text[stampLength] !== '|' || text.length === stampLength + 1) throw new InvalidWeighingsCursor();
  return { at, sessionId: text.slice(stampLength + 1) };
}

const columns = `session_id, station_id, status, started_at, finalized_at, concluded_at, weight_kg::float8 AS weight_kg, weight_source,
       scale_median_kg::float8 AS scale_median_kg, vision_weight_kg::float8 AS vision_weight_kg, vision_confidence, quality_flags,
       reading_count, stable_reading_count, image_count`;
const unfinalizedAt = `coalesce(concluded_at, started_at, created_at)`;
const page = (at: string) => `
  AND ${at} >= $4 AND ${at} < $5 AND ($6::timestamptz IS NULL OR (${at}, session_id) < ($6::timestamptz, $7::text))
  ORDER BY ${at} DESC, session_id DESC LIMIT $8`;

const weighingsSql = `
SELECT * FROM (
  (SELECT ${columns}, finalized_at AS at FROM weighvision_sessions
   WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 ${page('finalized_at')})
  UNION ALL
  (SELECT ${columns}, ${unfinalizedAt} AS at FROM weighvision_sessions
   WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND finalized_at IS NULL ${page(unfinalizedAt)})
) s
ORDER BY at DESC, session_id DESC
LIMIT $8`;

interface Row {
  session_id: string;
  station_id: string;
  status: string;
  started_at: Date | null;
  finalized_at: Date | null;
  concluded_at: Date | null;
  weight_kg: number | null;
  weight_source: 'scale' | 'vision' | null;
  scale_median_kg: number | null;
  vision_weight_kg: number | null;
  vision_confidence: number | null;
  quality_flags: string[];
  reading_count: number;
  stable_reading_count: number | null;
  image_count: number | null;
  at: Date;
  at_text: string;
}

export async function readWeighings(
  client: PoolClient,
  farm: FarmContext,
  barnId: string,
  q: { from: Date; to: Date; limit: number; cursor?: string },
): Promise<WeighingsPage> {
  const after = q.cursor ? decodeWeighingsCursor(q.cursor) : null;
  const r = await client.query<Row>(
    `SELECT s.*, to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text FROM (${weighingsSql}) s ORDER BY s.at DESC, s.session_id DESC`,
    [farm.tenantId, farm.farmId, barnId, q.from, q.to, after?.at ?? null, after?.sessionId ?? null, q.limit + 1],
  );
  const rows = r.rows.slice(0, q.limit);
  const last = rows[rows.length - 1];
  return {
    items: rows.map((s) => ({
      sessionId: s.session_id,
      stationId: s.station_id,
      status: s.status,
      at: s.at,
      startedAt: s.started_at,
      finalizedAt: s.finalized_at,
      concludedAt: s.concluded_at,
      weightKg: s.weight_kg,
      weightSource: s.weight_source,
      scaleMedianKg: s.scale_median_kg,
      visionWeightKg: s.vision_weight_kg,
      visionConfidence: s.vision_confidence,
      qualityFlags: s.quality_flags,
      readingCount: s.reading_count,
      stableReadingCount: s.stable_reading_count,
      imageCount: s.image_count,
    })),
    nextCursor: r.rows.length > q.limit && last ? encodeWeighingsCursor(last.at_text, last.session_id) : null,
  };
}
