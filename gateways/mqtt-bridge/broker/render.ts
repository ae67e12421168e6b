/**
 * Renders the farm broker's files: mosquitto.conf from the project template
 * (infra/mosquitto/mosquitto.conf.template), and the password file and ACL from edge_devices.
 * The same code renders the `make up` broker, each integration test's private broker and a farm
 * server's broker, so all three run one configuration.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { devicePublishFilters } from '../../../domain/contracts/topics';
import { assertBrokerUsername, hashPassword, listDevices, type RegisteredDevice } from './credentials';

export const mosquittoTemplatePath = path.resolve(__dirname, '..', '..', '..', 'infra', 'mosquitto', 'mosquitto.conf.template');

/** Where the local stack keeps the broker's files under FARMIQ_HOME (scripts/lib.sh uses the same). */
export function brokerPaths(farmiqHome: string) {
  const dir = path.join(farmiqHome, 'mosquitto');
  return {
    dir,
    confFile: path.join(dir, 'mosquitto.conf'),
    passwordFile: path.join(dir, 'passwd'),
    aclFile: path.join(dir, 'acl'),
    dataDir: path.join(dir, 'data'),
    pidFile: path.join(farmiqHome, 'pids', 'mosquitto.pid'),
    logFile: path.join(farmiqHome, 'logs', 'mosquitto.log'),
  };
}

export interface MosquittoConfOptions {
  port: number;
  /** Address the listener binds; 127.0.0.1 unless devices connect over the farm LAN. */
  bindAddress?: string;
  dataDir: string;
  passwordFile: string;
  aclFile: string;
  pidFile: string;
  logFile: string;
  /** The user Mosquitto keeps (or drops to) when started as root; defaults to the current user. */
  runAsUser?: string;
}

function confValue(name: string, value: string): string {
  // Mosquitto splits option values on whitespace, so a path with a space would be cut silently.
  if (!value || /\s/.test(value)) throw new Error(`mosquitto.conf ${name} must be non-empty without whitespace, got "${value}"`);
  return value;
}

export function renderMosquittoConf(opts: MosquittoConfOptions, template = fs.readFileSync(mosquittoTemplatePath, 'utf8')): string {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new Error(`invalid broker port ${opts.port}`);
  const values: Record<string, string> = {
    RUN_AS_USER: confValue('user', opts.runAsUser ?? os.userInfo().username),
    PID_FILE: confValue('pid_file', opts.pidFile),
    PORT: String(opts.port),
    BIND_ADDRESS: confValue('listener address', opts.bindAddress ?? '127.0.0.1'),
    PASSWORD_FILE: confValue('password_file', opts.passwordFile),
    ACL_FILE: confValue('acl_file', opts.aclFile),
    DATA_DIR: confValue('persistence_location', opts.dataDir.replace(/\/+$/, '')),
    LOG_FILE: confValue('log_dest file', opts.logFile),
  };
  const rendered = template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`mosquitto template uses unknown placeholder ${whole}`);
    return v;
  });
  return rendered;
}

export interface FileOwner {
  uid: number;
  gid: number;
}

/** Write-then-rename, so a broker reloading at that moment reads the old file or the new one. */
async function writeFileAtomic(file: string, content: string, mode: number, owner?: FileOwner): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, content, { mode });
  await fsp.chmod(tmp, mode);
  if (owner) await fsp.chown(tmp, owner.uid, owner.gid);
  await fsp.rename(tmp, file);
}

export async function writeMosquittoConf(file: string, opts: MosquittoConfOptions, owner?: FileOwner): Promise<void> {
  await writeFileAtomic(file, renderMosquittoConf(opts), 0o644, owner);
}

type AclDevice = Pick<RegisteredDevice, 'username' | 'tenantId' | 'farmId' | 'barnId' | 'deviceId' | 'kind'>;

/**
 * Topic filters a device may receive messages on: none today, devices only publish. A downlink
 * (e.g. a command topic per device) is added here, and must stay within the device's own
 * `iot/<family>/<tenant>/<farm>/<barn>/<device>` prefix (renderAcl refuses anything else).
 *
 * What a read grant does and does not do on Mosquitto 2.0.11 (verified against the installed
 * broker, test/edge/broker-acl.test.ts): the acl_file check answers "allowed" to every SUBSCRIBE,
 * whatever the filter ('#', '+/…', other devices' topics, even with a `topic deny #` line), so the
 * SUBACK always grants (0x01). The read rules are applied to each message at delivery, live and
 * retained alike, so a device receives nothing outside its read filters. A refusal in the SUBACK
 * (0x87) takes the dynamic-security plugin, which keeps its own client list and does not re-read
 * it on SIGHUP, so it would replace this file-and-SIGHUP model with an admin API; not worth it
 * while nothing can be delivered anyway.
 */
