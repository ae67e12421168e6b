/**
 * The edge directory as an operator changes it (`farmiq edges`): register a farm server
 * with the tenants it may sync for and a fresh Ed25519 key pair (the cloud keeps only the public
 * key), rotate its key, revoke it, list edges and dead letters.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { ensureTenants } from '../auth/admin';
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
