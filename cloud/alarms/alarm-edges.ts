/**
 * Which farm server an alarm belongs to, so the dashboard's acknowledgement and rule changes go
 * down to the right edge (cloud/downlink/). The cloud does not link farms to edges in its
 * directory; what it knows is which edge sent each ingested event (ingestion_dedupe.edge_id,
 * written with the batch the edge signed). When that is missing (the event was published without
 * passing ingestion), a tenant served by exactly one edge has that one (cloud/downlink farmEdge).
 */
import type { Queryable } from '../../db/transaction';
import { farmEdge } from '../downlink/command-queue';

/** The edge that sent this event (consumer side, owner connection: the query names the tenant). */
export async function edgeOfEvent(db: Queryable, tenantId: string, eventId: string): Promise<string | null> {
  const { rows } = await db.query<{ edge_id: string }>('SELECT edge_id FROM ingestion_dedupe WHERE tenant_id = $1 AND event_id = $2', [tenantId, eventId]);
  return rows[0]?.edge_id ?? (await farmEdge(db, tenantId));
}

/**
 * The edge serving a farm (dashboard side, under the tenant's row-level security): the one its
 * newest alarm came from, else the tenant's only edge; null when it cannot be told.
 */
export async function edgeOfFarm(db: Queryable, tenantId: string, farmId: string): Promise<string | null> {
  const { rows } = await db.query<{ edge_id: string }>(
    `SELECT edge_id FROM alarms WHERE tenant_id = $1 AND farm_id = $2 AND edge_id IS NOT NULL
      ORDER BY coalesce(raised_at, first_seen_at) DESC LIMIT 1`,
    [tenantId, farmId],
  );
  return rows[0]?.edge_id ?? (await farmEdge(db, tenantId));
}
