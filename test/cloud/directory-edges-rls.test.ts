/**
 * Migration 0013 as the tenant pool (farmiq_app) meets it, below the API: a tenant sees only the
 * edges edge_tenants links to it and only its own links and ingestion rows, may not re-key an edge
 * it shares or that is revoked, and may not revoke, un-revoke or rename an edge at all.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { withTenant } from '../../auth/tenant-db';
import { provisionEdge, revokeEdge } from '../../cloud/edges';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';

let owner: Pool;
let app: Pool;
let a: TestTenant;
let b: TestTenant;
const own = `edge-own-${randomUUID().slice(0, 8)}`;
const shared = `edge-shared-${randomUUID().slice(0, 8)}`;
const theirs = `edge-theirs-${randomUUID().slice(0, 8)}`;
const revoked = `edge-revoked-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  owner = ownerPool();
  app = tenantPool();
  a = await seedTenant(owner, 'Edge RLS A');
  b = await seedTenant(owner, 'Edge RLS B');
  await provisionEdge(owner, { edgeId: own, tenants: [a.id] });
  await provisionEdge(owner, { edgeId: shared, tenants: [a.id, b.id] });
  await provisionEdge(owner, { edgeId: theirs, tenants: [b.id] });
  await provisionEdge(owner, { edgeId: revoked, tenants: [a.id] });
  await revokeEdge(owner, revoked);
  for (const [tenantId, edgeId] of [
    [a.id, own],
    [b.id, shared],
    [b.id, theirs],
  ])
    await owner.query(`INSERT INTO ingestion_dedupe (tenant_id, event_id, edge_id, event_type) VALUES ($1, $2, $3, 'telemetry.reading')`, [
      tenantId,
      randomUUID(),
      edgeId,
    ]);
});

afterAll(async () => {
  await Promise.all([owner.end(), app.end()]);
});

const ours = (rows: { edge_id: string }[]) =>
  rows
    .map((r) => r.edge_id)
    .filter((id) => [own, shared, theirs, revoked].includes(id))
    .sort();

test('a tenant sees the edges linked to it, its own links and its own ingestion rows only', async () => {
  await withTenant(app, a.id, async (client) => {
    expect(ours((await client.query('SELECT edge_id FROM edges')).rows)).toEqual([own, revoked, shared].sort());
    const links = await client.query('SELECT edge_id, tenant_id::text FROM edge_tenants');
    expect(links.rows.every((r: { tenant_id: string }) => r.tenant_id === a.id)).toBe(true);
    expect(ours((await client.query('SELECT edge_id FROM ingestion_dedupe')).rows)).toEqual([own]);
  });
  // Without a tenant, nothing.
  const none = await app.query('SELECT count(*)::int AS n FROM edges');
  expect(none.rows[0].n).toBe(0);
});

test('a tenant re-keys only an edge it alone uses and that is not revoked', async () => {
  const rekey = (edgeId: string) =>
    withTenant(app, a.id, async (client) => (await client.query(`UPDATE edges SET key_id = key_id || 'x' WHERE edge_id = $1`, [edgeId])).rowCount);
  expect(await rekey(own)).toBe(1);
  expect(await rekey(shared)).toBe(0);
  expect(await rekey(theirs)).toBe(0);
  expect(await rekey(revoked)).toBe(0);
});

test('revoking, un-revoking, renaming and linking another tenant are refused', async () => {
  for (const sql of [
    `UPDATE edges SET revoked_at = NULL WHERE edge_id = '${revoked}'`,
    `UPDATE edges SET revoked_at = now() WHERE edge_id = '${own}'`,
    `UPDATE edges SET name = 'x' WHERE edge_id = '${own}'`,
    `DELETE FROM edges WHERE edge_id = '${own}'`,
  ]) {
    await expect(withTenant(app, a.id, (client) => client.query(sql))).rejects.toThrow(/permission denied/);
  }
  await expect(withTenant(app, a.id, (client) => client.query('INSERT INTO edge_tenants (edge_id, tenant_id) VALUES ($1, $2)', [own, b.id]))).rejects.toThrow(
    /row-level security/,
  );
  await expect(
    withTenant(app, a.id, (client) =>
      client.query('INSERT INTO edges (edge_id, key_id, public_key, revoked_at) VALUES ($1, $2, $3, now())', [`x-${randomUUID()}`, randomUUID(), 'pem']),
    ),
  ).rejects.toThrow(/row-level security/);
  const links = await owner.query('SELECT tenant_id::text FROM edge_tenants WHERE edge_id = $1', [own]);
  expect(links.rows).toEqual([{ tenant_id: a.id }]);
});
