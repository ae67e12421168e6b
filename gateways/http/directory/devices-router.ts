/**
 * The devices of the dashboard API (docs/directory.md): the cloud's list of each barn's devices.
 * Viewers read, admins add and remove; another tenant's farm, barn or device answers 404.
 *
 * Adding a device here does not yet let it publish: its MQTT credentials are made on the farm
 * server. The answer says so (`provisioning.status: 'pending_on_farm_server'`) and gives the
 * command to run there; the downlink of the alarms issue (13) will run it itself.
 *
 *   GET    /api/v1/devices?farm_id=&barn_id=                          viewer  { items: Device[] }
 *   POST   /api/v1/devices                                            admin   201 { device, provisioning }
 *   DELETE /api/v1/farms/:farmId/barns/:barnId/devices/:deviceId      admin   204
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
    status: z.literal('pending_on_farm_server'),
    command: z.string().meta({ description: 'run on the farm server; prints the device’s MQTT password once' }),
  })
  .meta({ id: 'DeviceProvisioning' });

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
        'Lists the device in the cloud. Its MQTT credentials are made on the farm server: run `provisioning.command` there ' +
        '(the downlink of issue 13 will do it automatically).',
      body: newDeviceBody,
      responses: {
        201: { description: 'the device, and what provisions it', schema: z.object({ device: deviceSchema, provisioning: provisioningSchema }) },
        409: conflict,
      },
    },
    async ({ auth, body }) => {
      const device = await refusedAsHttp(() =>
        addDevice(pool, { tenantId: auth.tenantId, farmId: body.farm_id, barnId: body.barn_id, deviceId: body.device_id, kind: body.kind }),
      );
      return {
        status: 201,
        body: { device: deviceJson(device), provisioning: { status: 'pending_on_farm_server' as const, command: provisioningCommand(device) } },
      };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/api/v1/farms/:farmId/barns/:barnId/devices/:deviceId',
      role: 'admin',
      summary: 'Remove a device from the barn’s list',
      description: 'Its MQTT credentials on the farm server stay until revoked there (`farmiq devices revoke <username>`).',
      params: deviceParams,
      responses: { 204: { description: 'removed' } },
    },
    async ({ auth, params }) => {
      await refusedAsHttp(() => removeDevice(pool, auth.tenantId, params.farmId, params.barnId, params.deviceId));
      return { status: 204 };
    },
  );

  return api;
}
