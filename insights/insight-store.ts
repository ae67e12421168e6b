/**
 * The insights table (migration 0004) and its fallback notes (0008): store once per request id,
 * read one, list a farm's. Callers pass a client inside `withTenant`, so row-level security
 * applies; the queries name the tenant as well.
 */
import type { PoolClient } from 'pg';
import type { FeatureSummary, MlPredictions } from './feature-summary';
import type { GeneratedInsight, Insight, InsightGenerator, LlmFallback } from './insight-schema';

/** A stored insight as the API returns it. */
export interface InsightRecord {
  id: string;
  tenant_id: string;
  farm_id: string;
  barn_id: string | null;
  window: { from: string; to: string };
  request_id: string;
  workflow_id: string | null;
  generator: InsightGenerator;
  model: string | null;
  /** Why the template writer answered although an LLM was configured; null otherwise. */
  fallback: LlmFallback | null;
  insight: Insight;
  /** The feature summary: the only input the generator saw. */
  summary: FeatureSummary;
  predictions: MlPredictions | null;
  created_by: string | null;
  created_at: string;
}

/** A list entry: enough to show and choose one, without the summary. */
export interface InsightListItem {
  id: string;
  farm_id: string;
  barn_id: string | null;
  window: { from: string; to: string };
  request_id: string;
  generator: InsightGenerator;
  title: string;
  created_at: string;
}

export interface StoreInsightInput {
  tenantId: string;
  farmId: string;
  barnId: string | null;
  window: { from: string; to: string };
  requestId: string;
  workflowId: string;
  userId: string | null;
  summary: FeatureSummary;
  predictions: MlPredictions | null;
  generated: GeneratedInsight;
}

/** Microseconds: created_at is a keyset cursor and must round-trip exactly. */
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** Milliseconds, as the window was given (Date#toISOString). */
const isoMs = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const recordColumns = `
  i.id, i.tenant_id, i.farm_id, i.barn_id, ${isoMs('i.window_start')} AS window_start, ${isoMs('i.window_end')} AS window_end,
  i.request_id, i.workflow_id, i.generator, i.model, i.insight, i.summary, i.predictions, i.created_by,
  ${iso('i.created_at')} AS created_at, f.reason AS fallback_reason, f.detail AS fallback_detail, f.model AS fallback_model`;

const recordFrom = `insights i LEFT JOIN insight_llm_fallbacks f ON f.tenant_id = i.tenant_id AND f.insight_id = i.id`;

interface RecordRow {
  id: string;
  tenant_id: string;
  farm_id: string;
  barn_id: string | null;
  window_start: string;
  window_end: string;
  request_id: string;
  workflow_id: string | null;
  generator: InsightGenerator;
  model: string | null;
  insight: Insight;
  summary: FeatureSummary;
  predictions: MlPredictions | null;
  created_by: string | null;
  created_at: string;
  fallback_reason: LlmFallback['reason'] | null;
  fallback_detail: string | null;
  fallback_model: string | null;
}

function toRecord(r: RecordRow): InsightRecord {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    farm_id: r.farm_id,
    barn_id: r.barn_id,
    window: { from: r.window_start, to: r.window_end },
    request_id: r.request_id,
    workflow_id: r.workflow_id,
    generator: r.generator,
    model: r.model,
    fallback: r.fallback_reason ? { reason: r.fallback_reason, detail: r.fallback_detail, model: r.fallback_model } : null,
    insight: r.insight,
    summary: r.summary,
    predictions: r.predictions,
    created_by: r.created_by,
    created_at: r.created_at,
  };
}

