/**
 * The edge directory as an operator changes it (`farmiq edges`): register a farm server
 * with the tenants it may sync for and a fresh Ed25519 key pair (the cloud keeps only the public
 * key), rotate its key, revoke it, list edges and dead letters. These run on the owner pool.
 *
 * A tenant's admin does the same for the tenant's own farm servers through the dashboard API
 * (gateways/http/directory/edges-router.ts, docs/directory.md) with the `tenant…` functions below,
 * on the tenant pool: row-level security (migration 0013) shows a tenant only the edges
 * edge_tenants links to it, and a key is rotated there only for an edge that serves that tenant
 * alone (an edge shared with another tenant is the cloud operator's, `farmiq edges rotate-key`).
 *
 * Ingestion keeps the backlog each edge reports with its batches here too (recordEdgeStatus).
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { ensureTenants } from '../auth/admin';
import { withTenant } from '../auth/tenant-db';
import { sqlState } from '../db/errors';
import { inTransaction } from '../db/transaction';
import { newEdgeKeyPair } from '../domain/sync';

export const edgeIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'edge ids are 1-128 characters of A-Z a-z 0-9 . _ : -');
const tenantIdSchema = z.uuid();

export interface ProvisionedEdge {
  edgeId: string;
  keyId: string;
  /** PKCS#8 PEM: give it to the farm server, never store it in the cloud. */
  privateKeyPem: string;
  tenants: string[];
}

export async function provisionEdge(pool: Pool, input: { edgeId: string; tenants: string[]; name?: string }): Promise<ProvisionedEdge> {
  const edgeId = edgeIdSchema.parse(input.edgeId);
  if (input.tenants.length === 0) throw new Error('an edge needs at least one tenant');
  const tenants = [...new Set(input.tenants.map((t) => tenantIdSchema.parse(t.toLowerCase())))];
  const key = newEdgeKeyPair();
  await inTransaction(pool, async (client) => {
    await ensureTenants(client, tenants);
    const inserted = await client.query(`INSERT INTO edges (edge_id, name, key_id, public_key) VALUES ($1, $2, $3, $4) ON CONFLICT (edge_id) DO NOTHING`, [
      edgeId,
      input.name ?? null,
      key.keyId,
      key.publicKeyPem,
    ]);
    if (inserted.rowCount === 0) throw new Error(`edge ${edgeId} already exists (rotate its key with "edge rotate-key")`);
    await client.query(`INSERT INTO edge_tenants (edge_id, tenant_id) SELECT $1, t FROM unnest($2::uuid[]) AS t`, [edgeId, tenants]);
  });
  return { edgeId, keyId: key.keyId, privateKeyPem: key.privateKeyPem, tenants };
}

/** A new key pair for an existing edge; the old key stops working at once. Also un-revokes. */
export async function rotateEdgeKey(pool: Pool, edgeId: string): Promise<{ keyId: string; privateKeyPem: string }> {
  const key = newEdgeKeyPair();
  const r = await pool.query(`UPDATE edges SET key_id = $2, public_key = $3, revoked_at = NULL WHERE edge_id = $1`, [edgeId, key.keyId, key.publicKeyPem]);
  if (r.rowCount === 0) throw new Error(`no edge ${edgeId}`);
  return { keyId: key.keyId, privateKeyPem: key.privateKeyPem };
}

/** Refuses the edge's requests from now on (401 unknown_edge); its rows stay. */
export async function revokeEdge(pool: Pool, edgeId: string): Promise<boolean> {
  const r = await pool.query(`UPDATE edges SET revoked_at = now() WHERE edge_id = $1 AND revoked_at IS NULL`, [edgeId]);
  return (r.rowCount ?? 0) > 0;
}

export interface EdgeListing {
  edge_id: string;
  name: string | null;
  key_id: string;
  tenants: string[];
  created_at: Date;
  revoked_at: Date | null;
}

export async function listEdges(pool: Pool): Promise<EdgeListing[]> {
  const { rows } = await pool.query<EdgeListing>(
    `SELECT e.edge_id, e.name, e.key_id, e.created_at, e.revoked_at,
            coalesce(array_agg(t.tenant_id::text ORDER BY t.tenant_id) FILTER (WHERE t.tenant_id IS NOT NULL), '{}') AS tenants
     FROM edges e LEFT JOIN edge_tenants t ON t.edge_id = e.edge_id
     GROUP BY e.edge_id ORDER BY e.edge_id`,
  );
  return rows;
}

export interface DeadLetterListing {
  id: string;
  received_at: Date;
  queue: string;
  routing_key: string | null;
  tenant_id: string | null;
  event_id: string | null;
  reason: string;
  delivery_count: number;
  trace_id: string | null;
  replayed_at: Date | null;
}

export async function listDeadLetters(pool: Pool, opts: { limit: number; queue?: string }): Promise<DeadLetterListing[]> {
  const { rows } = await pool.query<DeadLetterListing>(
    `SELECT id::text, received_at, queue, routing_key, tenant_id::text, event_id::text, reason, delivery_count, trace_id, replayed_at
     FROM dead_letters WHERE ($2::text IS NULL OR queue = $2)
     ORDER BY dead_letters.id DESC LIMIT $1`,
    [opts.limit, opts.queue ?? null],
  );
  return rows;
}

