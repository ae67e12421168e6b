/**
 * `farmiq devices`: MQTT credentials of the farm's devices (edge_devices, written only by
 * gateways/mqtt-bridge/broker/credentials.ts). Every change rewrites the broker's password file and
 * ACL from the table and reloads the running broker (SIGHUP), so it takes effect at once. `render`
 * also writes mosquitto.conf: scripts/services.sh runs it before starting the broker.
 *
 * Settings: EDGE_DATABASE_URL, FARMIQ_HOME, MQTT_URL (port), MQTT_BRIDGE_USERNAME / _PASSWORD;
 * for `render` also MQTT_LISTEN_ADDRESS (default 127.0.0.1), MOSQUITTO_USER (default: whoever
 * renders) and MOSQUITTO_SUBSCRIBE_GUARD (default .venv/lib/mosquitto/subscribe_guard.so).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { parse } from 'csv-parse/sync';
import type { Pool } from 'pg';
import { deviceKinds, listDevices, provisionDevice, revokeDevice, type DeviceKind } from '../../gateways/mqtt-bridge/broker/credentials';
import { brokerPaths, reloadBroker, writeBrokerAuthFiles, writeMosquittoConf, type FileOwner } from '../../gateways/mqtt-bridge/broker/render';
import { alarmPublisherLogin } from '../../alarms/local-channels/mqtt-siren';
import { devicePassword } from '../../sync/downlink/downlink-store';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput, notFound } from '../errors';
import { table } from '../output';

interface BrokerOptions {
  home?: string;
  reload: boolean;
  owner?: string;
}

function parseOwner(spec: string | undefined): FileOwner | undefined {
  if (!spec) return undefined;
  const m = /^(\d+):(\d+)$/.exec(spec);
  if (!m) throw invalidInput(`--owner must be uid:gid, got "${spec}"`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

function brokerOptions(cmd: Command): Command {
  return cmd
    .option('--home <dir>', 'FARMIQ_HOME whose mosquitto/ files to rewrite (default FARMIQ_HOME)')
    .option('--no-reload', 'write the files but do not signal the running broker')
    .option('--owner <uid:gid>', 'chown the written files (a broker running as another user)');
}

/** Rewrites passwd + acl where the broker reads them and reloads it; says what happened on stderr. */
async function refreshBroker(
  ctx: CliContext,
  pool: Pool,
  opts: BrokerOptions & { passwordFile?: string; aclFile?: string; pidFile?: string },
): Promise<{ active_devices: number; reloaded: boolean }> {
  const s = ctx.settings();
  const paths = brokerPaths(path.resolve(opts.home ?? s.FARMIQ_HOME));
  const passwordFile = opts.passwordFile ?? paths.passwordFile;
  const aclFile = opts.aclFile ?? paths.aclFile;
  const { devices } = await writeBrokerAuthFiles(pool, {
    passwordFile,
    aclFile,
    bridgeUsername: s.MQTT_BRIDGE_USERNAME,
    bridgePassword: s.MQTT_BRIDGE_PASSWORD,
    alarmPublisher: alarmPublisherLogin(s),
    owner: parseOwner(opts.owner),
  });
  const pidFile = opts.pidFile ?? paths.pidFile;
  const reloaded = opts.reload && reloadBroker(pidFile);
  ctx.out.note(
    `broker auth files: ${passwordFile}, ${aclFile} (${devices} active device${devices === 1 ? '' : 's'} + bridge user); ` +
      (reloaded ? 'broker reloaded' : opts.reload ? `no broker running with pid file ${pidFile}: read at its next start` : 'not reloaded (--no-reload)'),
  );
  return { active_devices: devices, reloaded };
}

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  if (!line) throw invalidInput('--password-stdin: no password on standard input');
  return line;
}

interface ImportRow {
  tenant: string;
  farm: string;
  barn: string;
  device: string;
  kind?: string;
  username?: string;
}

