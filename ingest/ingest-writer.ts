/**
 * Commits one micro-batch in one transaction: dedupe rows, domain rows, rollups, outbox rows and
 * quarantined rejects. Each family is a single statement over unnest()ed arrays, so a batch of a
 * thousand readings costs a handful of round trips, not thousands (single-row autocommit tops
 * out near 300 rows/s on these machines). The outbox part of each statement comes from
 * sync/outbox.ts (outboxInsert), the one writer of sync_outbox; the rollup part from
 * telemetry-rollup.ts; the rejects are written by ingress-rejects.ts.
 *
 * Two batches may commit at once, so rows that both could lock (dedupe keys of a redelivered
 * event, hot rollup windows) are inserted in key order: concurrent batches then wait for each
 * other instead of deadlocking.
 */
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from '../db/transaction';
import type { RejectReason } from '../domain/contracts/rejects';
import { checkMortality, recordDailyCounts, type MortalityRecord } from '../flocks/flock-store';
import { appendEvents, outboxEvent, outboxInsert, outboxPriority } from '../sync/outbox';
import type { IngestBatch, TelemetryRow, FeedRow, MortalityRow, RejectRow } from './ingest-batch';
import { quarantineRejects } from './ingress-rejects';
import { rollupUpsert } from './telemetry-rollup';

export interface IngestResult {
  telemetryAccepted: number;
  /** The readings that were new (deduplicated) and committed: what the alarm rules judge. */
  acceptedTelemetry: TelemetryRow[];
  feedAccepted: number;
  mortalityAccepted: number;
  /** Mortality counts their flock refused (quarantined in this transaction), by reason. */
  mortalityRefused: RejectReason[];
  duplicates: number;
  rejected: number;
}

// Only readings whose (tenant_id, event_id) was new in ingress_dedupe reach the other tables.
const insertTelemetry = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::float8[], $8::text[], $9::timestamptz[], $10::text[], $11::jsonb[], $12::float8[], $13::text[])
    AS t(tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id, envelope, source_value, source_unit)
),
fresh AS (
  INSERT INTO ingress_dedupe (tenant_id, event_id, event_type)
  SELECT tenant_id, event_id, 'telemetry.reading' FROM input ORDER BY tenant_id, event_id
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, event_id
),
accepted AS (
  SELECT input.* FROM input JOIN fresh USING (tenant_id, event_id)
),
raw AS (
  INSERT INTO telemetry_raw (tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id, source_value, source_unit)
  SELECT tenant_id, event_id, farm_id, barn_id, device_id, metric, value, unit, occurred_at, trace_id, source_value, source_unit FROM accepted
),
outbox AS (
  ${outboxInsert(`SELECT tenant_id, event_id, 'telemetry.reading', envelope, trace_id, occurred_at, ${outboxPriority.normal} FROM accepted`)}
),
rollup AS (
  ${rollupUpsert('accepted')}
)
SELECT tenant_id::text, event_id::text FROM fresh`;

// A dispense is new only if both the ingress dedupe and the feed-intake dedupe say so (spec §4).
const insertFeed = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::numeric[],
                       $8::text[], $9::text[], $10::text[], $11::int[], $12::timestamptz[], $13::text[], $14::jsonb[])
    AS t(tenant_id, source_event_id, intake_event_id, farm_id, barn_id, device_id, quantity_kg,
         feed_type, silo_id, pen_id, animal_count, dispensed_at, trace_id, envelope)
),
fresh AS (
  INSERT INTO ingress_dedupe (tenant_id, event_id, event_type)
  SELECT tenant_id, source_event_id, 'feed.dispensed' FROM input ORDER BY tenant_id, source_event_id
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, event_id AS source_event_id
),
fresh_intake AS (
  INSERT INTO feed_intake_dedupe (tenant_id, source_event_id, intake_event_id)
  SELECT input.tenant_id, input.source_event_id, input.intake_event_id FROM input JOIN fresh USING (tenant_id, source_event_id)
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, source_event_id
),
accepted AS (
  SELECT input.* FROM input JOIN fresh_intake USING (tenant_id, source_event_id)
),
local AS (
  INSERT INTO feed_intake_local (tenant_id, event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg,
                                 feed_type, silo_id, pen_id, animal_count, dispensed_at, trace_id)
  SELECT tenant_id, intake_event_id, source_event_id, farm_id, barn_id, device_id, quantity_kg,
         feed_type, silo_id, pen_id, animal_count, dispensed_at, trace_id FROM accepted
)
${outboxInsert(`SELECT tenant_id, intake_event_id, 'feed.intake.recorded', envelope, trace_id, dispensed_at, ${outboxPriority.feedIntake} FROM accepted`)}
RETURNING 1`;

function telemetryParams(rows: TelemetryRow[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 13 }, () => new Array<unknown>(rows.length));
  rows.forEach(({ event: e, farmId, barnId }, i) => {
    cols[0][i] = e.tenant_id;
    cols[1][i] = e.event_id;
    cols[2][i] = farmId;
    cols[3][i] = barnId;
    cols[4][i] = e.device_id;
    cols[5][i] = e.payload.metric;
    cols[6][i] = e.payload.value;
    cols[7][i] = e.payload.unit;
    cols[8][i] = e.ts;
    cols[9][i] = e.trace_id;
    cols[10][i] = JSON.stringify(e);
    cols[11][i] = e.payload.source_value ?? null;
    cols[12][i] = e.payload.source_unit ?? null;
  });
  return cols;
}