/** Lets an existing edge sync for one more tenant (the demo's, on a farm server already registered). */
export async function addEdgeTenant(pool: Pool, edgeId: string, tenantId: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await ensureTenants(client, [tenantId]);
    await client.query('INSERT INTO edge_tenants (edge_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [edgeId, tenantId]);
  });
}

/** Whether the edge is registered (revoked or not). */
export async function edgeExists(pool: Pool, edgeId: string): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM edges WHERE edge_id = $1', [edgeId]);
  return r.rowCount === 1;
}

/**
 * Keeps the backlog an edge reported with a batch (ingestion calls it once the signature checked
 * out), unless a newer report is already stored: batches may arrive out of order, so the batch's
 * signed request time decides. That time has whole seconds, and an edge sends several batches a
 * second while it drains: within the same second the one that arrives last wins. Whether it was
 * stored.
 */
export async function recordEdgeStatus(
  pool: Pool,
  edgeId: string,
  report: { pendingEvents: number; oldestPendingAt: Date | null; reportedAt: Date },
): Promise<boolean> {
  const r = await pool.query(
    `UPDATE edges SET reported_backlog = $2, reported_oldest_pending_at = $3, reported_at = $4
     WHERE edge_id = $1 AND (reported_at IS NULL OR reported_at <= $4)`,
    [edgeId, report.pendingEvents, report.oldestPendingAt, report.reportedAt],
  );
  return r.rowCount === 1;
}

// ── A tenant's own farm servers (the dashboard API), on the tenant pool ─────────────────────────

/** Why a tenant's edge change was refused. */
export class EdgeRefusal extends Error {
  constructor(
    readonly code: 'edge_exists' | 'unknown_edge' | 'edge_shared' | 'edge_revoked',
    message: string,
  ) {
    super(message);
  }
}

export const edgeNameSchema = z.string().trim().min(1).max(200);

/**
 * How an edge is doing, from its last batch: `ok` within `okWithinSeconds`, `late` within
 * `lateWithinSeconds`, `silent` beyond, `never` without one; `revoked` whatever it sent.
 */
export const edgeStatuses = ['ok', 'late', 'silent', 'never', 'revoked'] as const;
export type EdgeStatus = (typeof edgeStatuses)[number];
export const edgeStatusThresholds = { okWithinSeconds: 5 * 60, lateWithinSeconds: 60 * 60 } as const;

export interface TenantEdge {
  edgeId: string;
  name: string | null;
  keyId: string;
  createdAt: Date;
  revokedAt: Date | null;
  /** When the newest event this edge brought the tenant arrived (ingestion_dedupe.received_at). */
  lastBatchAt: Date | null;
  status: EdgeStatus;
  /** The backlog the edge reported with its newest batch that carried one; null before any. */
  backlog: EdgeBacklog | null;
}

export interface EdgeBacklog {
  pendingEvents: number;
  oldestPendingAt: Date | null;
  /** The signed request time of the batch that brought the report. */
  reportedAt: Date;
}

interface TenantEdgeRow {
  edge_id: string;
  name: string | null;
  key_id: string;
  created_at: Date;
  revoked_at: Date | null;
  last_batch_at: Date | null;
  status: EdgeStatus;
  reported_backlog: number | null;
  reported_oldest_pending_at: Date | null;
  reported_at: Date | null;
}

// The last batch is the newest event the edge brought this tenant: ingestion_dedupe keeps one row
// per accepted event (never pruned, unlike the outbox and the nonces), with the edge and the time;
// its index (tenant_id, edge_id, received_at) of migration 0013 makes max() one index probe. A
// batch of only duplicates adds no row (it is a retry of one that did). The explicit tenant
// conditions say what row-level security enforces anyway.
const tenantEdgesSql = `
SELECT edge_id, name, key_id, created_at, revoked_at, last_batch_at, reported_backlog, reported_oldest_pending_at, reported_at,
       CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
            WHEN last_batch_at IS NULL THEN 'never'
            WHEN last_batch_at > now() - make_interval(secs => $3) THEN 'ok'
            WHEN last_batch_at > now() - make_interval(secs => $4) THEN 'late'
            ELSE 'silent' END AS status
FROM (
  SELECT e.edge_id, e.name, e.key_id, e.created_at, e.revoked_at, e.reported_backlog, e.reported_oldest_pending_at, e.reported_at,
         (SELECT max(d.received_at) FROM ingestion_dedupe d WHERE d.tenant_id = t.tenant_id AND d.edge_id = e.edge_id) AS last_batch_at
  FROM edge_tenants t JOIN edges e ON e.edge_id = t.edge_id
  WHERE t.tenant_id = $1 AND ($2::text IS NULL OR e.edge_id = $2)
) AS linked
ORDER BY edge_id`;

