/**
 * The cloud's command queue (cloud/downlink/command-queue.ts) on the real cloud test database, on
 * the tenant pool under row-level security: seqs per edge in order, dedupe keys, payloads checked
 * at enqueue, and a command for an edge that does not serve the tenant impossible — refused by the
 * code (DownlinkError edge_not_serving_tenant) and by the database policy when the code is skipped.
 */
import { withTenant } from '../../auth/tenant-db';
import { sqlState } from '../../db/errors';
import { DownlinkError, enqueueCommand, listEdgeCommands, pullCommands, recordOutcomes } from '../../cloud/downlink/command-queue';
import { revokeEdge } from '../../cloud/edges';
import { newEdge } from '../cloud/support';
import { enqueue, openPools, provisionPayload, tenantWithEdge, type Pools } from './support';

let pools: Pools;

beforeAll(() => {
  pools = openPools('farmiq-test-downlink-queue');
});
afterAll(async () => {
  await pools.end();
});

test('an edge’s commands are numbered 1, 2, 3 in enqueue order and listed newest first as pending', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Queue');
  const seqs = [];
  for (const id of ['a', 'b', 'c'])
    seqs.push((await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: provisionPayload(id) })).seq);
  expect(seqs).toEqual([1, 2, 3]);
  const listed = await listEdgeCommands(pools.tenant, tenant.id, edge.edgeId, { limit: 10 });
  expect(listed?.map((c) => [c.seq, c.status, (c.payload as { device_id: string }).device_id, c.createdBy])).toEqual([
    [3, 'pending', 'c', 'test@example.com'],
    [2, 'pending', 'b', 'test@example.com'],
    [1, 'pending', 'a', 'test@example.com'],
  ]);
});

test('seqs count every tenant of a shared edge; each tenant sees only its own commands', async () => {
  const { tenant: a } = await tenantWithEdge(pools, 'SharedA');
  const { tenant: b } = await tenantWithEdge(pools, 'SharedB');
  const shared = await newEdge(pools.owner, [a.id, b.id]);
  const first = await enqueue(pools, { tenantId: a.id, edgeId: shared.edgeId, type: 'device.revoke', payload: { device_id: 'x' } });
  const second = await enqueue(pools, { tenantId: b.id, edgeId: shared.edgeId, type: 'device.revoke', payload: { device_id: 'y' } });
  expect([first.seq, second.seq]).toEqual([1, 2]);
  expect((await listEdgeCommands(pools.tenant, a.id, shared.edgeId, { limit: 10 }))?.map((c) => c.seq)).toEqual([1]);
  expect((await listEdgeCommands(pools.tenant, b.id, shared.edgeId, { limit: 10 }))?.map((c) => c.seq)).toEqual([2]);
  // The edge pulls both, in seq order, each with its tenant.
  const pulled = await pullCommands(pools.owner, { edgeId: shared.edgeId, tenants: new Set([a.id, b.id]) }, 0);
  expect(pulled.map((c) => [c.seq, c.tenant_id])).toEqual([
    [1, a.id],
    [2, b.id],
  ]);
});

test('the same dedupe key returns the command already queued', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Dedupe');
  const input = { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.revoke' as const, payload: { device_id: 'd' }, dedupeKey: 'revoke-d' };
  const first = await enqueue(pools, input);
  const again = await enqueue(pools, input);
  expect(again).toEqual({ commandId: first.commandId, seq: first.seq, duplicate: true });
  expect(first.duplicate).toBe(false);
});

test('a malformed payload or an unknown type is refused at enqueue with a stable code, and nothing is queued', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Payload');
  const bad = enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: { device_id: 'has space' } });
  await expect(bad).rejects.toMatchObject({ code: 'invalid_payload' });
  const unknown = enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'barn.explode' as never, payload: {} });
  await expect(unknown).rejects.toMatchObject({ code: 'unknown_command_type' });
  expect(await listEdgeCommands(pools.tenant, tenant.id, edge.edgeId, { limit: 10 })).toEqual([]);
});

