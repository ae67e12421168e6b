/**
 * device.provision and device.revoke from the cloud's device directory (docs/downlink.md): what
 * `farmiq devices add` and `farmiq devices revoke` do on the farm server, driven by the downlink.
 *
 * In the command's transaction the handler decides and keeps what the effect needs; the broker's
 * credentials (edge_devices, its password file and ACL, the reload) are the effect after commit,
 * through the DeviceBroker the edge worker wires to gateways/mqtt-bridge/broker/ (credentials.ts
 * provisionDevice / revokeDevice, render.ts), the one writer of edge_devices.
 *
 * The generated password never goes to the cloud: it is kept on the farm server
 * (downlink_device_passwords) for whoever installs the device to read there (`farmiq devices show`
 * — devicePassword() of ./downlink-store.ts), and forgotten when the device is revoked.
 */
import type { Pool } from 'pg';
import type { Queryable } from '../../db/transaction';
import { CommandRefused, type DownlinkHandlers } from './handlers';
import { devicePasswordOfCommand, forgetDevicePasswords, keepDevicePassword } from './downlink-store';

export interface DeviceRegistration {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  kind: string;
  username: string;
  password: string;
}

/** The farm broker as the device commands use it. */
export interface DeviceBroker {
  /** The kinds the broker provisions (credentials.ts deviceKinds). */
  kinds: readonly string[];
  generatePassword(): string;
  /** `<tenant>/<farm>/<barn>/<device>` (credentials.ts defaultUsername). */
  defaultUsername(a: { tenantId: string; farmId: string; barnId: string; deviceId: string }): string;
  /** Gives the device these credentials; the same again is harmless (credentials.ts provisionDevice). */
  provision(reg: DeviceRegistration): Promise<void>;
  /** Marks the username revoked; false when it was not active (credentials.ts revokeDevice). */
  revoke(username: string): Promise<boolean>;
  /** Rewrites the broker's password file and ACL and reloads it (render.ts). */
  refresh(): Promise<void>;
}

interface DeviceRow {
  username: string;
  tenant_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
}

async function deviceByUsername(tx: Queryable, username: string): Promise<DeviceRow | undefined> {
  const { rows } = await tx.query<DeviceRow>('SELECT username, tenant_id::text, farm_id, barn_id, device_id FROM edge_devices WHERE username = $1', [username]);
  return rows[0];
}

export function createDeviceHandlers(deps: { pool: Pool; broker: DeviceBroker }): DownlinkHandlers {
  const { pool, broker } = deps;
  return {
    'device.provision': {
      async apply(tx, p, command) {
        if (!broker.kinds.includes(p.device_type)) throw new CommandRefused('unknown_device_kind');
        const address = { tenantId: command.tenant_id.toLowerCase(), farmId: p.farm_id, barnId: p.barn_id, deviceId: p.device_id };
        const { rows } = await tx.query<{ username: string }>(
          'SELECT username FROM edge_devices WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND device_id = $4',
          [address.tenantId, address.farmId, address.barnId, address.deviceId],
        );
        const username = rows[0]?.username ?? broker.defaultUsername(address);
        const holder = await deviceByUsername(tx, username);
        if (
          holder &&
          (holder.tenant_id !== address.tenantId ||
            holder.farm_id !== address.farmId ||
            holder.barn_id !== address.barnId ||
            holder.device_id !== address.deviceId)
        ) {
          throw new CommandRefused('username_taken');
        }
        await keepDevicePassword(tx, { ...address, username, password: broker.generatePassword(), commandId: command.command_id });
        return {
          result: rows[0] ? 'reprovisioned' : 'provisioned',
          afterCommit: async () => {
            // What the commit kept (a later revoke may have forgotten it: then nothing is left to do).
            const kept = await devicePasswordOfCommand(pool, command.command_id);
            if (!kept) return;
            await broker.provision({ ...address, kind: p.device_type, username: kept.username, password: kept.password });
            await broker.refresh();
          },
        };
      },
    },
    'device.revoke': {
      async apply(tx, p, command) {
        const tenantId = command.tenant_id.toLowerCase();
        const { rows } = await tx.query<{ username: string }>(
          'SELECT username FROM edge_devices WHERE tenant_id = $1 AND device_id = $2 AND revoked_at IS NULL',
          [tenantId, p.device_id],
        );
        if (rows.length > 1) throw new CommandRefused('ambiguous_device');
        // A provision whose effect has not run yet: forgetting its password makes that effect a no-op.
        const pending = await forgetDevicePasswords(tx, tenantId, p.device_id);
        const usernames = [...new Set([...rows.map((r) => r.username), ...pending])];
        if (usernames.length === 0) return { result: 'not_provisioned' };
        return {
          result: 'revoked',
          afterCommit: async () => {
            for (const username of usernames) await broker.revoke(username);
            await broker.refresh();
          },
        };
      },
    },
  };
}
