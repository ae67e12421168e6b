/**
 * Device credentials for the farm's MQTT broker. Every change rewrites the broker's password file
 * and ACL from edge_devices and reloads the running broker (SIGHUP), so it takes effect at once.
 *
 *   npx tsx scripts/device-credentials.ts add --tenant <uuid> --farm f1 --barn b1 --device d1 [--kind sensor]
 *   npx tsx scripts/device-credentials.ts list [--all] [--json]
 *   npx tsx scripts/device-credentials.ts revoke <username>
 *   npx tsx scripts/device-credentials.ts render [--out-dir DIR …]   (mosquitto.conf + passwd + acl; used by make services)
 *
 * Settings: EDGE_DATABASE_URL, FARMIQ_HOME, MQTT_URL (port), MQTT_BRIDGE_USERNAME / _PASSWORD
 * (config/settings.ts); MQTT_LISTEN_ADDRESS (listener address, default 127.0.0.1),
 * MOSQUITTO_USER (user the broker runs as, default: whoever renders) and MOSQUITTO_SUBSCRIBE_GUARD
 * (the subscribe guard plugin's path as the broker sees it, default .venv/lib/mosquitto/) for
 * `render` only.
 */
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { Pool } from 'pg';
import { settings } from '../config/settings';
import { deviceKinds, listDevices, provisionDevice, revokeDevice, type DeviceKind } from '../gateways/mqtt-bridge/broker/credentials';
import { brokerPaths, reloadBroker, writeBrokerAuthFiles, writeMosquittoConf, type FileOwner } from '../gateways/mqtt-bridge/broker/render';

interface CommonOptions {
  home: string;
  reload: boolean;
  owner?: string;
}

/** What commander parses from common()'s options (home is resolved later). */
type CommonCliOptions = Omit<CommonOptions, 'home'> & { home?: string };

