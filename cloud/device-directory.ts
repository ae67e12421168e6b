/**
 * The cloud's list of a barn's devices as an admin keeps it (the dashboard's directory, issue 12):
 * the only writer of the cloud `devices` table (migration cloud/0001). Every statement runs inside
 * `withTenant` (through the farm directory's `inTenant`), so on the tenant pool row-level security
 * (migration 0006) admits only that tenant's rows.
 *
 * A device listed here is not yet a device that can publish: its MQTT credentials live on the farm
 * server (edge_devices, `farmiq devices add`). Adding or removing a device also queues
 * device.provision / device.revoke for the farm's farm server on the downlink, in the same
 * transaction (cloud/downlink/command-queue.ts, docs/downlink.md); for a tenant without exactly
 * one farm server `provisioningCommand` / `revocationCommand` say what to run there by hand.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { topicSegment } from '../domain/contracts/envelope';
import { assertBarn, assertFarm, DirectoryRefusal, duplicate, inTenant } from './farm-directory';
import { enqueueCommand, farmEdge } from './downlink/command-queue';

/**
 * The kinds the farm server provisions (gateways/mqtt-bridge/broker/credentials.ts deviceKinds;
 * test/cloud/directory-devices.test.ts keeps the two lists equal) and devices.kind admits
 * (migration 0013).
 */
export const deviceKinds = ['sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter', 'siren'] as const;
export type DeviceKind = (typeof deviceKinds)[number];

export const newDeviceSchema = z.object({
  tenantId: z.uuid(),
  farmId: topicSegment,
  barnId: topicSegment,
  deviceId: topicSegment,
  kind: z.enum(deviceKinds),
});
export type NewDevice = z.input<typeof newDeviceSchema>;

export interface Device {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  kind: DeviceKind;
  createdAt: Date;
}

interface DeviceRow {
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
  kind: DeviceKind;
  created_at: Date;
}

const columns = 'tenant_id::text, farm_id, barn_id, device_id, kind, created_at';

const toDevice = (r: DeviceRow): Device => ({
  tenantId: r.tenant_id,
  farmId: r.farm_id,
  barnId: r.barn_id,
  deviceId: r.device_id,
  kind: r.kind,
  createdAt: r.created_at,
});

/** The downlink command that carries a directory change to the farm server; null without one farm server. */
export interface DownlinkQueued {
  edgeId: string;
  commandId: string;
  seq: number;
}

/** Who changed the directory, for the downlink command (`user:<id>`); default `system:directory`. */
export interface DirectoryActor {
  createdBy?: string;
}

export async function addDevice(pool: Pool, input: NewDevice, actor: DirectoryActor = {}): Promise<Device & { downlink: DownlinkQueued | null }> {
  const d = newDeviceSchema.parse({ ...input, tenantId: input.tenantId.toLowerCase() });
  return inTenant(pool, d.tenantId, async (client, id) => {
    await assertBarn(client, id, d.farmId, d.barnId);
    const r = await client
      .query<DeviceRow>(`INSERT INTO devices (tenant_id, farm_id, barn_id, device_id, kind) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`, [
        id,
        d.farmId,
        d.barnId,
        d.deviceId,
        d.kind,
      ])
      .catch((err: unknown) => {
        throw duplicate(err, new DirectoryRefusal('device_exists', `barn ${d.farmId}/${d.barnId} already has a device ${d.deviceId}`));
      });
    const edgeId = await farmEdge(client, id);
    const queued = edgeId
      ? await enqueueCommand(client, {
          tenantId: id,
          edgeId,
          type: 'device.provision',
          payload: { device_id: d.deviceId, farm_id: d.farmId, barn_id: d.barnId, device_type: d.kind },
          createdBy: actor.createdBy ?? 'system:directory',
        })
      : undefined;
    return { ...toDevice(r.rows[0]), downlink: edgeId && queued ? { edgeId, commandId: queued.commandId, seq: queued.seq } : null };
  });
}

/** The tenant's devices, of one farm or one barn when given (which must then exist). */
export async function listDevices(pool: Pool, tenantId: string, where: { farmId?: string; barnId?: string } = {}): Promise<Device[]> {
  if (where.barnId !== undefined && where.farmId === undefined) throw new Error('a barn filter needs its farm');
  return inTenant(pool, tenantId, async (client, id) => {
    if (where.barnId !== undefined) await assertBarn(client, id, where.farmId as string, where.barnId);
    else if (where.farmId !== undefined) await assertFarm(client, id, where.farmId);
    const r = await client.query<DeviceRow>(
      `SELECT ${columns} FROM devices
       WHERE tenant_id = $1 AND ($2::text IS NULL OR farm_id = $2) AND ($3::text IS NULL OR barn_id = $3)
       ORDER BY farm_id, barn_id, device_id`,
      [id, where.farmId ?? null, where.barnId ?? null],
    );
    return r.rows.map(toDevice);
  });
}

/**
 * Takes the device off the list and queues its revocation for the farm server; without one farm
 * server its credentials there stay until revoked by hand (null).
 */
export async function removeDevice(
  pool: Pool,
  tenantId: string,
  farmId: string,
  barnId: string,
  deviceId: string,
  actor: DirectoryActor = {},
): Promise<DownlinkQueued | null> {
  return inTenant(pool, tenantId, async (client, id) => {
    await assertBarn(client, id, farmId, barnId);
    const r = await client.query('DELETE FROM devices WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND device_id = $4', [
      id,
      farmId,
      barnId,
      deviceId,
    ]);
    if (r.rowCount === 0) throw new DirectoryRefusal('unknown_device', `barn ${farmId}/${barnId} has no device ${deviceId}`);
    const edgeId = await farmEdge(client, id);
    if (!edgeId) return null;
    const queued = await enqueueCommand(client, {
      tenantId: id,
      edgeId,
      type: 'device.revoke',
      payload: { device_id: deviceId },
      createdBy: actor.createdBy ?? 'system:directory',
    });
    return { edgeId, commandId: queued.commandId, seq: queued.seq };
  });
}

/**
 * What to run on the farm server to give the device its MQTT credentials (cli/commands/devices.ts
 * `farmiq devices add`). Every id is an identifier (A-Z a-z 0-9 . _ : -) or a uuid, so the words
 * need no shell quoting.
 */
export function provisioningCommand(d: Pick<Device, 'tenantId' | 'farmId' | 'barnId' | 'deviceId' | 'kind'>): string {
  return `farmiq devices add --tenant ${d.tenantId} --farm ${d.farmId} --barn ${d.barnId} --device ${d.deviceId} --kind ${d.kind}`;
}

/** What revokes the device's credentials on the farm server (its default MQTT username). */
export function revocationCommand(d: Pick<Device, 'tenantId' | 'farmId' | 'barnId' | 'deviceId'>): string {
  return `farmiq devices revoke ${d.tenantId}/${d.farmId}/${d.barnId}/${d.deviceId}`;
}
