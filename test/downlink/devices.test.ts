/**
 * The dashboard's device admin reaches the farm broker's credentials through the downlink: adding a
 * device in the cloud's directory queues device.provision for the tenant's farm server (the answer
 * names the command), the farm server's device handlers provision it with the real broker
 * registry (gateways/mqtt-bridge/broker/credentials.ts, mosquitto_passwd) and keep the password on
 * the farm server only; removing it queues device.revoke, which revokes it there. Without a farm
 * server the answers stay what they were (the command to run by hand).
 */
import type { Pool } from 'pg';
import { createBarn, createFarm } from '../../cloud/farm-directory';
import { createDevicesRouter } from '../../gateways/http/directory/devices-router';
import {
  defaultUsername,
  deviceKinds,
  generatePassword,
  listDevices,
  provisionDevice,
  revokeDevice,
  type DeviceKind,
} from '../../gateways/mqtt-bridge/broker/credentials';
import { DownlinkApplier } from '../../sync/downlink/applier';
import { createDeviceHandlers, type DeviceBroker } from '../../sync/downlink/device-commands';
import { devicePassword, listRecordedCommands } from '../../sync/downlink/downlink-store';
import { seedTenant } from '../auth/support';
import { serveApi, type ApiServer } from '../http/api-support';
import { cloudCommands, edgeSide, openPools, silentLog, startCloud, tenantWithEdge, uuid, type CloudServer, type Pools } from './support';

let pools: Pools;
let cloud: CloudServer;
let api: ApiServer;

beforeAll(async () => {
  pools = openPools('farmiq-test-downlink-devices');
  cloud = await startCloud(pools.owner);
  api = await serveApi({ routers: [createDevicesRouter({ pool: pools.tenant })] });
});
afterAll(async () => {
  await cloud.close();
  await api.close();
  await pools.end();
});

/** The real registry on the edge test database; the broker's files are not rewritten here (counted). */
function broker(edge: Pool, refreshed: { count: number }): DeviceBroker {
  return {
    kinds: deviceKinds,
    generatePassword,
    defaultUsername,
    provision: async (d) => void (await provisionDevice(edge, { ...d, kind: d.kind as DeviceKind })),
    revoke: (username) => revokeDevice(edge, username),
    refresh: async () => {
      refreshed.count += 1;
    },
  };
}

async function farmAndBarn(tenantId: string): Promise<{ farmId: string; barnId: string }> {
  const farmId = `farm-${tenantId.slice(0, 8)}`;
  await createFarm(pools.tenant, { tenantId, farmId, name: 'Downlink farm', species: 'broiler' });
  await createBarn(pools.tenant, { tenantId, farmId, barnId: 'barn-1', name: 'Barn 1' });
  return { farmId, barnId: 'barn-1' };
}

test('a device added in the dashboard is provisioned on the farm server; removed, it is revoked there', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'Devices');
  const { farmId, barnId } = await farmAndBarn(tenant.id);

  const added = await api.call('POST', '/api/v1/devices', {
    token: tenant.admin.token,
    body: { farm_id: farmId, barn_id: barnId, device_id: 'temp-01', kind: 'sensor' },
  });
  expect(added.status).toBe(201);
  expect(added.body.provisioning).toEqual({
    status: 'queued_for_farm_server',
    command: `farmiq devices add --tenant ${tenant.id} --farm ${farmId} --barn ${barnId} --device temp-01 --kind sensor`,
    edge_id: edge.edgeId,
    command_id: expect.any(String),
  });

  const refreshed = { count: 0 };
  const side = edgeSide(pools, cloud.base, edge, {
    tenants: [tenant.id],
    handlers: { ...createDeviceHandlers({ pool: pools.edge, broker: broker(pools.edge, refreshed) }) },
  });
  try {
    expect(await side.exchange({ waitSeconds: 0 })).toMatchObject({ kind: 'exchanged', received: 1, applied: 1, effectsPending: 0 });
    const username = `${tenant.id}/${farmId}/${barnId}/temp-01`;
    const registered = (await listDevices(pools.edge)).find((d) => d.username === username);
    expect(registered).toMatchObject({ tenantId: tenant.id, farmId, barnId, deviceId: 'temp-01', kind: 'sensor', revokedAt: null });
    expect(refreshed.count).toBe(1);
    // The password is on the farm server for the installer, and nowhere in the cloud.
    const kept = await devicePassword(pools.edge, username);
    expect(kept?.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await side.exchange({ waitSeconds: 0 });
    const inCloud = await pools.owner.query<{ row: string }>('SELECT row_to_json(c)::text AS row FROM edge_commands c WHERE edge_id = $1', [edge.edgeId]);
    expect(inCloud.rows.map((r) => r.row).join('')).not.toContain(kept?.password);
    expect(await cloudCommands(pools.owner, edge.edgeId)).toEqual([
      { seq: 1, outcome: 'applied', result: 'provisioned', delivered: true, type: 'device.provision' },
    ]);

    const removed = await api.call('DELETE', `/api/v1/farms/${farmId}/barns/${barnId}/devices/temp-01`, { token: tenant.admin.token });
    expect(removed.status).toBe(202);
    expect(removed.body).toEqual({ revocation: { status: 'queued_for_farm_server', edge_id: edge.edgeId, command_id: expect.any(String) } });
    expect(await side.exchange({ waitSeconds: 0 })).toMatchObject({ kind: 'exchanged', received: 1, applied: 1 });
    expect((await listDevices(pools.edge)).find((d) => d.username === username)?.revokedAt).toBeInstanceOf(Date);
    expect(await devicePassword(pools.edge, username)).toBeUndefined();
    expect(refreshed.count).toBe(2);
    await side.exchange({ waitSeconds: 0 });
    expect((await cloudCommands(pools.owner, edge.edgeId)).map((c) => [c.type, c.outcome, c.result])).toEqual([
      ['device.provision', 'applied', 'provisioned'],
      ['device.revoke', 'applied', 'revoked'],
    ]);
  } finally {
    side.cloud.close();
  }
});

