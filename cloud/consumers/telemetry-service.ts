/**
 * cloud-telemetry-service (spec §2 step 8, §8.1–8.2): telemetry readings into telemetry_raw and
 * the WeighVision session events into weighvision_sessions / weighvision_weights — including the
 * edge's conclusion of a session (weighvision.session.concluded), which becomes its summary.
 */
import type { ConsumerService } from './event-consumer';
import { lockSessions, recordConclusions, refreshSessionSummaries, sessionPlace, upsertSessions } from './weighvision-sessions';

const telemetrySql = `
INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id,
                           source_value, source_unit)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[],
                     $9::timestamptz[], $10::text[], $11::float8[], $12::text[])
ON CONFLICT DO NOTHING`;

const weightsSql = `
INSERT INTO weighvision_weights (tenant_id, event_id, session_id, weight_kg, stable, occurred_at, trace_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::numeric[], $5::boolean[], $6::timestamptz[], $7::text[])
ON CONFLICT DO NOTHING`;

export const telemetryService: ConsumerService = {
  name: 'cloud-telemetry-service',
  writers: {
    async 'telemetry.reading'(client, events) {
      for (const e of events) {
        if (!e.farm_id || !e.barn_id) throw new Error(`telemetry.reading ${e.event_id} lacks farm_id or barn_id`);
      }
      await client.query(telemetrySql, [
        events.map((e) => e.tenant_id),
        events.map((e) => e.event_id),
        events.map((e) => e.farm_id),
        events.map((e) => e.barn_id),
        events.map((e) => e.device_id),
        events.map((e) => e.payload.metric),
        events.map((e) => e.payload.value),
        events.map((e) => e.payload.unit),
        events.map((e) => e.ts),
        events.map((e) => e.trace_id),
        events.map((e) => e.payload.source_value ?? null),
        events.map((e) => e.payload.source_unit ?? null),
      ]);
    },

    async 'weighvision.session.created'(client, events) {
      const rows = events.map((e) => ({
        tenantId: e.tenant_id,
        ...sessionPlace(e),
        status: 'created' as const,
        batchId: e.payload.batch_id,
        startedAt: e.ts,
        traceId: e.trace_id,
      }));
      await lockSessions(client, rows);
      await upsertSessions(client, rows);
      await refreshSessionSummaries(client, rows);
    },

    async 'weighvision.weight.recorded'(client, events) {
      const rows = events.map((e) => ({ tenantId: e.tenant_id, ...sessionPlace(e), status: 'collecting' as const, traceId: e.trace_id }));
      await lockSessions(client, rows);
      await upsertSessions(client, rows);
      await client.query(weightsSql, [
        events.map((e) => e.tenant_id),
        events.map((e) => e.event_id),
        rows.map((r) => r.sessionId),
        events.map((e) => e.payload.weight_kg),
        events.map((e) => e.payload.stable ?? null),
        events.map((e) => e.ts),
        events.map((e) => e.trace_id),
      ]);
      await refreshSessionSummaries(client, rows);
    },

    async 'weighvision.session.finalized'(client, events) {
      const rows = events.map((e) => ({
        tenantId: e.tenant_id,
        ...sessionPlace(e),
        status: 'finalized' as const,
        finalizedAt: e.ts,
        imageCount: e.payload.image_count,
        traceId: e.trace_id,
      }));
      await lockSessions(client, rows);
      await upsertSessions(client, rows);
      await refreshSessionSummaries(client, rows);
    },

    async 'weighvision.session.concluded'(client, events) {
      const rows = events.map((e) => ({
        tenantId: e.tenant_id,
        ...sessionPlace(e),
        status: e.payload.status,
        batchId: e.payload.batch_id,
        traceId: e.trace_id,
      }));
      await lockSessions(client, rows);
      await upsertSessions(client, rows);
      await recordConclusions(client, events);
    },
  },
};