interface AddCliOptions extends CommonCliOptions {
  tenant: string;
  farm: string;
  barn: string;
  device: string;
  kind: DeviceKind;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

interface ListCliOptions extends CommonCliOptions {
  all?: boolean;
  json?: boolean;
}

interface RenderCliOptions extends CommonCliOptions {
  outDir?: string;
  dataDir?: string;
  pidFile?: string;
  logFile?: string;
  port?: string;
  bind?: string;
  user?: string;
  subscribeGuard?: string;
}

function parseOwner(spec: string | undefined): FileOwner | undefined {
  if (!spec) return undefined;
  const m = /^(\d+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`--owner must be uid:gid, got "${spec}"`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

async function withPool<T>(fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: settings().EDGE_DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** Rewrites passwd + acl where the broker reads them and reloads it; says what happened. */
async function refreshBroker(pool: Pool, opts: CommonOptions & { passwordFile?: string; aclFile?: string; pidFile?: string }): Promise<void> {
  const s = settings();
  const paths = brokerPaths(opts.home);
  const passwordFile = opts.passwordFile ?? paths.passwordFile;
  const aclFile = opts.aclFile ?? paths.aclFile;
  const { devices } = await writeBrokerAuthFiles(pool, {
    passwordFile,
    aclFile,
    bridgeUsername: s.MQTT_BRIDGE_USERNAME,
    bridgePassword: s.MQTT_BRIDGE_PASSWORD,
    owner: parseOwner(opts.owner),
  });
  const pidFile = opts.pidFile ?? paths.pidFile;
  const reloaded = opts.reload && reloadBroker(pidFile);
  console.error(
    `broker auth files: ${passwordFile}, ${aclFile} (${devices} active device${devices === 1 ? '' : 's'} + bridge user); ` +
      (reloaded ? 'broker reloaded' : opts.reload ? `no broker running with pid file ${pidFile}: read at its next start` : 'not reloaded (--no-reload)'),
  );
}

function common(cmd: Command): Command {
  return cmd
    .addOption(new Option('--home <dir>', 'FARMIQ_HOME whose mosquitto/ files to rewrite').default(undefined))
    .option('--no-reload', 'write the files but do not signal the running broker')
    .option('--owner <uid:gid>', 'chown the written files (a broker running as another user)');
}

function home(opts: { home?: string }): string {
  return path.resolve(opts.home ?? settings().FARMIQ_HOME);
}

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  if (!line) throw new Error('--password-stdin: no password on standard input');
  return line;
}

async function main(): Promise<void> {
  const program = new Command().name('device-credentials').description('MQTT credentials of the farm devices (edge_devices)');

  common(
    program
      .command('add')
      .description('provision a device (or give it a new password); prints the password once')
      .requiredOption('--tenant <uuid>', 'tenant id')
      .requiredOption('--farm <id>', 'farm id')
      .requiredOption('--barn <id>', 'barn id')
      .requiredOption('--device <id>', 'device or station id')
      .addOption(new Option('--kind <kind>', 'device kind').choices([...deviceKinds]).default('sensor'))
      .option('--username <name>', 'MQTT username (default <tenant>/<farm>/<barn>/<device>)')
      .option('--password <password>', 'use this password instead of a generated one')
      .option('--password-stdin', 'read the password from the first line of standard input'),
  ).action(async (o: AddCliOptions) => {
    const password: string | undefined = o.passwordStdin ? await readPasswordFromStdin() : o.password;
    await withPool(async (pool) => {
      const creds = await provisionDevice(pool, {
        tenantId: o.tenant,
        farmId: o.farm,
        barnId: o.barn,
        deviceId: o.device,
        kind: o.kind,
        username: o.username,
        password,
      });
      console.log(`username: ${creds.username}`);
      console.log(`password: ${creds.password}`);
      console.error('The password is shown only now; the broker keeps only its hash.');
      await refreshBroker(pool, { ...o, home: home(o) });
    });
  });

  common(program.command('list').description('list provisioned devices').option('--all', 'include revoked devices').option('--json', 'print JSON')).action(
    async (o: ListCliOptions) => {
      await withPool(async (pool) => {
        const devices = (await listDevices(pool, { includeRevoked: Boolean(o.all) })).map(({ passwordHash: _hash, ...d }) => d);
        if (o.json) {
          console.log(JSON.stringify(devices, null, 2));
          return;
        }
        if (devices.length === 0) {
          console.log('no devices');
          return;
        }
        for (const d of devices) {
          const state = d.revokedAt ? `revoked ${d.revokedAt.toISOString()}` : 'active';
          console.log(`${d.username}\t${d.kind}\t${d.tenantId}/${d.farmId}/${d.barnId}/${d.deviceId}\tcreated ${d.createdAt.toISOString()}\t${state}`);
        }
      });
    },
  );

  common(program.command('revoke').description('revoke a device; the broker refuses it from the reload on').argument('<username>')).action(
    async (username: string, o: CommonCliOptions) => {
      await withPool(async (pool) => {
        const revoked = await revokeDevice(pool, username);
        await refreshBroker(pool, { ...o, home: home(o) });
        if (!revoked) {
          console.error(`no active device with username "${username}"`);
          process.exitCode = 1;
        } else {
          console.log(`revoked ${username}`);
        }
      });
    },
  );

  common(
    program
      .command('render')
      .description('write mosquitto.conf (from infra/mosquitto/), passwd and acl; reload the broker if it runs')
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
  ).action(async (o: RenderCliOptions) => {
    const s = settings();
    const h = home(o);
    const paths = brokerPaths(h);
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
    const owner = parseOwner(o.owner);
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
      owner,
    );
    console.error(`broker config: ${files.confFile} (port ${port})`);
    await withPool((pool) => refreshBroker(pool, { ...o, home: h, ...files }));
  });

  await program.parseAsync();
}

main().catch((err) => {
  console.error(`device-credentials: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
