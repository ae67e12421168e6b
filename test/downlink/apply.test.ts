/**
 * The farm server's side of the downlink on the real edge and cloud test databases, through the
 * real signed HTTP exchange (activities/downlink/exchange.ts → the pull endpoint): commands apply
 * in seq order, exactly once across a crash between apply and acknowledgement, a command for a
 * tenant the farm server does not serve is refused on the edge, and effects after commit run in
 * order and are retried (also after a restart) until done.
 */
import { DownlinkApplier } from '../../sync/downlink/applier';
import { listRecordedCommands, unreportedOutcomes } from '../../sync/downlink/downlink-store';
import { CommandRefused, type DownlinkHandlers } from '../../sync/downlink/handlers';
import type { EdgeCommand } from '../../domain/downlink/commands';
import {
  cloudCommands,
  edgeSide,
  enqueue,
  openPools,
  provisionPayload,
  recordingHandlers,
  silentLog,
  startCloud,
  tenantWithEdge,
  uuid,
  type CloudServer,
  type Pools,
} from './support';

let pools: Pools;
let cloud: CloudServer;

beforeAll(async () => {
  pools = openPools('farmiq-test-downlink-apply');
  cloud = await startCloud(pools.owner);
});
afterAll(async () => {
  await cloud.close();
  await pools.end();
});

function command(seq: number, tenantId: string, deviceId: string, extra: Partial<EdgeCommand> = {}): EdgeCommand {
  return {
    command_id: uuid(),
    seq,
    tenant_id: tenantId,
    type: 'device.provision',
    payload: provisionPayload(deviceId),
    created_at: new Date().toISOString(),
    created_by: 'test',
    ...extra,
  };
}

test('three commands apply in seq order even when the answer lists them shuffled', async () => {
  const tenantId = uuid();
  const applied: string[] = [];
  const applier = new DownlinkApplier({
    pool: pools.edge,
    edgeId: `edge-${uuid()}`,
    handlers: recordingHandlers(applied),
    tenants: [tenantId],
    log: silentLog,
  });
  const batch = [command(3, tenantId, 'third'), command(1, tenantId, 'first'), command(2, tenantId, 'second')];
  const r = await applier.applyBatch(batch);
  expect(r).toMatchObject({ applied: 3, refused: 0, skipped: 0 });
  expect(applied).toEqual(['first', 'second', 'third']);
});

test('end to end: queued in the cloud, pulled, applied in order, outcomes back in the cloud', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Order');
  for (const d of ['a', 'b', 'c']) await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: provisionPayload(d) });
  const applied: string[] = [];
  const side = edgeSide(pools, cloud.base, edge, { tenants: [tenant.id], handlers: recordingHandlers(applied) });
  try {
    const first = await side.exchange({ waitSeconds: 0 });
    expect(first).toMatchObject({ kind: 'exchanged', received: 3, applied: 3 });
    expect(applied).toEqual(['a', 'b', 'c']);
    // The next exchange tells the cloud (and does not wait: it has outcomes to tell).
    const second = await side.exchange({ waitSeconds: 30 });
    expect(second).toMatchObject({ kind: 'exchanged', received: 0, reported: 3, recorded: 3 });
    expect(await cloudCommands(pools.owner, edge.edgeId)).toEqual([
      { seq: 1, outcome: 'applied', result: 'provisioned a', delivered: true, type: 'device.provision' },
      { seq: 2, outcome: 'applied', result: 'provisioned b', delivered: true, type: 'device.provision' },
      { seq: 3, outcome: 'applied', result: 'provisioned c', delivered: true, type: 'device.provision' },
    ]);
  } finally {
    side.cloud.close();
  }
});

test('exactly once across a crash between apply and acknowledgement', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Crash');
  const queued = await enqueue(pools, { tenantId: tenant.id, edgeId: edge.edgeId, type: 'device.provision', payload: provisionPayload('once') });
  const applied: string[] = [];

  // Before the crash: the pull answered, the command applied and committed on the edge…
  const before = edgeSide(pools, cloud.base, edge, { tenants: [tenant.id], handlers: recordingHandlers(applied) });
  expect(await before.exchange({ waitSeconds: 0 })).toMatchObject({ applied: 1 });
  before.cloud.close();
  // …and the process died before the outcome reached the cloud: the cloud still has it open.
  expect((await cloudCommands(pools.owner, edge.edgeId))[0]).toMatchObject({ outcome: null, delivered: true });

  // The cloud delivers it again (an answer lost, or a farm server restored from a backup).
  const applier = new DownlinkApplier({ pool: pools.edge, edgeId: edge.edgeId, handlers: recordingHandlers(applied), tenants: [tenant.id], log: silentLog });
  const redelivered = await applier.applyBatch([
    {
      command_id: queued.commandId,
      seq: 1,
      tenant_id: tenant.id,
      type: 'device.provision',
      payload: provisionPayload('once'),
      created_at: new Date().toISOString(),
      created_by: 't',
    },
  ]);
  expect(redelivered).toMatchObject({ applied: 0, skipped: 1 });
  expect(applied).toEqual(['once']);

  // After the restart: the stored outcome is reported, once; the cloud shows it applied once.
  const after = edgeSide(pools, cloud.base, edge, { tenants: [tenant.id], handlers: recordingHandlers(applied) });
  try {
    expect(await after.exchange({ waitSeconds: 0 })).toMatchObject({ kind: 'exchanged', received: 0, reported: 1, recorded: 1 });
    expect(await after.exchange({ waitSeconds: 0 })).toMatchObject({ kind: 'exchanged', received: 0, reported: 0 });
  } finally {
    after.cloud.close();
  }
  expect(applied).toEqual(['once']);
  expect(await cloudCommands(pools.owner, edge.edgeId)).toEqual([
    { seq: 1, outcome: 'applied', result: 'provisioned once', delivered: true, type: 'device.provision' },
  ]);
  expect((await listRecordedCommands(pools.edge, edge.edgeId)).map((c) => [c.commandId, c.status])).toEqual([[queued.commandId, 'applied']]);
});

