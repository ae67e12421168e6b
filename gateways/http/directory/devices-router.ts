/**
 * The devices of the dashboard API (docs/directory.md): the cloud's list of each barn's devices.
 * Viewers read, admins add and remove; another tenant's farm, barn or device answers 404.
 *
 * Adding a device here does not by itself let it publish: its MQTT credentials are made on the farm
 * server. With the tenant's one farm server the downlink does it (docs/downlink.md): the answer
 * says `provisioning.status: 'queued_for_farm_server'` with the edge and the command id, whose
 * progress GET /api/v1/edges/:edgeId/commands shows; otherwise (`pending_on_farm_server`) it gives
 * the command to run there. Removing a device queues its revocation the same way (202 with the
 * command), or answers 204 when there is no farm server to tell.
 *
 *   GET    /api/v1/devices?farm_id=&barn_id=                          viewer  { items: Device[] }
 *   POST   /api/v1/devices                                            admin   201 { device, provisioning }
 *   DELETE /api/v1/farms/:farmId/barns/:barnId/devices/:deviceId      admin   202 { revocation } | 204
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { topicSegment } from '../../../domain/contracts/envelope';
import { addDevice, deviceKinds, listDevices, provisioningCommand, removeDevice, type Device } from '../../../cloud/device-directory';
import { ApiRouter } from '../api/api-router';
import { conflict, directoryError, refusedAsHttp } from './directory-http';

export interface DevicesRouterDeps {
  /** The tenant pool (farmiq_app): every statement under row-level security. */
  pool: Pool;
}

const deviceSchema = z
  .object({
    farm_id: z.string(),
    barn_id: z.string(),
    device_id: z.string(),
    kind: z.enum(deviceKinds),
    created_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Device' });

const provisioningSchema = z
  .object({
    status: z.enum(['pending_on_farm_server', 'queued_for_farm_server']).meta({
      description: 'queued_for_farm_server: the downlink provisions it (edge_id, command_id); pending_on_farm_server: run `command` there',
    }),
    command: z.string().meta({ description: 'what provisions it by hand on the farm server; prints the device’s MQTT password once' }),
    edge_id: z.string().optional(),
    command_id: z.uuid().optional().meta({ description: 'the downlink command (GET /api/v1/edges/{edgeId}/commands)' }),
  })
  .meta({ id: 'DeviceProvisioning' });

const revocationSchema = z.object({ status: z.literal('queued_for_farm_server'), edge_id: z.string(), command_id: z.uuid() }).meta({ id: 'DeviceRevocation' });

const newDeviceBody = z
  .strictObject({ farm_id: topicSegment, barn_id: topicSegment, device_id: topicSegment, kind: z.enum(deviceKinds) })
  .meta({ id: 'NewDevice' });

const deviceQuery = z.strictObject({ farm_id: topicSegment.optional(), barn_id: topicSegment.optional() });

const deviceParams = z.strictObject({ farmId: topicSegment, barnId: topicSegment, deviceId: topicSegment });

function deviceJson(d: Device): z.infer<typeof deviceSchema> {
  return { farm_id: d.farmId, barn_id: d.barnId, device_id: d.deviceId, kind: d.kind, created_at: d.createdAt.toISOString() };
}

export function createDevicesRouter({ pool }: DevicesRouterDeps): ApiRouter {
  const api = new ApiRouter('directory');

  api.route(
    {
      method: 'get',
      path: '/api/v1/devices',
      role: 'viewer',
      summary: 'The tenant’s devices, of one farm or barn',
      description: '`barn_id` needs `farm_id`; an unknown farm or barn answers 404.',
      query: deviceQuery,
      responses: { 200: { description: 'the devices, by farm, barn and device id', schema: z.object({ items: z.array(deviceSchema) }) } },
    },
    async ({ auth, query }) => {
      if (query.barn_id !== undefined && query.farm_id === undefined) {
        throw directoryError(400, 'invalid_query', 'barn_id needs farm_id', 'farm_id');
      }
      const devices = await refusedAsHttp(() => listDevices(pool, auth.tenantId, { farmId: query.farm_id, barnId: query.barn_id }));
      return { body: { items: devices.map(deviceJson) } };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/devices',
      role: 'admin',
      summary: 'Add a device to a barn',
      description:
        'Lists the device in the cloud. Its MQTT credentials are made on the farm server: with the tenant’s one farm server the downlink ' +
        'does it (`queued_for_farm_server`, the password is kept there for the installer: `farmiq devices show`); otherwise run `provisioning.command` there.',
      body: newDeviceBody,
      responses: {
        201: { description: 'the device, and what provisions it', schema: z.object({ device: deviceSchema, provisioning: provisioningSchema }) },
        409: conflict,
      },
    },
    async ({ auth, body }) => {
      const device = await refusedAsHttp(() =>
        addDevice(
          pool,
          { tenantId: auth.tenantId, farmId: body.farm_id, barnId: body.barn_id, deviceId: body.device_id, kind: body.kind },
          { createdBy: `user:${auth.userId}` },
        ),
      );
      const command = provisioningCommand(device);
      const provisioning = device.downlink
        ? { status: 'queued_for_farm_server' as const, command, edge_id: device.downlink.edgeId, command_id: device.downlink.commandId }
        : { status: 'pending_on_farm_server' as const, command };
      return { status: 201, body: { device: deviceJson(device), provisioning } };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/api/v1/farms/:farmId/barns/:barnId/devices/:deviceId',
      role: 'admin',
      summary: 'Remove a device from the barn’s list',
      description:
        'With the tenant’s one farm server the downlink revokes its MQTT credentials there (202, the command); ' +
        'otherwise they stay until revoked there (`farmiq devices revoke <username>`), 204.',
      params: deviceParams,
      responses: {
        202: { description: 'removed; its revocation is queued for the farm server', schema: z.object({ revocation: revocationSchema }) },
        204: { description: 'removed (no farm server to tell)' },
      },
    },
    async ({ auth, params }) => {
      const queued = await refusedAsHttp(() =>
        removeDevice(pool, auth.tenantId, params.farmId, params.barnId, params.deviceId, { createdBy: `user:${auth.userId}` }),
      );
      if (!queued) return { status: 204 };
      return { status: 202, body: { revocation: { status: 'queued_for_farm_server' as const, edge_id: queued.edgeId, command_id: queued.commandId } } };
    },
  );

  return api;
}
