/**
 * How one of the tenant's farm servers is syncing, from what cloud ingestion records: the edge's
 * last batch and status (cloud/edges.ts, the directory's own rule), the events it brought the
 * tenant per minute over the last 15 minutes and its batches of the last hour (ingestion_dedupe:
 * one row per accepted event, its received_at the insert's transaction time, so one batch's fresh
 * events share it — a batch of only duplicates adds nothing), and the newest dead letter of an
 * event it brought (dead_letters joined to ingestion_dedupe by tenant and event).
 *
 * The edge's own backlog is what it reported with its newest batch that carried one (edge_status
 * in the batch, kept on the edge by cloud/edges.ts recordEdgeStatus); null for an edge that never
 * reported one (an older farm server). It is the farm server's whole backlog, all its tenants'.
 *
 * Not recorded anywhere, so not shown: requests ingestion refused as a whole (bad signature,
 * schema) and single events it rejected — those are only logged and counted (cloud/metrics.ts).
 *
 * The edge and its events are read on the tenant pool under row-level security (migration 0013).
 * dead_letters has no grant for the tenant role: the last error alone is read on the owner pool,
 * with the tenant spelled out.
 */
import type { Pool } from 'pg';
import { withTenant } from '../../auth/tenant-db';
import { EdgeRefusal, getTenantEdge, type EdgeBacklog, type EdgeStatus } from '../../cloud/edges';
import { round } from '../../insights/kpis/stats';
import { FarmDataNotFound } from './read-scope';

export const eventRateMinutes = 15;

export interface EdgeHealth {
  edgeId: string;
  status: EdgeStatus;
  lastBatchAt: Date | null;
  eventsPerMinute: number;
  batchesLastHour: number;
  lastError: { at: Date; code: string; message: string } | null;
  backlog: EdgeBacklog | null;
}

// The hour is the longer window; the 15 minutes are a slice of it.
const activitySql = `
SELECT count(*) FILTER (WHERE received_at > $3::timestamptz - make_interval(mins => $4))::int AS events,
       count(DISTINCT received_at)::int AS batches
FROM ingestion_dedupe
WHERE tenant_id = $1 AND edge_id = $2 AND received_at > $3::timestamptz - interval '1 hour' AND received_at <= $3`;

const lastErrorSql = `
SELECT d.received_at AS at, d.reason
FROM dead_letters d
JOIN ingestion_dedupe i ON i.tenant_id = d.tenant_id AND i.event_id = d.event_id
WHERE d.tenant_id = $1 AND i.edge_id = $2
ORDER BY d.received_at DESC, d.id DESC
LIMIT 1`;

export async function readEdgeHealth(pools: { tenantPool: Pool; ownerPool: Pool }, tenantId: string, edgeId: string, now: Date): Promise<EdgeHealth> {
  const edge = await getTenantEdge(pools.tenantPool, tenantId, edgeId).catch((err: unknown) => {
    throw err instanceof EdgeRefusal && err.code === 'unknown_edge' ? new FarmDataNotFound(`edge ${edgeId}`) : err;
  });
  const activity = await withTenant(pools.tenantPool, tenantId, async (c) => {
    await c.query('SET TRANSACTION READ ONLY');
    return (await c.query<{ events: number; batches: number }>(activitySql, [tenantId, edgeId, now, eventRateMinutes])).rows[0];
  });
  // Only after the edge was found to be the tenant's: the owner pool answers for any edge.
  const failed = (await pools.ownerPool.query<{ at: Date; reason: string }>(lastErrorSql, [tenantId, edgeId])).rows[0];
  return {
    edgeId: edge.edgeId,
    status: edge.status,
    lastBatchAt: edge.lastBatchAt,
    eventsPerMinute: round(activity.events / eventRateMinutes, 2),
    batchesLastHour: activity.batches,
    // The code is the reason's first word, as the consumers count it (consumerMetrics.deadLetters).
    lastError: failed ? { at: failed.at, code: failed.reason.split(/[:\s]/)[0], message: failed.reason } : null,
    backlog: edge.backlog,
  };
}
