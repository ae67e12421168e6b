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
import { alarmPublisherLogin } from '../../../alarms/local-channels/mqtt-siren';
import { assertBrokerUsername, hashPassword, listDevices, type RegisteredDevice } from './credentials';

export const mosquittoTemplatePath = path.resolve(__dirname, '..', '..', '..', 'infra', 'mosquitto', 'mosquitto.conf.template');

/**
 * Where scripts/setup.sh builds the broker's subscribe guard plugin
 * (infra/mosquitto/subscribe-guard/): the checkout's .venv, on a farm server /opt/farmiq/.venv.
 * Containers load it from their own image (docker-compose.yml passes that path).
 */
export const defaultSubscribeGuardPath = path.resolve(__dirname, '..', '..', '..', '.venv', 'lib', 'mosquitto', 'subscribe_guard.so');

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
  /**
   * MQTT_BRIDGE_USERNAME: the only login whose SUBSCRIBEs the subscribe guard lets through to the
   * acl_file; every other client's are refused in the SUBACK.
   */
  bridgeUsername: string;
  /** The subscribe guard's .so as the broker sees it; defaults to defaultSubscribeGuardPath. */
  subscribeGuardPlugin?: string;
}

function confValue(name: string, value: string): string {
  // Mosquitto splits option values on whitespace, so a path with a space would be cut silently.
  if (!value || /\s/.test(value)) throw new Error(`mosquitto.conf ${name} must be non-empty without whitespace, got "${value}"`);
  return value;
}