/** The CSV of `devices import`: a header naming at least tenant, farm, barn, device. */
function readImportFile(file: string): ImportRow[] {
  const rows = parse<Record<string, string>>(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
  rows.forEach((r, i) => {
    const missing = ['tenant', 'farm', 'barn', 'device'].filter((c) => !r[c]);
    if (missing.length) throw invalidInput(`${file} line ${i + 2}: no ${missing.join(', ')} (columns: tenant,farm,barn,device[,kind][,username])`);
    if (r.kind && !(deviceKinds as readonly string[]).includes(r.kind))
      throw invalidInput(`${file} line ${i + 2}: kind must be one of ${deviceKinds.join(', ')}`);
  });
  return rows as unknown as ImportRow[];
}

function register(program: Command, ctx: CliContext): void {
  const devices = program.command('devices').description('MQTT credentials of the farm devices (edge database, edge_devices)');

  brokerOptions(
    devices
      .command('add')
      .description('provision a device, or give it a new password; prints the password once')
      .requiredOption('--tenant <uuid>', 'tenant id')
      .requiredOption('--farm <id>', 'farm id')
      .requiredOption('--barn <id>', 'barn id')
      .requiredOption('--device <id>', 'device or station id')
      .addOption(new Option('--kind <kind>', 'device kind').choices([...deviceKinds]).default('sensor'))
      .option('--username <name>', 'MQTT username (default <tenant>/<farm>/<barn>/<device>)')
      .option('--password <password>', 'use this password instead of a generated one')
      .option('--password-stdin', 'read the password from the first line of standard input'),
  ).action(
    async (
      o: BrokerOptions & {
        tenant: string;
        farm: string;
        barn: string;
        device: string;
        kind: DeviceKind;
        username?: string;
        password?: string;
        passwordStdin?: boolean;
      },
    ) => {
      const password = o.passwordStdin ? await readPasswordFromStdin() : o.password;
      await ctx.edge(async (pool) => {
        const creds = await provisionDevice(pool, {
          tenantId: o.tenant,
          farmId: o.farm,
          barnId: o.barn,
          deviceId: o.device,
          kind: o.kind,
          username: o.username,
          password,
        });
        ctx.out.data({ username: creds.username, password: creds.password }, (c) => `username: ${c.username}\npassword: ${c.password}`);
        ctx.out.note('The password is shown only now; the broker keeps only its hash.');
        await refreshBroker(ctx, pool, o);
      });
    },
  );

  brokerOptions(
    devices
      .command('import')
      .description('provision every device of a CSV (tenant,farm,barn,device[,kind][,username]); prints each password once')
      .argument('<csv>', 'the CSV file, with a header line'),
  ).action(async (file: string, o: BrokerOptions) => {
    const rows = readImportFile(file);
    await ctx.edge(async (pool) => {
      const bar = ctx.progress('devices', rows.length);
      const created: { username: string; password: string; tenant_id: string; farm_id: string; barn_id: string; device_id: string; kind: string }[] = [];
      try {
        for (const r of rows) {
          const kind = (r.kind || 'sensor') as DeviceKind;
          const creds = await provisionDevice(pool, {
            tenantId: r.tenant,
            farmId: r.farm,
            barnId: r.barn,
            deviceId: r.device,
            kind,
            username: r.username || undefined,
          });
          created.push({ ...creds, tenant_id: r.tenant, farm_id: r.farm, barn_id: r.barn, device_id: r.device, kind });
          bar.tick();
        }
      } finally {
        bar.stop();
      }
      ctx.out.data(created, (list) => table(list.map((d) => ({ username: d.username, password: d.password, kind: d.kind }))));
      ctx.out.note(`${created.length} device${created.length === 1 ? '' : 's'} provisioned; the passwords are shown only now.`);
      await refreshBroker(ctx, pool, o);
    });
  });

  devices
    .command('list')
    .description('provisioned devices')
    .option('--all', 'include revoked devices')
    .action(async (o: { all?: boolean }) => {
      const list = await ctx.edge((pool) => listDevices(pool, { includeRevoked: Boolean(o.all) }));
      const rows = list.map((d) => ({
        username: d.username,
        tenant_id: d.tenantId,
        farm_id: d.farmId,
        barn_id: d.barnId,
        device_id: d.deviceId,
        kind: d.kind,
        created_at: d.createdAt,
        revoked_at: d.revokedAt,
      }));
      ctx.out.data(rows, (r) =>
        table(
          r.map(({ tenant_id: _t, ...rest }) => rest),
          'no devices',
        ),
      );
    });

  devices
    .command('show')
    .description('one device; for a device the dashboard added (through the downlink), also its password, to set on the device')
    .argument('<username>')
    .action(async (username: string) => {
      await ctx.edge(async (pool) => {
        const device = (await listDevices(pool, { includeRevoked: true })).find((d) => d.username === username);
        if (!device) throw notFound(`no device with username "${username}"`);
        const kept = await devicePassword(pool, username);
        const row = {
          username: device.username,
          tenant_id: device.tenantId,
          farm_id: device.farmId,
          barn_id: device.barnId,
          device_id: device.deviceId,
          kind: device.kind,
          created_at: device.createdAt,
          revoked_at: device.revokedAt,
          // Only the downlink keeps a password (the cloud never sees it); `devices add` prints it once instead.
          password: kept?.password ?? null,
          provisioned_by_command: kept?.commandId ?? null,
        };
        ctx.out.data(row, (r) =>
          Object.entries(r)
            .map(([k, v]) => `${k.padEnd(22)} ${v === null ? '—' : v instanceof Date ? v.toISOString() : String(v)}`)
            .join('\n'),
        );
      });
    });

  brokerOptions(devices.command('revoke').description('revoke a device; the broker refuses it from the reload on').argument('<username>')).action(
    async (username: string, o: BrokerOptions) => {
      await ctx.edge(async (pool) => {
        const revoked = await revokeDevice(pool, username);
        if (!revoked) throw notFound(`no active device with username "${username}"`);
        await refreshBroker(ctx, pool, o);
        ctx.out.data({ username, revoked: true }, () => `revoked ${username}`);
      });
    },
  );

  brokerOptions(
    devices
      .command('render')
      .description('write mosquitto.conf (from infra/mosquitto/), passwd and acl; reload the broker if it runs (make services runs it)')
      .option('--out-dir <dir>', 'where mosquitto.conf, passwd and acl go (default FARMIQ_HOME/mosquitto)')
      .option('--data-dir <dir>', 'persistence directory (default <out-dir>/data)')
      .option('--pid-file <file>', 'pid file (default FARMIQ_HOME/pids/mosquitto.pid)')
      .option('--log-file <file>', 'log file (default FARMIQ_HOME/logs/mosquitto.log)')
      .option('--port <port>', 'listener port (default: the port of MQTT_URL)')
      .option('--bind <address>', 'listener address (default MQTT_LISTEN_ADDRESS or 127.0.0.1)')
      .option('--user <name>', 'user the broker runs as when started as root (default MOSQUITTO_USER or the current user)')
      .option(
        '--subscribe-guard <file>',
        'subscribe guard plugin (.so) as the broker sees it (default MOSQUITTO_SUBSCRIBE_GUARD or .venv/lib/mosquitto/subscribe_guard.so)',
      ),
  ).action(
    async (
      o: BrokerOptions & {
        outDir?: string;
        dataDir?: string;
        pidFile?: string;
        logFile?: string;
        port?: string;
        bind?: string;
        user?: string;
        subscribeGuard?: string;
      },
    ) => {
      const s = ctx.settings();
      const paths = brokerPaths(path.resolve(o.home ?? s.FARMIQ_HOME));
      const outDir = path.resolve(o.outDir ?? paths.dir);
      const files = {
        confFile: path.join(outDir, 'mosquitto.conf'),
        passwordFile: path.join(outDir, 'passwd'),
        aclFile: path.join(outDir, 'acl'),
        dataDir: path.resolve(o.dataDir ?? path.join(outDir, 'data')),
        pidFile: path.resolve(o.pidFile ?? paths.pidFile),
        logFile: path.resolve(o.logFile ?? paths.logFile),
      };
      const port = Number(o.port ?? (new URL(s.MQTT_URL).port || 1883));
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidInput(`--port must be 1-65535, got ${o.port}`);
      await writeMosquittoConf(
        files.confFile,
        {
          port,
          bindAddress: o.bind ?? process.env.MQTT_LISTEN_ADDRESS ?? '127.0.0.1',
          runAsUser: o.user ?? process.env.MOSQUITTO_USER ?? os.userInfo().username,
          bridgeUsername: s.MQTT_BRIDGE_USERNAME,
          subscribeGuardPlugin: o.subscribeGuard ?? (process.env.MOSQUITTO_SUBSCRIBE_GUARD || undefined),
          ...files,
        },
        parseOwner(o.owner),
      );
      ctx.out.note(`broker config: ${files.confFile} (port ${port})`);
      const broker = await ctx.edge((pool) => refreshBroker(ctx, pool, { ...o, ...files }));
      if (ctx.out.json) ctx.out.data({ conf_file: files.confFile, password_file: files.passwordFile, acl_file: files.aclFile, port, ...broker }, () => '');
    },
  );
}

export const group: CommandGroup = { name: 'devices', register };