test('a revoke that overtakes a provision whose effect has not run leaves the device revoked', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'DevicesRace');
  const { farmId, barnId } = await farmAndBarn(tenant.id);
  await api.call('POST', '/api/v1/devices', { token: tenant.admin.token, body: { farm_id: farmId, barn_id: barnId, device_id: 'flappy', kind: 'sensor' } });
  await api.call('DELETE', `/api/v1/farms/${farmId}/barns/${barnId}/devices/flappy`, { token: tenant.admin.token });

  const refreshed = { count: 0 };
  let brokerDown = true;
  const real = broker(pools.edge, refreshed);
  const flaky: DeviceBroker = {
    ...real,
    refresh: async () => {
      if (brokerDown) throw new Error('broker files not writable');
      await real.refresh();
    },
  };
  const side = edgeSide(pools, cloud.base, edge, { tenants: [tenant.id], handlers: createDeviceHandlers({ pool: pools.edge, broker: flaky }) });
  try {
    // The revoke forgot the provision's password, so the provision's effect has nothing left to do;
    // the revoke's own effect waits for the broker.
    expect(await side.exchange({ waitSeconds: 0 })).toMatchObject({ applied: 2, effectsPending: 1 });
    brokerDown = false;
    expect(await side.exchange({ waitSeconds: 0 })).toMatchObject({ kind: 'exchanged', effectsPending: 0 });
    const username = `${tenant.id}/${farmId}/${barnId}/flappy`;
    // Never provisioned at all: the broker never let it in.
    expect((await listDevices(pools.edge)).find((d) => d.username === username)).toBeUndefined();
    expect((await listRecordedCommands(pools.edge, edge.edgeId)).map((c) => [c.type, c.status, c.result, c.effectDoneAt !== null])).toEqual([
      ['device.revoke', 'applied', 'revoked', true],
      ['device.provision', 'applied', 'provisioned', true],
    ]);
  } finally {
    side.cloud.close();
  }
});

test('an unknown device kind is refused on the farm server', async () => {
  const { tenant, edge } = await tenantWithEdge(pools, 'DevicesKind');
  const handlers = createDeviceHandlers({ pool: pools.edge, broker: broker(pools.edge, { count: 0 }) });
  const applier = new DownlinkApplier({ pool: pools.edge, edgeId: edge.edgeId, handlers, tenants: [tenant.id], log: silentLog });
  const r = await applier.applyBatch([
    {
      command_id: uuid(),
      seq: 1,
      tenant_id: tenant.id,
      type: 'device.provision',
      payload: { device_id: 'x', farm_id: 'f', barn_id: 'b', device_type: 'toaster' },
      created_at: new Date().toISOString(),
      created_by: 't',
    },
  ]);
  expect(r).toMatchObject({ refused: 1 });
  expect((await listRecordedCommands(pools.edge, edge.edgeId))[0].result).toBe('unknown_device_kind');
});

test('a tenant without a farm server gets today’s answers: the command to run by hand, 204 on removal', async () => {
  const tenant = await seedTenant(pools.owner, 'NoEdge');
  const { farmId, barnId } = await farmAndBarn(tenant.id);
  const added = await api.call('POST', '/api/v1/devices', {
    token: tenant.admin.token,
    body: { farm_id: farmId, barn_id: barnId, device_id: 'lonely', kind: 'sensor' },
  });
  expect(added.body.provisioning).toEqual({
    status: 'pending_on_farm_server',
    command: `farmiq devices add --tenant ${tenant.id} --farm ${farmId} --barn ${barnId} --device lonely --kind sensor`,
  });
  const removed = await api.call('DELETE', `/api/v1/farms/${farmId}/barns/${barnId}/devices/lonely`, { token: tenant.admin.token });
  expect(removed.status).toBe(204);
});