function feedParams(rows: FeedRow[]): unknown[] {
  const cols: unknown[][] = Array.from({ length: 14 }, () => new Array<unknown>(rows.length));
  rows.forEach(({ source, intake }, i) => {
    const p = intake.payload;
    cols[0][i] = source.tenant_id;
    cols[1][i] = source.event_id;
    cols[2][i] = intake.event_id;
    cols[3][i] = p.farm_id;
    cols[4][i] = p.barn_id;
    cols[5][i] = source.device_id;
    cols[6][i] = p.quantity_kg;
    cols[7][i] = p.feed_type;
    cols[8][i] = p.silo_id ?? null;
    cols[9][i] = p.pen_id ?? null;
    cols[10][i] = p.animal_count ?? null;
    cols[11][i] = p.dispensed_at;
    cols[12][i] = source.trace_id;
    cols[13][i] = JSON.stringify(intake);
  });
  return cols;
}

const dedupeMortality = `
INSERT INTO ingress_dedupe (tenant_id, event_id, event_type)
SELECT tenant_id, event_id, 'flock.mortality.recorded' FROM unnest($1::uuid[], $2::uuid[]) AS t(tenant_id, event_id) ORDER BY tenant_id, event_id
ON CONFLICT DO NOTHING
RETURNING tenant_id::text, event_id::text`;

function mortalityRecord({ event: e, farmId, barnId }: MortalityRow): MortalityRecord {
  return {
    tenantId: e.tenant_id.toLowerCase(),
    farmId,
    barnId,
    deviceId: e.device_id,
    eventId: e.event_id.toLowerCase(),
    traceId: e.trace_id,
    recordedAt: e.ts,
    source: 'device',
    payload: e.payload,
  };
}

/**
 * Counts from mortality counters: each is judged against its flock first (refused ones are
 * quarantined with their reason and leave no dedupe row, so a count resent once the flock is placed
 * is taken), then deduped, written to the flock's day and appended to the outbox.
 */
async function writeMortality(client: Queryable, rows: MortalityRow[], timeZone: string | undefined): Promise<{ accepted: number; refused: RejectRow[] }> {
  const records = rows.map(mortalityRecord);
  const verdicts = await checkMortality(client, records, timeZone);
  const refused: RejectRow[] = [];
  const judgedOk: number[] = [];
  verdicts.forEach((v, i) => {
    if (v.ok) judgedOk.push(i);
    else {
      const { event, raw } = rows[i];
      refused.push({ topic: raw.topic, reason: v.reason, detail: v.detail, tenantId: event.tenant_id, deviceId: event.device_id, payload: raw.payload });
    }
  });
  if (judgedOk.length === 0) return { accepted: 0, refused };
  const fresh = await client.query<{ tenant_id: string; event_id: string }>(dedupeMortality, [
    judgedOk.map((i) => records[i].tenantId),
    judgedOk.map((i) => records[i].eventId),
  ]);
  const isFresh = new Set(fresh.rows.map((r) => `${r.tenant_id}/${r.event_id}`));
  const accepted = judgedOk.filter((i) => isFresh.has(`${records[i].tenantId}/${records[i].eventId}`));
  await recordDailyCounts(
    client,
    accepted.map((i) => records[i]),
  );
  await appendEvents(
    client,
    accepted.map((i) => outboxEvent(rows[i].event, outboxPriority.normal)),
  );
  return { accepted: accepted.length, refused };
}

export async function writeIngestBatch(pool: Pool, batch: IngestBatch, farmTimeZone?: string): Promise<IngestResult> {
  return inTransaction(pool, async (client) => {
    let telemetryAccepted = 0;
    let acceptedTelemetry: TelemetryRow[] = [];
    let feedAccepted = 0;
    if (batch.telemetry.length > 0) {
      const r = await client.query<{ tenant_id: string; event_id: string }>(insertTelemetry, telemetryParams(batch.telemetry));
      telemetryAccepted = r.rows.length;
      const fresh = new Set(r.rows.map((x) => `${x.tenant_id}/${x.event_id}`));
      acceptedTelemetry = batch.telemetry.filter((t) => fresh.has(`${t.event.tenant_id.toLowerCase()}/${t.event.event_id.toLowerCase()}`));
    }
    if (batch.feed.length > 0) {
      const r = await client.query(insertFeed, feedParams(batch.feed));
      feedAccepted = r.rowCount ?? 0;
    }
    let mortalityAccepted = 0;
    let refused: RejectRow[] = [];
    if (batch.mortality.length > 0) {
      ({ accepted: mortalityAccepted, refused } = await writeMortality(client, batch.mortality, farmTimeZone));
    }
    const rejects = [...batch.rejects, ...refused];
    if (rejects.length > 0) {
      await quarantineRejects(client, rejects);
    }
    const duplicates =
      batch.inBatchDuplicates +
      (batch.telemetry.length - telemetryAccepted) +
      (batch.feed.length - feedAccepted) +
      (batch.mortality.length - refused.length - mortalityAccepted);
    return {
      telemetryAccepted,
      acceptedTelemetry,
      feedAccepted,
      mortalityAccepted,
      mortalityRefused: refused.map((r) => r.reason),
      duplicates,
      rejected: rejects.length,
    };
  });
}
