/**
 * What an insight request must find in the tenant's directory before a run starts (spec §5): the
 * farm (and barn), the recipient of a notification, and an insight already stored for the request
 * id. Callers pass a client inside `withTenant`, so row-level security applies; the queries name
 * the tenant as well.
 */
import type { PoolClient } from 'pg';
import { findInsightByRequestId, type InsightRecord } from './insight-store';

export async function farmExists(client: PoolClient, tenantId: string, farmId: string, barnId: string | null = null): Promise<boolean> {
  const farm = await client.query(
    `SELECT 1 FROM farms f WHERE f.tenant_id = $1 AND f.farm_id = $2
       AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM barns b WHERE b.tenant_id = f.tenant_id AND b.farm_id = f.farm_id AND b.barn_id = $3))`,
    [tenantId, farmId, barnId],
  );
  return (farm.rowCount ?? 0) > 0;
}

export async function activeUserExists(client: PoolClient, tenantId: string, userId: string): Promise<boolean> {
  const user = await client.query('SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL', [tenantId, userId]);
  return (user.rowCount ?? 0) > 0;
}

export type InsightRequestCheck = { stored: InsightRecord } | { missing: string } | { unknownRecipient: true } | { ready: true };

/**
 * In this order: the insight already stored for the request id; else the farm (and barn) must
 * exist; else a recipient other than the caller must be an active user of the tenant.
 */
export async function checkInsightRequest(
  client: PoolClient,
  req: { tenantId: string; requestId: string; farmId: string; barnId: string | null; callerId: string; recipientId?: string | null },
): Promise<InsightRequestCheck> {
  const stored = await findInsightByRequestId(client, req.tenantId, req.requestId);
  if (stored) return { stored };
  if (!(await farmExists(client, req.tenantId, req.farmId, req.barnId))) {
    return { missing: req.barnId ? `barn ${req.barnId} of farm ${req.farmId}` : `farm ${req.farmId}` };
  }
  if (req.recipientId && req.recipientId !== req.callerId && !(await activeUserExists(client, req.tenantId, req.recipientId))) {
    return { unknownRecipient: true };
  }
  return { ready: true };
}