test('a command whose tenant the farm server does not serve is refused on the edge, and the rest still apply', async () => {
  const served = uuid();
  const stranger = uuid();
  const applied: string[] = [];
  const edgeId = `edge-${uuid()}`;
  const applier = new DownlinkApplier({ pool: pools.edge, edgeId, handlers: recordingHandlers(applied), tenants: [served], log: silentLog });
  const r = await applier.applyBatch([
    command(1, stranger, 'theirs'),
    command(2, served, 'ours'),
    command(3, served, 'bad', { payload: { device_id: 'bad', farm_id: 'f' } }),
    command(4, served, 'x', { type: 'barn.explode' }),
    command(5, served, 'y', { type: 'alarm_rule.delete', payload: { rule_id: 'r', farm_id: 'f' } }),
  ]);
  expect(r).toMatchObject({ applied: 1, refused: 4 });
  expect(applied).toEqual(['ours']);
  const outcomes = await unreportedOutcomes(pools.edge, edgeId, 10);
  expect(outcomes.map((o) => [o.status, o.result])).toEqual([
    ['refused', 'tenant_not_served'],
    ['applied', 'provisioned ours'],
    ['refused', 'invalid_payload:barn_id'],
    ['refused', 'unknown_command_type'],
    ['refused', 'unsupported_command_type'],
  ]);
});

test('a handler’s CommandRefused undoes its writes and keeps the refusal; any other failure stops the batch, unrecorded', async () => {
  const tenantId = uuid();
  const edgeId = `edge-${uuid()}`;
  let fail = true;
  const handlers: DownlinkHandlers = {
    'device.provision': {
      apply: async (tx, p) => {
        await tx.query('SELECT 1');
        if (p.device_id === 'refuse') throw new CommandRefused('not_here');
        if (p.device_id === 'flaky' && fail) throw new Error('database hiccup');
        return { result: 'ok' };
      },
    },
  };
  const applier = new DownlinkApplier({ pool: pools.edge, edgeId, handlers, tenants: [tenantId], log: silentLog });
  const batch = [command(1, tenantId, 'refuse'), command(2, tenantId, 'flaky'), command(3, tenantId, 'after')];
  const first = await applier.applyBatch(batch);
  expect(first).toMatchObject({ applied: 0, refused: 1, failed: { seq: 2, error: 'database hiccup' } });
  // Nothing after the failed one was applied; the failed one is not recorded, so it comes again.
  expect((await listRecordedCommands(pools.edge, edgeId)).map((c) => [c.seq, c.status, c.result])).toEqual([[1, 'refused', 'not_here']]);
  fail = false;
  const second = await applier.applyBatch(batch.slice(1));
  expect(second).toMatchObject({ applied: 2, refused: 0 });
  expect((await listRecordedCommands(pools.edge, edgeId)).map((c) => c.seq)).toEqual([3, 2, 1]);
});

test('effects run after commit in seq order, a failing one holds back the later ones and the outcome, and a restart re-derives it', async () => {
  const tenantId = uuid();
  const edgeId = `edge-${uuid()}`;
  const effects: string[] = [];
  let broken = true;
  const handlers: DownlinkHandlers = {
    'device.provision': {
      apply: async (tx, p, c) => {
        // What the effect acts on is read back from the commit, as handlers.ts asks.
        const seen = await tx.query<{ n: string }>('SELECT count(*) AS n FROM downlink_commands WHERE command_id = $1', [c.command_id]);
        return {
          result: `recorded ${seen.rows[0].n}`,
          afterCommit: async () => {
            if (p.device_id === 'first' && broken) throw new Error('broker down');
            effects.push(p.device_id);
          },
        };
      },
    },
  };
  const applier = new DownlinkApplier({ pool: pools.edge, edgeId, handlers, tenants: [tenantId], log: silentLog });
  const r = await applier.applyBatch([command(1, tenantId, 'first'), command(2, tenantId, 'second')]);
  expect(r).toMatchObject({ applied: 2, effectsPending: 2 });
  expect(effects).toEqual([]);
  // An applied command is reported only once its effect is done.
  expect(await unreportedOutcomes(pools.edge, edgeId, 10)).toEqual([]);
  const [second, first] = await listRecordedCommands(pools.edge, edgeId);
  expect([first.effectAttempts, first.effectError, second.effectAttempts]).toEqual([1, 'broker down', 0]);

  // A restart: a new applier has no closures; it derives the effects again and runs them in order.
  broken = false;
  const restarted = new DownlinkApplier({ pool: pools.edge, edgeId, handlers, tenants: [tenantId], log: silentLog });
  expect(await restarted.runPendingEffects()).toBe(0);
  expect(effects).toEqual(['first', 'second']);
  expect((await unreportedOutcomes(pools.edge, edgeId, 10)).map((o) => o.result)).toEqual(['recorded 1', 'recorded 1']);
  expect(await restarted.runPendingEffects()).toBe(0);
  expect(effects).toEqual(['first', 'second']);
});
