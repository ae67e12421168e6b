/**
 * POST /api/v1/edge/commands through a real HTTP server on the cloud test database: hostile pull
 * bodies get stable codes and record nothing; a good pull answers in seq order and records
 * outcomes; a held pull answers as soon as a command is queued; and the dashboard's
 * GET /api/v1/edges/:edgeId/commands, checked against the OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import { edgeCommandsPath, maxPullWaitSeconds } from '../../domain/downlink/commands';
import { loadPrivateKey, newEdgeKeyPair, type EdgeSigner } from '../../domain/sync';
import { createEdgeCommandsApi } from '../../gateways/http/downlink/edge-commands-api';
import { serveApi, type ApiServer } from '../http/api-support';
import { errorOf, postSigned, send } from '../cloud/support';
import { cloudCommands, enqueue, openPools, provisionPayload, startCloud, tenantWithEdge, type CloudServer, type Pools } from './support';

let pools: Pools;
let cloud: CloudServer;
let api: ApiServer;

beforeAll(async () => {
  pools = openPools('farmiq-test-downlink-endpoint');
  cloud = await startCloud(pools.owner, { maxWaiting: 3 });
  api = await serveApi({ routers: [createEdgeCommandsApi({ pool: pools.tenant })] });
});
afterAll(async () => {
  await cloud.close();
  await api.close();
  await pools.end();
});

const pull = (edge: EdgeSigner, body: unknown, opts: Parameters<typeof postSigned>[3] = {}) =>
  postSigned(cloud.base, edge, body, { path: edgeCommandsPath, ...opts });

const pullBody = (edgeId: string, extra: Record<string, unknown> = {}) => ({ edge_id: edgeId, after_seq: 0, wait_seconds: 0, outcomes: [], ...extra });

test('a pull answers the open commands in seq order, records outcomes, and then answers only what still lacks one', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Pull');
  const ids = [];
  for (const d of ['one', 'two', 'three'])
    ids.push((await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: provisionPayload(d) })).commandId);
  const first = await pull(edge, pullBody(edge.edgeId));
  expect(first.status).toBe(200);
  const body = first.body as { commands: { command_id: string; seq: number; tenant_id: string; type: string }[]; outcomes_recorded: number };
  expect(body.commands.map((c) => [c.seq, c.command_id, c.tenant_id, c.type])).toEqual([
    [1, ids[0], tenant.id, 'device.provision'],
    [2, ids[1], tenant.id, 'device.provision'],
    [3, ids[2], tenant.id, 'device.provision'],
  ]);
  expect((await cloudCommands(pools.owner, edge.edgeId)).map((c) => c.delivered)).toEqual([true, true, true]);

  const now = new Date().toISOString();
  const second = await pull(
    edge,
    pullBody(edge.edgeId, {
      after_seq: 0,
      outcomes: [
        { command_id: ids[0], status: 'applied', result: 'provisioned', applied_at: now },
        { command_id: ids[1], status: 'refused', result: 'unknown_device_kind', applied_at: now },
      ],
    }),
  );
  expect(second.status).toBe(200);
  expect((second.body as { outcomes_recorded: number }).outcomes_recorded).toBe(2);
  expect((second.body as { commands: { seq: number }[] }).commands.map((c) => c.seq)).toEqual([3]);
  // after_seq skips what the edge already recorded.
  const third = await pull(edge, pullBody(edge.edgeId, { after_seq: 3 }));
  expect((third.body as { commands: unknown[] }).commands).toEqual([]);

  const listed = await api.call('GET', `/api/v1/edges/${edge.edgeId}/commands`, { token: tenant.operator.token });
  expect(listed.status).toBe(200);
  expect(listed.body.items.map((c: { seq: number; status: string; result: string | null }) => [c.seq, c.status, c.result])).toEqual([
    [3, 'delivered', null],
    [2, 'refused', 'unknown_device_kind'],
    [1, 'applied', 'provisioned'],
  ]);
  const refusedOnly = await api.call('GET', `/api/v1/edges/${edge.edgeId}/commands?status=refused`, { token: tenant.admin.token });
  expect(refusedOnly.body.items.map((c: { seq: number }) => c.seq)).toEqual([2]);
});

test('the dashboard list: a viewer is 403, another tenant’s edge is 404 edge_not_found', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'ListRoles');
  const { tenant: other } = await tenantWithEdge(pools, 'ListOther');
  const viewer = await api.call('GET', `/api/v1/edges/${edge.edgeId}/commands`, { token: tenant.viewer.token });
  expect(viewer.status).toBe(403);
  const foreign = await api.call('GET', `/api/v1/edges/${edge.edgeId}/commands`, { token: other.admin.token });
  expect([foreign.status, foreign.body.error.code]).toEqual([404, 'edge_not_found']);
});

test('a held pull answers as soon as a command is queued for its edge', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'LongPoll');
  const held = pull(edge, pullBody(edge.edgeId, { wait_seconds: maxPullWaitSeconds }));
  // Enqueue once the pull is waiting (the listener is up by then).
  for (let i = 0; i < 200 && cloud.router.waiters.waiting === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(cloud.router.waiters.waiting).toBe(1);
  const queued = await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.revoke', payload: { device_id: 'late' } });
  const answer = await held;
  expect(answer.status).toBe(200);
  expect((answer.body as { commands: { command_id: string }[] }).commands.map((c) => c.command_id)).toEqual([queued.commandId]);
  expect(cloud.router.waiters.waiting).toBe(0);
});

test('a newer pull of the same edge releases the older one: one held pull per edge', async () => {
  const { edge } = await tenantWithEdge(pools, 'Supersede');
  const older = pull(edge, pullBody(edge.edgeId, { wait_seconds: maxPullWaitSeconds }));
  for (let i = 0; i < 200 && cloud.router.waiters.waiting === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const newer = pull(edge, pullBody(edge.edgeId, { wait_seconds: 1 }));
  const released = await older;
  expect([released.status, (released.body as { commands: unknown[] }).commands]).toEqual([200, []]);
  expect((await newer).status).toBe(200);
});

test('held pulls are bounded: past the limit the next is 503 unavailable', async () => {
  const edges = [];
  for (let i = 0; i < 4; i++) edges.push((await tenantWithEdge(pools, `Bound${i}`)).edge);
  const held = edges.slice(0, 3).map((e) => pull(e, pullBody(e.edgeId, { wait_seconds: 3 })));
  for (let i = 0; i < 200 && cloud.router.waiters.waiting < 3; i++) await new Promise((r) => setTimeout(r, 20));
  const refused = await pull(edges[3], pullBody(edges[3].edgeId, { wait_seconds: 3 }));
  expect([refused.status, errorOf(refused).code]).toEqual([503, 'unavailable']);
  expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200, 200]);
});

describe('hostile pulls: a stable code, nothing recorded', () => {
  async function setUp() {
    const { tenant, edge } = await tenantWithEdge(pools, 'Hostile');
    const queued = await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.revoke', payload: { device_id: 'h' } });
    const outcome = { command_id: queued.commandId, status: 'applied', result: 'revoked', applied_at: new Date().toISOString() };
    return { tenant, edge, outcome };
  }

  async function expectUntouched(edgeId: string) {
    expect(await cloudCommands(pools.owner, edgeId)).toEqual([{ seq: 1, outcome: null, result: null, delivered: false, type: 'device.revoke' }]);
  }

  test('no signature, a bad signature, another key, a replayed nonce: 401', async () => {
    const { edge, outcome } = await setUp();
    const body = pullBody(edge.edgeId, { outcomes: [outcome] });
    const unsigned = await send(cloud.base, edgeCommandsPath, {}, JSON.stringify(body));
    expect([unsigned.status, errorOf(unsigned).code]).toEqual([401, 'missing_signature']);
    const tampered = await pull(edge, body, { sendBody: JSON.stringify({ ...body, after_seq: 1 }) });
    expect([tampered.status, errorOf(tampered).code]).toEqual([401, 'bad_signature']);
    const stranger: EdgeSigner = { edgeId: edge.edgeId, keyId: edge.keyId, privateKey: loadPrivateKey(newEdgeKeyPair().privateKeyPem) };
    const forged = await pull(edge, body, { signer: stranger });
    expect([forged.status, errorOf(forged).code]).toEqual([401, 'bad_signature']);
    const unknown = await pull({ ...edge, edgeId: `nobody-${randomUUID().slice(0, 8)}` }, { ...body, edge_id: 'nobody' });
    expect([unknown.status, errorOf(unknown).code]).toEqual([401, 'unknown_edge']);
    const stale = await pull(edge, body, { signedAt: new Date(Date.now() - 3_600_000) });
    expect([stale.status, errorOf(stale).code]).toEqual([401, 'stale_timestamp']);
    const once = await pull(edge, pullBody(edge.edgeId, { after_seq: 5 }));
    expect(once.status).toBe(200);
    const replay = await send(cloud.base, edgeCommandsPath, once.signedHeaders, once.raw);
    expect([replay.status, errorOf(replay).code]).toEqual([401, 'replayed_nonce']);
    await expectUntouched(edge.edgeId);
  });

  test('a body naming another edge: 400 edge_mismatch (its outcomes not recorded)', async () => {
    const { edge, outcome } = await setUp();
    const { edge: other } = await tenantWithEdge(pools, 'HostileOther');
    const r = await pull(other, pullBody(edge.edgeId, { outcomes: [outcome] }));
    expect([r.status, errorOf(r).code]).toEqual([400, 'edge_mismatch']);
    // The other edge, signing for itself, cannot settle this edge's command either.
    const own = await pull(other, pullBody(other.edgeId, { outcomes: [outcome] }));
    expect([own.status, (own.body as { outcomes_recorded: number }).outcomes_recorded]).toEqual([200, 0]);
    await expectUntouched(edge.edgeId);
  });

  test('oversize: 413 payload_too_large', async () => {
    const { edge, outcome } = await setUp();
    const r = await pull(edge, { ...pullBody(edge.edgeId, { outcomes: [outcome] }), padding: 'x'.repeat(1024 * 1024 + 10) });
    expect([r.status, errorOf(r).code]).toEqual([413, 'payload_too_large']);
    await expectUntouched(edge.edgeId);
  });

  test('malformed outcomes and bodies: 400 schema_violation / invalid_json, all or nothing', async () => {
    const { edge, outcome } = await setUp();
    const cases: [unknown, string][] = [
      [pullBody(edge.edgeId, { outcomes: [outcome, { ...outcome, command_id: 'not-a-uuid' }] }), 'schema_violation:outcomes.1.command_id'],
      [pullBody(edge.edgeId, { outcomes: [{ ...outcome, status: 'done' }] }), 'schema_violation:outcomes.0.status'],
      [pullBody(edge.edgeId, { outcomes: [{ ...outcome, result: '' }] }), 'schema_violation:outcomes.0.result'],
      [pullBody(edge.edgeId, { outcomes: [{ ...outcome, applied_at: 'yesterday' }] }), 'schema_violation:outcomes.0.applied_at'],
      [pullBody(edge.edgeId, { outcomes: Array.from({ length: 1001 }, () => outcome) }), 'schema_violation:outcomes'],
      [pullBody(edge.edgeId, { wait_seconds: maxPullWaitSeconds + 1 }), 'schema_violation:wait_seconds'],
      [pullBody(edge.edgeId, { after_seq: -1 }), 'schema_violation:after_seq'],
      [[outcome], 'schema_violation:body'],
      ['{"edge_id": ', 'invalid_json'],
    ];
    for (const [body, code] of cases) {
      const r = await pull(edge, body);
      expect([r.status, errorOf(r).code]).toEqual([400, code]);
    }
    await expectUntouched(edge.edgeId);
  });

  test('a charset other than UTF-8: 415', async () => {
    const { edge, outcome } = await setUp();
    const r = await pull(edge, pullBody(edge.edgeId, { outcomes: [outcome] }), {
      headers: (h) => ({ ...h, 'content-type': 'application/json; charset=latin1' }),
    });
    expect([r.status, errorOf(r).code]).toEqual([415, 'unsupported_charset']);
    await expectUntouched(edge.edgeId);
  });
});