export function deviceReadFilters(_device: AclDevice): string[] {
  return [];
}

/** True if the filter is `iot/<family>/<tenant>/<farm>/<barn>/<device>` of this device or below it. */
function underOwnPrefix(filter: string, d: AclDevice): boolean {
  const levels = filter.split('/');
  const [root, family, ...address] = levels;
  return (
    levels.length >= 6 &&
    root === 'iot' &&
    /^[A-Za-z0-9._:-]+$/.test(family) &&
    [d.tenantId, d.farmId, d.barnId, d.deviceId].every((part, i) => address[i] === part) &&
    !/\s/.test(filter)
  );
}

export function renderAcl(devices: AclDevice[], bridgeUsername: string, readFilters: (d: AclDevice) => string[] = deviceReadFilters): string {
  const lines = [
    '# Generated by FarmIQ from edge_devices (gateways/mqtt-bridge/broker/render.ts). Do not edit:',
    '# change devices with scripts/device-credentials.ts, which rewrites this file and reloads the broker.',
    '',
    '# The ingress bridge reads every device topic and owns its status / last-will topics.',
    `user ${bridgeUsername}`,
    'topic read iot/#',
    'topic readwrite farmiq/bridge/#',
    '',
    '# Devices publish under their own prefix only. They have no read rules: Mosquitto grants their',
    '# SUBSCRIBEs (acl_file does not check subscriptions) but delivers them nothing.',
  ];
  for (const d of devices) {
    lines.push('', `# ${d.kind} ${d.tenantId}/${d.farmId}/${d.barnId}/${d.deviceId}`, `user ${d.username}`);
    for (const filter of devicePublishFilters(d)) lines.push(`topic write ${filter}`);
    for (const filter of readFilters(d)) {
      if (!underOwnPrefix(filter, d)) {
        throw new Error(`read filter "${filter}" of device ${d.username} is not under the device's own topic prefix`);
      }
      lines.push(`topic read ${filter}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface BrokerAuthOptions {
  passwordFile: string;
  aclFile: string;
  bridgeUsername: string;
  bridgePassword: string;
  /** Connect-only users with no topic rights (the test broker's reload probe). */
  extraUsers?: { username: string; password: string }[];
  /** chown the files to this owner (a broker running as another user, e.g. in a container). */
  owner?: FileOwner;
}

/** Writes the password file and ACL for every device that is not revoked, plus the bridge user. */
export async function writeBrokerAuthFiles(pool: Pool, opts: BrokerAuthOptions): Promise<{ devices: number }> {
  assertBrokerUsername(opts.bridgeUsername);
  const devices = await listDevices(pool, { includeRevoked: false });
  const clash = devices.find((d) => d.username === opts.bridgeUsername);
  if (clash) throw new Error(`device ${clash.tenantId}/${clash.farmId}/${clash.barnId}/${clash.deviceId} uses the bridge's username "${opts.bridgeUsername}"; revoke it`);
  const passwd = [`${opts.bridgeUsername}:${await hashPassword(opts.bridgeUsername, opts.bridgePassword)}`];
  for (const u of opts.extraUsers ?? []) passwd.push(`${u.username}:${await hashPassword(u.username, u.password)}`);
  for (const d of devices) passwd.push(`${d.username}:${d.passwordHash}`);
  await writeFileAtomic(opts.passwordFile, `${passwd.join('\n')}\n`, 0o600, opts.owner);
  await writeFileAtomic(opts.aclFile, renderAcl(devices, opts.bridgeUsername), 0o600, opts.owner);
  return { devices: devices.length };
}

/** The pid in the file if that process is alive and is a mosquitto. */
export function runningBrokerPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // A stale pid file may name an unrelated process by now; never signal that.
  try {
    if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'mosquitto') return undefined;
  } catch {
    // No /proc (not Linux): trust the pid file.
  }
  return pid;
}

/**
 * Asks the running broker to re-read its password file and ACL (SIGHUP). Returns false when no
 * broker runs with that pid file; the files are then read at its next start. The reload happens
 * asynchronously in the broker's event loop, within milliseconds.
 */
export function reloadBroker(pidFile: string): boolean {
  const pid = runningBrokerPid(pidFile);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGHUP');
  return true;
}