export async function findInsightByRequestId(client: PoolClient, tenantId: string, requestId: string): Promise<InsightRecord | null> {
  const r = await client.query<RecordRow>(`SELECT ${recordColumns} FROM ${recordFrom} WHERE i.tenant_id = $1 AND i.request_id = $2`, [tenantId, requestId]);
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

export async function getInsight(client: PoolClient, tenantId: string, id: string): Promise<InsightRecord | null> {
  const r = await client.query<RecordRow>(`SELECT ${recordColumns} FROM ${recordFrom} WHERE i.tenant_id = $1 AND i.id = $2`, [tenantId, id]);
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

/**
 * Stores the insight of a request once. If the request id is already stored (a workflow retried
 * its store after a crash, or a concurrent run of the same request won), the stored one is
 * returned unchanged: the first insight of a request id is the one.
 */
export async function storeInsight(client: PoolClient, input: StoreInsightInput): Promise<InsightRecord> {
  const { generated } = input;
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO insights (tenant_id, farm_id, barn_id, window_start, window_end, request_id, summary, predictions, insight,
                           generator, model, created_by, workflow_id, trace_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $6)
     ON CONFLICT (tenant_id, request_id) DO NOTHING
     RETURNING id`,
    [
      input.tenantId,
      input.farmId,
      input.barnId,
      input.window.from,
      input.window.to,
      input.requestId,
      JSON.stringify(input.summary),
      input.predictions === null ? null : JSON.stringify(input.predictions),
      JSON.stringify(generated.insight),
      generated.generator,
      generated.model,
      input.userId,
      input.workflowId,
    ],
  );
  const id = inserted.rows[0]?.id;
  if (id && generated.fallback) {
    await client.query(`INSERT INTO insight_llm_fallbacks (tenant_id, insight_id, reason, detail, model) VALUES ($1, $2, $3, $4, $5)`, [
      input.tenantId,
      id,
      generated.fallback.reason,
      generated.fallback.detail,
      generated.fallback.model,
    ]);
  }
  const stored = await findInsightByRequestId(client, input.tenantId, input.requestId);
  if (!stored) throw new Error(`insight of request ${input.requestId} is neither inserted nor found`);
  return stored;
}

export interface ListCursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or null when it is not one this API issued. */
export function decodeCursor(s: string): ListCursor | null {
  const [createdAt, id, ...rest] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(createdAt ?? '') || !/^[0-9a-f-]{36}$/i.test(id ?? '')) return null;
  return { createdAt, id };
}

/** Newest first; keyset pagination on (created_at, id) served by insights_farm_time. */
export async function listInsights(
  client: PoolClient,
  q: { tenantId: string; farmId: string; limit: number; cursor: ListCursor | null },
): Promise<{ items: InsightListItem[]; nextCursor: string | null }> {
  const r = await client.query<{
    id: string;
    farm_id: string;
    barn_id: string | null;
    window_start: string;
    window_end: string;
    request_id: string;
    generator: InsightGenerator;
    title: string;
    created_at: string;
  }>(
    `SELECT i.id, i.farm_id, i.barn_id, ${isoMs('i.window_start')} AS window_start, ${isoMs('i.window_end')} AS window_end,
            i.request_id, i.generator, i.insight->>'title' AS title, ${iso('i.created_at')} AS created_at
     FROM insights i
     WHERE i.tenant_id = $1 AND i.farm_id = $2
       AND ($3::timestamptz IS NULL OR (i.created_at, i.id) < ($3::timestamptz, $4::uuid))
     ORDER BY i.created_at DESC, i.id DESC
     LIMIT $5`,
    [q.tenantId, q.farmId, q.cursor?.createdAt ?? null, q.cursor?.id ?? null, q.limit + 1],
  );
  const rows = r.rows.slice(0, q.limit);
  const items = rows.map((x) => ({
    id: x.id,
    farm_id: x.farm_id,
    barn_id: x.barn_id,
    window: { from: x.window_start, to: x.window_end },
    request_id: x.request_id,
    generator: x.generator,
    title: x.title,
    created_at: x.created_at,
  }));
  const last = rows[rows.length - 1];
  return { items, nextCursor: r.rows.length > q.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null };
}