const toTenantEdge = (r: TenantEdgeRow): TenantEdge => ({
  edgeId: r.edge_id,
  name: r.name,
  keyId: r.key_id,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastBatchAt: r.last_batch_at,
  status: r.status,
  backlog:
    r.reported_at === null || r.reported_backlog === null
      ? null
      : { pendingEvents: r.reported_backlog, oldestPendingAt: r.reported_oldest_pending_at, reportedAt: r.reported_at },
});

async function tenantEdgeRows(client: { query: Pool['query'] }, tenantId: string, edgeId: string | null): Promise<TenantEdge[]> {
  const { rows } = await client.query<TenantEdgeRow>(tenantEdgesSql, [
    tenantId,
    edgeId,
    edgeStatusThresholds.okWithinSeconds,
    edgeStatusThresholds.lateWithinSeconds,
  ]);
  return rows.map(toTenantEdge);
}

/** The farm servers that sync for the tenant, with their last batch and status. */
export async function listTenantEdges(pool: Pool, tenantId: string): Promise<TenantEdge[]> {
  return withTenant(pool, tenantId, (client) => tenantEdgeRows(client, tenantId, null));
}

/** One of the tenant's edges (unknown_edge when it does not sync for the tenant). */
export async function getTenantEdge(pool: Pool, tenantId: string, edgeId: string): Promise<TenantEdge> {
  return withTenant(pool, tenantId, async (client) => {
    const [edge] = await tenantEdgeRows(client, tenantId, edgeId);
    if (!edge) throw new EdgeRefusal('unknown_edge', `no edge ${edgeId} syncs for this tenant`);
    return edge;
  });
}

/**
 * Registers a farm server for the tenant alone, with a fresh key pair: the private key is returned
 * once, the cloud keeps the public key. Edge ids are global, so an id another tenant's edge holds
 * is refused as existing too.
 */
export async function registerTenantEdge(
  pool: Pool,
  tenantId: string,
  input: { edgeId: string; name?: string },
): Promise<{ edge: TenantEdge; privateKeyPem: string }> {
  const edgeId = edgeIdSchema.parse(input.edgeId);
  const name = input.name === undefined ? null : edgeNameSchema.parse(input.name);
  const key = newEdgeKeyPair();
  return withTenant(pool, tenantId, async (client) => {
    // No RETURNING: the row is visible to the tenant only once edge_tenants links it.
    await client
      .query('INSERT INTO edges (edge_id, name, key_id, public_key) VALUES ($1, $2, $3, $4)', [edgeId, name, key.keyId, key.publicKeyPem])
      .catch((err: unknown) => {
        throw sqlState(err) === '23505' ? new EdgeRefusal('edge_exists', `an edge ${edgeId} is already registered`) : err;
      });
    await client.query('INSERT INTO edge_tenants (edge_id, tenant_id) VALUES ($1, $2)', [edgeId, tenantId]);
    const [edge] = await tenantEdgeRows(client, tenantId, edgeId);
    return { edge, privateKeyPem: key.privateKeyPem };
  });
}

/**
 * A new key pair for one of the tenant's edges; the old key stops working at once. Refused for an
 * edge that also serves another tenant (edge_shared: rotating it would stop that tenant's sync too)
 * and for a revoked edge (edge_revoked: the cloud operator revoked it; `farmiq edges rotate-key`
 * lifts that), both 409 in the API.
 */
export async function rotateTenantEdgeKey(pool: Pool, tenantId: string, edgeId: string): Promise<{ keyId: string; privateKeyPem: string }> {
  const key = newEdgeKeyPair();
  return withTenant(pool, tenantId, async (client) => {
    const held = await client.query<{ revoked: boolean; alone: boolean }>(
      `SELECT e.revoked_at IS NOT NULL AS revoked, edge_serves_only_current_tenant(e.edge_id) AS alone
       FROM edges e JOIN edge_tenants t ON t.edge_id = e.edge_id AND t.tenant_id = $2
       WHERE e.edge_id = $1`,
      [edgeId, tenantId],
    );
    const edge = held.rows[0];
    if (!edge) throw new EdgeRefusal('unknown_edge', `no edge ${edgeId} syncs for this tenant`);
    if (!edge.alone) throw new EdgeRefusal('edge_shared', `edge ${edgeId} also syncs for another tenant; the cloud operator rotates its key`);
    if (edge.revoked) throw new EdgeRefusal('edge_revoked', `edge ${edgeId} has been revoked; the cloud operator may lift that`);
    // The update policy (migration 0013) checks the same again, so a link added meanwhile finds no row.
    const r = await client.query('UPDATE edges SET key_id = $2, public_key = $3 WHERE edge_id = $1 AND revoked_at IS NULL', [
      edgeId,
      key.keyId,
      key.publicKeyPem,
    ]);
    if (r.rowCount !== 1) throw new EdgeRefusal('edge_shared', `edge ${edgeId} changed meanwhile; try again`);
    return { keyId: key.keyId, privateKeyPem: key.privateKeyPem };
  });
}
