/**
 * The farm broker's device registry (edge_devices): provisioning a device's MQTT credentials,
 * revoking them, listing them. Only a mosquitto_passwd hash is stored; the generated password is
 * returned once to whoever provisions the device. The broker's password file and ACL are rendered
 * from this table by ./render.ts.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { inTransaction } from '../../../db/transaction';
import { isUuid } from '../../../domain/contracts/identifiers';
import { parseDeviceTopic, telemetryTopic, type DeviceAddress } from '../../../domain/contracts/topics';

const run = promisify(execFile);

/**
 * `siren`: a siren or relay on the farm LAN. It publishes nothing and reads its farm's alarm
 * sirens (render.ts deviceReadFilters); every other kind only publishes.
 */
export const deviceKinds = ['sensor', 'weighvision-station', 'feed-dispenser', 'mortality-counter', 'siren'] as const;
export type DeviceKind = (typeof deviceKinds)[number];

export interface DeviceRegistration extends DeviceAddress {
  kind?: DeviceKind;
  /** Defaults to the device's address, `<tenant>/<farm>/<barn>/<device>`. */
  username?: string;
  /** Generated (192 random bits) when not given. */
  password?: string;
}

export interface DeviceCredentials {
  username: string;
  password: string;
}

export interface RegisteredDevice extends DeviceAddress {
  username: string;
  kind: DeviceKind;
  passwordHash: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Throws with a sentence naming the problem when the address cannot be a device's topic prefix. */
export function assertDeviceAddress(a: DeviceAddress): void {
  if (!isUuid(a.tenantId)) throw new Error(`tenant id must be a UUID, got "${a.tenantId}"`);
  // The same rule the bridge applies to incoming topics, so a provisioned device can always publish.
  if (!parseDeviceTopic(telemetryTopic(a, 'probe'))) {
    throw new Error(`farm, barn and device ids must be 1-64 characters of A-Z a-z 0-9 . _ : - (got ${a.farmId}/${a.barnId}/${a.deviceId})`);
  }
}

/**
 * A name the password file and ACL can hold: no ':' (the passwd separator), no whitespace or
 * control characters (the ACL's `user` line), no leading '#' (a comment).
 */
export function isBrokerUsername(username: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses (they would break the ACL's `user` line).
  return username.length >= 1 && username.length <= 256 && !/[:\s\x00-\x1f\x7f]/.test(username) && !username.startsWith('#');
}

export function assertBrokerUsername(username: string): void {
  if (username.length < 1 || username.length > 256) throw new Error('MQTT username must be 1-256 characters');
  if (!isBrokerUsername(username)) {
    throw new Error(`MQTT username "${username}" may not contain ':', whitespace or control characters, nor start with '#'`);
  }
}

export function defaultUsername(a: DeviceAddress): string {
  return `${a.tenantId}/${a.farmId}/${a.barnId}/${a.deviceId}`;
}

export function generatePassword(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/**
 * A mosquitto_passwd hash ($7$…, PBKDF2-SHA512 in Mosquitto 2) made by the broker's own tool, so the
 * format always matches the installed broker. The password is on mosquitto_passwd's command line
 * for the few milliseconds it runs (`-b` is its only non-interactive mode).
 */
export async function hashPassword(username: string, password: string): Promise<string> {
  assertBrokerUsername(username);
  if (password.length === 0 || /[\r\n]/.test(password)) throw new Error('password must be non-empty and one line');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'farmiq-passwd-'));
  try {
    const file = path.join(dir, 'passwd');
    await fs.writeFile(file, '', { mode: 0o600 });
    try {
      await run('mosquitto_passwd', ['-b', file, username, password]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const message =
        e.code === 'ENOENT' ? 'mosquitto_passwd not found: install mosquitto (make setup)' : `mosquitto_passwd failed: ${e.stderr?.trim() || e.message}`;
      // eslint-disable-next-line preserve-caught-error -- not attached on purpose: execFile's error carries the password in its cmd and spawnargs, and a cause is logged.
      throw new Error(message);
    }
    const line = (await fs.readFile(file, 'utf8')).split('\n').find((l) => l.startsWith(`${username}:`));
    if (!line) throw new Error('mosquitto_passwd wrote no entry');
    return line.slice(username.length + 1).trim();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function sameAddress(row: { tenant_id: string; farm_id: string; barn_id: string; device_id: string }, a: DeviceAddress): boolean {
  return row.tenant_id === a.tenantId.toLowerCase() && row.farm_id === a.farmId && row.barn_id === a.barnId && row.device_id === a.deviceId;
}

/** A provisioned device as its own client sees it: where it is and how it logs in. */
export type ProvisionedDevice = DeviceAddress & DeviceCredentials;

/**
 * Registers a device, or gives an existing one a new password (which also lifts a revocation).
 * A device keeps its username across re-provisioning; a username belongs to one address only.
 */
export async function provisionDevice(pool: Pool, reg: DeviceRegistration): Promise<DeviceCredentials> {
  assertDeviceAddress(reg);
  const kind = reg.kind ?? 'sensor';
  if (!deviceKinds.includes(kind)) throw new Error(`kind must be one of ${deviceKinds.join(', ')}`);
  if (reg.username !== undefined) assertBrokerUsername(reg.username);
  const password = reg.password ?? generatePassword();

  return inTransaction(pool, async (client) => {
    const existing = await client.query<{ username: string }>(
      `SELECT username FROM edge_devices
        WHERE tenant_id = $1 AND farm_id = $2 AND barn_id = $3 AND device_id = $4 FOR UPDATE`,
      [reg.tenantId, reg.farmId, reg.barnId, reg.deviceId],
    );
    const current = existing.rows[0]?.username;
    if (current && reg.username && reg.username !== current) {
      throw new Error(`device ${defaultUsername(reg)} is already provisioned as "${current}"; re-provision it under that name or revoke it`);
    }
    const username = current ?? reg.username ?? defaultUsername(reg);
    assertBrokerUsername(username);
    if (!current) {
      const taken = await client.query<{ tenant_id: string; farm_id: string; barn_id: string; device_id: string }>(
        'SELECT tenant_id, farm_id, barn_id, device_id FROM edge_devices WHERE username = $1 FOR UPDATE',
        [username],
      );
      if (taken.rows[0] && !sameAddress(taken.rows[0], reg)) {
        const t = taken.rows[0];
        throw new Error(`username "${username}" already belongs to device ${t.tenant_id}/${t.farm_id}/${t.barn_id}/${t.device_id}`);
      }
    }
    const passwordHash = await hashPassword(username, password);
    await client.query(
      `INSERT INTO edge_devices (username, tenant_id, farm_id, barn_id, device_id, kind, password_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (username) DO UPDATE
         SET kind = EXCLUDED.kind, password_hash = EXCLUDED.password_hash, revoked_at = NULL`,
      [username, reg.tenantId, reg.farmId, reg.barnId, reg.deviceId, kind, passwordHash],
    );
    return { username, password };
  });
}

/** Marks the device revoked (kept for the record). False when no active device has that name. */
export async function revokeDevice(pool: Pool, username: string): Promise<boolean> {
  const res = await pool.query('UPDATE edge_devices SET revoked_at = now() WHERE username = $1 AND revoked_at IS NULL', [username]);
  return (res.rowCount ?? 0) > 0;
}

export async function listDevices(pool: Pool, opts: { includeRevoked?: boolean } = {}): Promise<RegisteredDevice[]> {
  const res = await pool.query<{
    username: string;
    tenant_id: string;
    farm_id: string;
    barn_id: string;
    device_id: string;
    kind: DeviceKind;
    password_hash: string;
    created_at: Date;
    revoked_at: Date | null;
  }>(
    `SELECT username, tenant_id, farm_id, barn_id, device_id, kind, password_hash, created_at, revoked_at
       FROM edge_devices ${opts.includeRevoked === false ? 'WHERE revoked_at IS NULL' : ''}
      ORDER BY tenant_id, farm_id, barn_id, device_id`,
  );
  return res.rows.map((r) => ({
    username: r.username,
    tenantId: r.tenant_id,
    farmId: r.farm_id,
    barnId: r.barn_id,
    deviceId: r.device_id,
    kind: r.kind,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}
