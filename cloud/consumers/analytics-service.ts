/**
 * cloud-analytics-service (spec §8.1, §8.2, §8.4): rollups, finalized sessions and image inference —
 * the inputs of the insights flow (spec §5).
 *
 * telemetry.aggregated: one row per device, metric and window, the highest revision wins whatever
 * order revisions arrive in. inference.completed: one result per image (a re-run of the model on
 * the same image replaces it when newer), kept for analysis; the session's vision estimate is
 * recomputed only while it is provisional (the edge's weighvision.session.concluded, stored by the
 * telemetry service, is the session's result once it has arrived: weighvision-sessions.ts).
 */
import type { CloudEventOf } from '../cloud-event';
import type { ConsumerService } from './event-consumer';
import { lockSessions, refreshSessionSummaries, sessionPlace } from './weighvision-sessions';

const rollupSql = `
INSERT INTO telemetry_rollups AS r
  (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start, unit, reading_count,
   value_mean, value_min, value_max, revision, event_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[],
                     $9::bigint[], $10::float8[], $11::float8[], $12::float8[], $13::int[], $14::uuid[])
ON CONFLICT (tenant_id, farm_id, barn_id, device_id, metric, bucket_width, bucket_start) DO UPDATE SET
  unit = excluded.unit, reading_count = excluded.reading_count, value_mean = excluded.value_mean,
  value_min = excluded.value_min, value_max = excluded.value_max, revision = excluded.revision,
  event_id = excluded.event_id, updated_at = now()
WHERE excluded.revision > r.revision`;

const inferenceSql = `
INSERT INTO inference_results AS r
  (tenant_id, media_id, event_id, session_id, model_id, estimated_weight_kg, confidence, quality_flags, inference_ms, completed_at, trace_id)
SELECT u.tenant_id, u.media_id, u.event_id, u.session_id, u.model_id, u.estimated_weight_kg, u.confidence,
       ARRAY(SELECT jsonb_array_elements_text(u.quality_flags)), u.inference_ms, u.completed_at, u.trace_id
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::numeric[], $7::float8[], $8::jsonb[],
            $9::float8[], $10::timestamptz[], $11::text[])
  AS u(tenant_id, media_id, event_id, session_id, model_id, estimated_weight_kg, confidence, quality_flags, inference_ms, completed_at, trace_id)
ON CONFLICT (tenant_id, media_id) DO UPDATE SET
  event_id = excluded.event_id, session_id = excluded.session_id, model_id = excluded.model_id,
  estimated_weight_kg = excluded.estimated_weight_kg, confidence = excluded.confidence,
  quality_flags = excluded.quality_flags, inference_ms = excluded.inference_ms,
  completed_at = excluded.completed_at, trace_id = excluded.trace_id
WHERE excluded.completed_at > r.completed_at`;

/** Keeps one event per key (a multi-row upsert may not touch a row twice), the one `better` prefers. */
function onePerKey<E>(events: E[], key: (e: E) => string, better: (a: E, b: E) => boolean): E[] {
  const kept = new Map<string, E>();
  for (const e of events) {
    const k = key(e);
    const current = kept.get(k);
    if (!current || better(e, current)) kept.set(k, e);
  }
  return [...kept.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

type Rollup = CloudEventOf<'telemetry.aggregated'>;
type Inference = CloudEventOf<'inference.completed'>;

export const analyticsService: ConsumerService = {
  name: 'cloud-analytics-service',
  writers: {
    async 'telemetry.aggregated'(client, events) {
      const rows = onePerKey<Rollup>(
        events,
        (e) =>
          [
            e.tenant_id.toLowerCase(),
            e.payload.farm_id,
            e.payload.barn_id,
            e.device_id,
            e.payload.metric,
            e.payload.window,
            Date.parse(e.payload.window_start),
          ].join('|'),
        (a, b) => a.payload.revision > b.payload.revision,
      );
      await client.query(rollupSql, [
        rows.map((e) => e.tenant_id),
        rows.map((e) => e.payload.farm_id),
        rows.map((e) => e.payload.barn_id),
        rows.map((e) => e.device_id),
        rows.map((e) => e.payload.metric),
        rows.map((e) => e.payload.window),
        rows.map((e) => e.payload.window_start),
        rows.map((e) => e.payload.unit),
        rows.map((e) => e.payload.count),
        rows.map((e) => e.payload.mean),
        rows.map((e) => e.payload.min),
        rows.map((e) => e.payload.max),
        rows.map((e) => e.payload.revision),
        rows.map((e) => e.event_id),
      ]);
    },

    async 'inference.completed'(client, events) {
      const rows = onePerKey<Inference>(
        events,
        (e) => `${e.tenant_id.toLowerCase()}|${e.payload.media_id.toLowerCase()}`,
        (a, b) => Date.parse(a.ts) > Date.parse(b.ts),
      );
      const sessions = rows.map((e) => ({ tenantId: e.tenant_id, sessionId: e.payload.session_id }));
      await lockSessions(client, sessions);
      await client.query(inferenceSql, [
        rows.map((e) => e.tenant_id),
        rows.map((e) => e.payload.media_id),
        rows.map((e) => e.event_id),
        rows.map((e) => e.payload.session_id),
        rows.map((e) => e.payload.model_id),
        rows.map((e) => e.payload.estimated_weight_kg),
        rows.map((e) => e.payload.confidence),
        rows.map((e) => JSON.stringify(e.payload.quality_flags)),
        rows.map((e) => e.payload.inference_ms),
        rows.map((e) => e.ts),
        rows.map((e) => e.trace_id),
      ]);
      await refreshSessionSummaries(client, sessions);
    },

    async 'weighvision.session.finalized'(client, events, { log }) {
      // The session row itself is the telemetry service's; here the finalized session's vision
      // estimate is brought up to date with every image result received so far.
      const sessions = events.map((e) => ({ tenantId: e.tenant_id, sessionId: sessionPlace(e).sessionId }));
      await lockSessions(client, sessions);
      await refreshSessionSummaries(client, sessions);
      for (const e of events) log.debug({ tenantId: e.tenant_id, sessionId: e.session_id, traceId: e.trace_id }, 'session finalized');
    },
  },
};