export function renderMosquittoConf(opts: MosquittoConfOptions, template = fs.readFileSync(mosquittoTemplatePath, 'utf8')): string {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new Error(`invalid broker port ${opts.port}`);
  assertBrokerUsername(opts.bridgeUsername);
  const values: Record<string, string> = {
    RUN_AS_USER: confValue('user', opts.runAsUser ?? os.userInfo().username),
    PID_FILE: confValue('pid_file', opts.pidFile),
    PORT: String(opts.port),
    BIND_ADDRESS: confValue('listener address', opts.bindAddress ?? '127.0.0.1'),
    PASSWORD_FILE: confValue('password_file', opts.passwordFile),
    ACL_FILE: confValue('acl_file', opts.aclFile),
    DATA_DIR: confValue('persistence_location', opts.dataDir.replace(/\/+$/, '')),
    LOG_FILE: confValue('log_dest file', opts.logFile),
    SUBSCRIBE_GUARD_PLUGIN: confValue('plugin', opts.subscribeGuardPlugin ?? defaultSubscribeGuardPath),
    BRIDGE_USERNAME: confValue('plugin_opt_bridge_username', opts.bridgeUsername),
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
 * Topic filters a device may receive messages on. A siren (kind `siren`) reads its farm's alarm
 * sirens, every barn's and the farm-wide `_farm` one: one relay box often drives the horns of
 * several houses and the yard, and the farm is the boundary that matters (another farm's or
 * tenant's alarms are never delivered). A siren for one barn subscribes to that barn's topic.
 * Every other kind only publishes and reads nothing.
 *
 * Two checks guard a device's subscriptions on Mosquitto 2.0 (verified against the installed
 * 2.0.11, test/edge/broker-acl.test.ts, test/edge/siren-subscribe.test.ts). The acl_file's read
 * rules are applied to each message, live or retained, at delivery; its SUBSCRIBE check grants
 * everything ('#', '+/…', other devices' topics, even with a `topic deny #` line). So the broker
 * loads the subscribe guard plugin (infra/mosquitto/subscribe-guard/), which refuses every
 * SUBSCRIBE except the bridge's and siren filters (`farmiq/<t>/<f>/<b|+>/alarm/siren`, no other
 * wildcard): a device gets 0x87 (MQTT 5) / 0x80 (MQTT 3.1.1) in the SUBACK for anything else,
 * and the read rules here decide what a siren filter delivers (nothing to a sensor, nothing of
 * another farm to a siren). The guard admits nothing else, so writeBrokerAuthFiles refuses any
 * other device read rule (isSirenFilter): a downlink elsewhere needs the guard extended first.
 */
export function deviceReadFilters(device: AclDevice): string[] {
  return device.kind === 'siren' ? [farmSirenFilter(device)] : [];
}

/** Every siren topic of the device's farm (sirenTopic lowercases the tenant, so does this). */
export function farmSirenFilter(d: Pick<AclDevice, 'tenantId' | 'farmId'>): string {
  return `farmiq/${d.tenantId.toLowerCase()}/${d.farmId}/+/alarm/siren`;
}

/**
 * A filter the subscribe guard lets a device subscribe to: `farmiq/<tenant>/<farm>/<barn|+>/alarm/siren`
 * with no other wildcard (the same test as siren_filter() in subscribe_guard.c).
 */
export function isSirenFilter(filter: string): boolean {
  const levels = filter.split('/');
  const plain = (l: string) => l.length > 0 && !/[+#]/.test(l);
  return (
    levels.length === 6 &&
    levels[0] === 'farmiq' &&
    plain(levels[1]) &&
    plain(levels[2]) &&
    (levels[3] === '+' || plain(levels[3])) &&
    levels[4] === 'alarm' &&
    levels[5] === 'siren'
  );
}

/** True if the filter is the siren filter of the device's own farm or one of its barns. */
function ownFarmSiren(filter: string, d: AclDevice): boolean {
  const levels = filter.split('/');
  return isSirenFilter(filter) && levels[1] === d.tenantId.toLowerCase() && levels[2] === d.farmId && !/\s/.test(filter);
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
    '# change devices with farmiq devices, which rewrites this file and reloads the broker.',
    '',
    '# The ingress bridge reads every device topic and owns its status / last-will topics.',
    `user ${bridgeUsername}`,
    'topic read iot/#',
    'topic readwrite farmiq/bridge/#',
    // The bridge reads every alarm siren (diagnostics); sirens and relays log in as devices of
    // kind siren, which read their own farm's.
    `topic read ${alarmSirenFilter}`,
    '',
    "# Devices publish under their own prefix only; sirens publish nothing and read their farm's",
    '# alarm sirens. The subscribe guard plugin (mosquitto.conf) refuses every device SUBSCRIBE but',
    '# a siren filter, and these read rules decide what a siren filter delivers.',
  ];
  for (const d of devices) {
    lines.push('', `# ${d.kind} ${d.tenantId}/${d.farmId}/${d.barnId}/${d.deviceId}`, `user ${d.username}`);
    if (d.kind !== 'siren') for (const filter of devicePublishFilters(d)) lines.push(`topic write ${filter}`);
    for (const filter of readFilters(d)) {
      if (!underOwnPrefix(filter, d) && !ownFarmSiren(filter, d)) {
        throw new Error(`read filter "${filter}" of device ${d.username} is not under the device's own topic prefix, nor its farm's siren filter`);
      }
      lines.push(`topic read ${filter}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Every alarm siren topic (alarms/local-channels/mqtt-siren.ts): farmiq/<tenant>/<farm>/<barn|_farm>/alarm/siren. */
export const alarmSirenFilter = 'farmiq/+/+/+/alarm/siren';

export interface BrokerAuthOptions {
  passwordFile: string;
  aclFile: string;
  bridgeUsername: string;
  bridgePassword: string;
  /**
   * The edge worker's login (alarmPublisherLogin: MQTT_ALARM_USERNAME, a password derived from the
   * bridge's), which may write the alarm siren topics and nothing else (its own login, so it never
   * takes over the bridge's session).
   */
  alarmPublisher?: { username: string; password: string };
  /**
   * Logins for tests: connect-only (the test broker's reload probe), or with `topic write` rules
   * on the given filters (never read rules).
   */
  extraUsers?: { username: string; password: string; write?: string[] }[];
  /** chown the files to this owner (a broker running as another user, e.g. in a container). */
  owner?: FileOwner;
}

/** Writes the password file and ACL for every device that is not revoked, plus the bridge user. */
export async function writeBrokerAuthFiles(pool: Pool, opts: BrokerAuthOptions): Promise<{ devices: number }> {
  assertBrokerUsername(opts.bridgeUsername);
  const devices = await listDevices(pool, { includeRevoked: false });
  const clash = devices.find((d) => d.username === opts.bridgeUsername);
  if (clash)
    throw new Error(
      `device ${clash.tenantId}/${clash.farmId}/${clash.barnId}/${clash.deviceId} uses the bridge's username "${opts.bridgeUsername}"; revoke it`,
    );
  // The subscribe guard admits only siren filters from devices: any other read rule would be a
  // downlink no device could subscribe to. Extend the guard first (see deviceReadFilters).
  const reader = devices.find((d) => deviceReadFilters(d).some((f) => !isSirenFilter(f)));
  if (reader)
    throw new Error(
      `device ${reader.username} has read filters the broker's subscribe guard refuses (it admits siren filters only, infra/mosquitto/subscribe-guard/)`,
    );
  const passwd = [`${opts.bridgeUsername}:${await hashPassword(opts.bridgeUsername, opts.bridgePassword)}`];
  for (const u of opts.extraUsers ?? []) passwd.push(`${u.username}:${await hashPassword(u.username, u.password)}`);
  const alarms = opts.alarmPublisher;
  if (alarms) {
    assertBrokerUsername(alarms.username);
    if (alarms.username === opts.bridgeUsername || devices.some((d) => d.username === alarms.username))
      throw new Error(`the alarm publisher's username "${alarms.username}" clashes with the bridge or a device`);
    passwd.push(`${alarms.username}:${await hashPassword(alarms.username, alarms.password)}`);
  }
  for (const d of devices) passwd.push(`${d.username}:${d.passwordHash}`);
  await writeFileAtomic(opts.passwordFile, `${passwd.join('\n')}\n`, 0o600, opts.owner);
  let acl = renderAcl(devices, opts.bridgeUsername);
  if (alarms)
    acl += [
      '',
      '# The edge worker publishes the alarm sirens (retained), and nothing else.',
      `user ${alarms.username}`,
      `topic write ${alarmSirenFilter}`,
      '',
    ].join('\n');
  for (const u of opts.extraUsers ?? []) {
    if (!u.write?.length) continue;
    assertBrokerUsername(u.username);
    if (u.username === opts.bridgeUsername || devices.some((d) => d.username === u.username))
      throw new Error(`extra user "${u.username}" clashes with the bridge or a device`);
    for (const f of u.write) if (!f || /\s/.test(f)) throw new Error(`invalid topic filter "${f}" for extra user ${u.username}`);
    acl += ['', '# extra login (tests)', `user ${u.username}`, ...u.write.map((f) => `topic write ${f}`), ''].join('\n');
  }
  await writeFileAtomic(opts.aclFile, acl, 0o600, opts.owner);
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

/**
 * After a change to edge_devices: rewrites this install's password file and ACL
 * ($FARMIQ_HOME/mosquitto) and reloads its broker, so the change takes effect at once.
 */
export async function refreshBrokerAuth(
  pool: Pool,
  s: { FARMIQ_HOME: string; MQTT_BRIDGE_USERNAME: string; MQTT_BRIDGE_PASSWORD: string; MQTT_ALARM_USERNAME?: string },
): Promise<{ devices: number; reloaded: boolean }> {
  const paths = brokerPaths(s.FARMIQ_HOME);
  const { devices } = await writeBrokerAuthFiles(pool, {
    passwordFile: paths.passwordFile,
    aclFile: paths.aclFile,
    bridgeUsername: s.MQTT_BRIDGE_USERNAME,
    bridgePassword: s.MQTT_BRIDGE_PASSWORD,
    ...(s.MQTT_ALARM_USERNAME ? { alarmPublisher: alarmPublisherLogin({ ...s, MQTT_ALARM_USERNAME: s.MQTT_ALARM_USERNAME }) } : {}),
  });
  return { devices, reloaded: reloadBroker(paths.pidFile) };
}
