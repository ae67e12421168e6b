/**
 * The only module that writes ingestion_outbox (DESIGN §4, docs/cloud-ingestion.md §2): batch
 * ingestion stores fresh events through it, the relay claims, marks, fails and prunes rows through
 * it. Because a dedupe row must never exist without its outbox row, the store is one statement that
 * writes ingestion_dedupe too, so this is also the only writer of ingestion_dedupe.
 *
 * Every function runs on the connection it is given (a pool, or the client of the caller's
 * transaction): which statements share a transaction is the caller's decision.
 */
import type { Queryable } from '../../db/transaction';

/** One fresh event as the outbox stores it: the envelope as JSON text, the routing key resolved. */
export interface OutboxEvent {
  tenantId: string;
  eventId: string;
  eventType: string;
  routingKey: string;
  envelope: string;
  traceId: string;
}

/** An unpublished row as the relay claims it. */
export interface OutboxRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string | null;
  routing_key: string;
  envelope: string;
  trace_id: string | null;
  request_id: string | null;
  edge_id: string;
}

// ORDER BY n keeps outbox ids in request order, so the relay publishes a batch in the order sent.
const storeSql = `
WITH incoming AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::text[])
    WITH ORDINALITY AS t(tenant_id, event_id, event_type, routing_key, envelope, trace_id, n)
), deduped AS (
  INSERT INTO ingestion_dedupe (tenant_id, event_id, edge_id, event_type)
  SELECT tenant_id, event_id, $7, event_type FROM incoming
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, event_id
)
INSERT INTO ingestion_outbox (tenant_id, event_id, routing_key, envelope, trace_id, request_id, edge_id)
SELECT i.tenant_id, i.event_id, i.routing_key, i.envelope, i.trace_id, $8, $7
FROM incoming i JOIN deduped d ON d.tenant_id = i.tenant_id AND d.event_id = i.event_id
ORDER BY i.n
ON CONFLICT DO NOTHING
RETURNING tenant_id::text, event_id::text`;

// ORDER BY ingestion_outbox.id, the column: a bare `id` would name the output column `id::text`,
// which sorted the rows as text (id 10 before 9) and, unable to use ingestion_outbox_unpublished,
// read and sorted every unpublished row (envelopes included, spilling to disk) on every round: with
// a backlog of 100,000 rows a round took 300 ms and the relay fell to a third of the ingestion rate
// (bench/sync.ts).
const claimSql = `
SELECT id::text, tenant_id::text, event_id::text, envelope->>'event_type' AS event_type, routing_key,
       envelope::text AS envelope, trace_id, request_id, edge_id
FROM ingestion_outbox
WHERE published_at IS NULL
ORDER BY ingestion_outbox.id
LIMIT $1
FOR UPDATE SKIP LOCKED`;

const markSql = `UPDATE ingestion_outbox SET published_at = now(), attempt_count = attempt_count + 1, last_error = NULL WHERE id = ANY($1::bigint[])`;
const deleteSql = `DELETE FROM ingestion_outbox WHERE id = ANY($1::bigint[])`;
const failSql = `UPDATE ingestion_outbox SET attempt_count = attempt_count + 1, last_error = $2 WHERE id = ANY($1::bigint[])`;
const pruneSql = `
DELETE FROM ingestion_outbox WHERE id IN (
  SELECT id FROM ingestion_outbox
  WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
  ORDER BY published_at
  LIMIT $2)`;

/**
 * Inserts the dedupe rows of a batch's events and, for those not seen before, their outbox rows, in
 * one statement; returns the fresh events' ids.
 */
export async function storeFreshEvents(
  db: Queryable,
  events: readonly OutboxEvent[],
  edgeId: string,
  requestId: string,
): Promise<{ tenant_id: string; event_id: string }[]> {
  const { rows } = await db.query<{ tenant_id: string; event_id: string }>(storeSql, [
    events.map((e) => e.tenantId),
    events.map((e) => e.eventId),
    events.map((e) => e.eventType),
    events.map((e) => e.routingKey),
    events.map((e) => e.envelope),
    events.map((e) => e.traceId),
    edgeId,
    requestId,
  ]);
  return rows;
}

/** Locks up to `limit` of the oldest unpublished rows, skipping rows another round holds. */
export async function claimUnpublished(db: Queryable, limit: number): Promise<OutboxRow[]> {
  return (await db.query<OutboxRow>(claimSql, [limit])).rows;
}

/** The broker confirmed these rows: keep them, marked published, for the retention period. */
export async function markPublished(db: Queryable, ids: readonly string[]): Promise<void> {
  await db.query(markSql, [ids]);
}

/** The broker confirmed these rows and nothing keeps them (retention 0). */
export async function deletePublished(db: Queryable, ids: readonly string[]): Promise<void> {
  await db.query(deleteSql, [ids]);
}

/** Counts a failed attempt on these rows and keeps the error for an operator. */
export async function recordFailure(db: Queryable, ids: readonly string[], error: string): Promise<void> {
  await db.query(failSql, [ids, error]);
}

/** Deletes up to `limit` rows published more than `olderThanSeconds` ago; returns how many. */
export async function pruneOldPublished(db: Queryable, olderThanSeconds: number, limit: number): Promise<number> {
  const r = await db.query(pruneSql, [olderThanSeconds, limit]);
  return r.rowCount ?? 0;
}