describe('cross-tenant', () => {
  test('enqueueing for an edge that does not serve the tenant is DownlinkError edge_not_serving_tenant', async () => {
    const { edge: theirs } = await tenantWithEdge(pools, 'Victim');
    const { tenant: mine } = await tenantWithEdge(pools, 'Intruder');
    const attempt = enqueue(pools, { tenantId: mine.id, edgeId: theirs.edgeId, type: 'device.revoke', payload: { device_id: 'x' } });
    await expect(attempt).rejects.toBeInstanceOf(DownlinkError);
    await expect(attempt).rejects.toMatchObject({ code: 'edge_not_serving_tenant' });
    // Neither tenant's view has it; the edge's queue is empty.
    expect(await pullCommands(pools.owner, { edgeId: theirs.edgeId, tenants: new Set(theirs.tenants) }, 0)).toEqual([]);
  });

  test('under row-level security another tenant can neither insert a command for the edge nor see its commands', async () => {
    const { tenant: victim, edge } = await tenantWithEdge(pools, 'RlsVictim');
    const { tenant: other } = await tenantWithEdge(pools, 'RlsOther');
    await enqueue(pools, { tenantId: victim.id, edgeId: edge.edgeId, type: 'device.revoke', payload: { device_id: 'v' } });

    // Skipping the code's check: a raw insert as the other tenant, for the victim's edge.
    const raw = withTenant(pools.tenant, other.id, (c) =>
      c.query(`INSERT INTO edge_commands (tenant_id, edge_id, seq, type, payload, created_by) VALUES ($1, $2, 99, 'device.revoke', '{"device_id":"v"}', 'x')`, [
        other.id,
        edge.edgeId,
      ]),
    );
    expect(
      sqlState(
        await raw.then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    ).toBe('42501');
    // …nor in the victim's name.
    const forged = withTenant(pools.tenant, other.id, (c) =>
      c.query(`INSERT INTO edge_commands (tenant_id, edge_id, seq, type, payload, created_by) VALUES ($1, $2, 99, 'device.revoke', '{"device_id":"v"}', 'x')`, [
        victim.id,
        edge.edgeId,
      ]),
    );
    expect(
      sqlState(
        await forged.then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    ).toBe('42501');
    // The seq function says nothing either.
    const seq = await withTenant(pools.tenant, other.id, (c) => c.query<{ seq: string | null }>('SELECT next_edge_command_seq($1) AS seq', [edge.edgeId]));
    expect(seq.rows[0].seq).toBeNull();

    const seen = await withTenant(pools.tenant, other.id, (c) => c.query('SELECT 1 FROM edge_commands WHERE edge_id = $1', [edge.edgeId]));
    expect(seen.rowCount).toBe(0);
    expect(await listEdgeCommands(pools.tenant, other.id, edge.edgeId, { limit: 10 })).toBeNull();
    expect(await listEdgeCommands(pools.tenant, victim.id, edge.edgeId, { limit: 10 })).toHaveLength(1);
  });

  test('a revoked edge takes no new commands', async () => {
    const { tenant, edge } = await tenantWithEdge(pools, 'Revoked');
    await revokeEdge(pools.owner, edge.edgeId);
    await expect(enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.revoke', payload: { device_id: 'x' } })).rejects.toMatchObject({
      code: 'edge_not_serving_tenant',
    });
  });

  test('an outcome counts only for the edge’s own command', async () => {
    const { tenant, edge } = await tenantWithEdge(pools, 'Outcome');
    const { edge: other } = await tenantWithEdge(pools, 'OutcomeOther');
    const queued = await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.revoke', payload: { device_id: 'x' } });
    const outcome = { command_id: queued.commandId, status: 'applied' as const, result: 'revoked', applied_at: new Date().toISOString() };
    expect(await recordOutcomes(pools.owner, other.edgeId, [outcome])).toBe(0);
    expect(await recordOutcomes(pools.owner, edge.edgeId, [outcome, outcome])).toBe(1);
    expect(await recordOutcomes(pools.owner, edge.edgeId, [{ ...outcome, status: 'refused', result: 'late' }])).toBe(0);
    const [listed] = (await listEdgeCommands(pools.tenant, tenant.id, edge.edgeId, { limit: 10 })) ?? [];
    expect([listed.status, listed.result]).toEqual(['applied', 'revoked']);
  });
});

test('enqueueCommand refuses a malformed tenant or edge id before touching the database', async () => {
  const { tenant } = await tenantWithEdge(pools, 'Ids');
  await expect(
    withTenant(pools.tenant, tenant.id, (c) =>
      enqueueCommand(c, { tenantId: tenant.id, edgeId: 'bad edge', type: 'device.revoke', payload: { device_id: 'x' }, createdBy: 't' }),
    ),
  ).rejects.toMatchObject({ code: 'invalid_input' });
});
