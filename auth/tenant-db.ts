/**
 * Tenant-scoped database access for the dashboard APIs. Every query runs in a transaction that
 * first sets `farmiq.tenant_id`; the row-level security policies of migration 0006 show and accept
 * only that tenant's rows. The pool connects as farmiq_app (CLOUD_APP_DATABASE_URL), a role that
 * cannot bypass RLS, so a forgotten `WHERE tenant_id = …` returns nothing foreign rather than leak.
 *
 * The table owner (farmiq, CLOUD_DATABASE_URL) is not subject to these policies: ingestion
 * consumers, migrations and the admin CLI use it, never a request handler.
 */
import type { Pool, PoolClient } from 'pg';
import { isUuid } from '../domain/contracts/identifiers';
import { createPool, type PoolOptions } from '../db/pool';
import { inTransaction } from '../db/transaction';

/** The tenant setting the RLS policies read (current_setting('farmiq.tenant_id', true)). */
export const tenantSetting = 'farmiq.tenant_id';

/** Runs `fn` in a transaction scoped to `tenantId`; commits on success, rolls back on a throw. */
export async function withTenant<T>(pool: Pool, tenantId: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  // A malformed id would make the policies' ::uuid cast fail every query; refuse it up front.
  if (!isUuid(tenantId)) throw new Error(`withTenant needs a tenant uuid, got ${JSON.stringify(tenantId)}`);
  // A transaction-local setting: it ends with the transaction, so a pooled connection never
  // carries one request's tenant into the next.
  return inTransaction(pool, fn, { settings: { [tenantSetting]: tenantId } });
}

/** A pool on CLOUD_APP_DATABASE_URL (farmiq_app): the only pool request handlers touch tenant data with. */
export function createTenantPool(opts: PoolOptions & { url: string }): Pool {
  const { url, ...rest } = opts;
  return createPool(url, { applicationName: 'farmiq-cloud-api', ...rest });
}
