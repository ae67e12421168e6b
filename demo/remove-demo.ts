/**
 * Removes the demo: every row of the demo tenant in the farm server's and the cloud's databases
 * (found by their tenant_id column, so a table added later is covered too), its devices' broker
 * logins, the farm server's permission to sync for it, and the demo's files under
 * $FARMIQ_HOME/demo. The farm server's own cloud registration stays (it may serve other tenants).
 * A marker keeps `make up` from bringing the demo back until `farmiq demo provision` (or
 * FARMIQ_DEMO=1) asks for it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import type { Settings } from '../config/settings';
import { inSavepoint, inTransaction } from '../db/transaction';
import { refreshBrokerAuth } from '../gateways/mqtt-bridge/broker/render';
import { handoverFileFor, simulatorSettings } from '../simulator';
import { demoPaths } from './demo-accounts';

export interface DemoRemoved {
  edgeRows: number;
  cloudRows: number;
}

/** $FARMIQ_HOME/demo-removed: present after a removal, read by scripts/up.sh. */
export const demoRemovedMarker = (farmiqHome: string) => path.join(farmiqHome, 'demo-removed');

async function tenantTables(c: PoolClient): Promise<string[]> {
  const r = await c.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'tenants'
      ORDER BY c.table_name`,
  );
  return r.rows.map((row) => row.table_name);
}

/**
 * Deletes the tenant's rows table by table in one transaction. Foreign keys between the tables
 * decide an order nobody keeps by hand, so a table whose rows are still referenced is retried
 * after the others (each attempt in a savepoint).
 */
async function deleteTenantRows(pool: Pool, tenantId: string, alsoTenantsRow: boolean): Promise<number> {
  return inTransaction(pool, async (c) => {
    let pending = await tenantTables(c);
    let deleted = 0;
    while (pending.length > 0) {
      const blocked: string[] = [];
      for (const table of pending) {
        try {
          deleted += await inSavepoint(
            c,
            async () => (await c.query(`DELETE FROM ${c.escapeIdentifier(table)} WHERE tenant_id = $1`, [tenantId])).rowCount ?? 0,
          );
        } catch (err) {
          if ((err as { code?: string }).code !== '23503') throw err;
          blocked.push(table);
        }
      }
      if (blocked.length === pending.length) throw new Error(`cannot delete the demo's rows of ${blocked.join(', ')}: still referenced`);
      pending = blocked;
    }
    if (alsoTenantsRow) deleted += (await c.query('DELETE FROM tenants WHERE id = $1', [tenantId])).rowCount ?? 0;
    return deleted;
  });
}

export async function removeDemo(edge: Pool, cloud: Pool, s: Settings, tenantId: string): Promise<DemoRemoved> {
  const edgeRows = await deleteTenantRows(edge, tenantId, false);
  const cloudRows = await deleteTenantRows(cloud, tenantId, true);
  // The devices are gone from edge_devices: the broker must forget their logins now.
  await refreshBrokerAuth(edge, s);
  fs.rmSync(demoPaths(s.FARMIQ_HOME).dir, { recursive: true, force: true });
  fs.rmSync(simulatorSettings(s).stateFile, { force: true });
  fs.rmSync(handoverFileFor(simulatorSettings(s).stateFile), { force: true });
  fs.writeFileSync(demoRemovedMarker(s.FARMIQ_HOME), `${new Date().toISOString()}\n`);
  return { edgeRows, cloudRows };
}
