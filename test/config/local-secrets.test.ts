/**
 * Per-install secrets of the local stack (issue 8, item 5): scripts/lib.sh generates
 * $FARMIQ_HOME/secrets.env once (mode 0600, strong random values, one file even when scripts start
 * at once), reuses it, lets the environment win, and leaves production alone; config/settings.ts
 * reads the same file. Then, against the servers `make services` runs: they take this install's
 * secrets and refuse the old fixed development ones.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { Client } from 'pg';
import { readLocalSecrets } from '../../config/local-secrets';
import { checkProductionSecrets, knownDevelopmentValues } from '../../config/secrets';
import { loadSettings, settings } from '../../config/settings';
import { testAmqpUrl } from '../support/amqp';
import { farmiqHome, localSecrets, repoRoot, testCloudAppDatabaseUrl, testEdgeDatabaseUrl } from '../support/stack';

const run = promisify(execFile);

const generatedKeys = [
  'EDGE_DATABASE_URL',
  'CLOUD_DATABASE_URL',
  'CLOUD_APP_DATABASE_URL',
  'AMQP_URL',
  'MQTT_BRIDGE_PASSWORD',
  'S3_SECRET_KEY',
  'AUTH_JWT_SECRET',
  'INTERNAL_SERVICE_TOKEN',
  'TEST_EDGE_DATABASE_URL',
  'TEST_CLOUD_DATABASE_URL',
  'TEST_CLOUD_APP_DATABASE_URL',
  'TEST_AMQP_URL',
];

/** Sources scripts/lib.sh with only `env` (no inherited secrets) and prints the named variables. */
async function sourceLib(env: Record<string, string>, names: string[]): Promise<{ values: Record<string, string>; stderr: string }> {
  const script = `source scripts/lib.sh; for n in ${names.join(' ')}; do printf '%s=%s\\n' "$n" "\${!n:-}"; done`;
  const { stdout, stderr } = await run('bash', ['-c', script], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...env },
  });
  const values: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const i = line.indexOf('=');
    values[line.slice(0, i)] = line.slice(i + 1);
  }
  return { values, stderr };
}

describe('scripts/lib.sh generates the install secrets', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-home-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test('once, mode 0600, every secret strong and not a development value; then reused', async () => {
    const first = await sourceLib({ FARMIQ_HOME: home }, generatedKeys);
    const file = path.join(home, 'secrets.env');
    expect(first.stderr).toContain(`generated ${file}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = readLocalSecrets({ FARMIQ_HOME: home });
    expect(Object.keys(stored).sort()).toEqual([...generatedKeys].sort());
    // The scripts export exactly what the file holds.
    for (const k of generatedKeys) expect(first.values[k]).toBe(stored[k]);
    // Strong enough for production's own checks, and distinct per secret.
    expect(checkProductionSecrets(stored, 'all')).toEqual([]);
    const lower = new Set(knownDevelopmentValues.map((v) => v.toLowerCase()));
    for (const k of ['MQTT_BRIDGE_PASSWORD', 'S3_SECRET_KEY', 'AUTH_JWT_SECRET', 'INTERNAL_SERVICE_TOKEN'])
      expect(lower.has(stored[k].toLowerCase())).toBe(false);
    // One role, one password: the test databases use the same farmiq and farmiq_app passwords.
    expect(new URL(stored.TEST_EDGE_DATABASE_URL).password).toBe(new URL(stored.EDGE_DATABASE_URL).password);
    expect(new URL(stored.TEST_CLOUD_APP_DATABASE_URL).password).toBe(new URL(stored.CLOUD_APP_DATABASE_URL).password);
    expect(new URL(stored.TEST_AMQP_URL).password).toBe(new URL(stored.AMQP_URL).password);

    const second = await sourceLib({ FARMIQ_HOME: home }, generatedKeys);
    expect(second.stderr).not.toContain('generated');
    expect(second.values).toEqual(first.values);
  });

  test('scripts starting at once end up with one file and the same secrets', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => sourceLib({ FARMIQ_HOME: home }, ['AUTH_JWT_SECRET', 'EDGE_DATABASE_URL'])));
    const stored = readLocalSecrets({ FARMIQ_HOME: home });
    for (const r of runs) expect(r.values).toEqual({ AUTH_JWT_SECRET: stored.AUTH_JWT_SECRET, EDGE_DATABASE_URL: stored.EDGE_DATABASE_URL });
    expect(fs.readdirSync(home).filter((f) => f.includes('secrets'))).toEqual(['secrets.env']);
  });

  test('a value in the environment wins over the file', async () => {
    const { values } = await sourceLib({ FARMIQ_HOME: home, AUTH_JWT_SECRET: 'from-the-environment' }, ['AUTH_JWT_SECRET']);
    expect(values.AUTH_JWT_SECRET).toBe('from-the-environment');
    expect(readLocalSecrets({ FARMIQ_HOME: home }).AUTH_JWT_SECRET).not.toBe('from-the-environment');
  });

  test('config/settings.ts reads the same file (outside production)', async () => {
    await sourceLib({ FARMIQ_HOME: home }, []);
    const stored = readLocalSecrets({ FARMIQ_HOME: home });
    const s = loadSettings({ FARMIQ_HOME: home });
    expect(s.AUTH_JWT_SECRET).toBe(stored.AUTH_JWT_SECRET);
    expect(s.CLOUD_APP_DATABASE_URL).toBe(stored.CLOUD_APP_DATABASE_URL);
    expect(s.MQTT_BRIDGE_PASSWORD).toBe(stored.MQTT_BRIDGE_PASSWORD);
  });

  test('production mode neither creates nor reads it', async () => {
    await sourceLib({ FARMIQ_HOME: home, NODE_ENV: 'production' }, []);
    await sourceLib({ FARMIQ_HOME: home, FARMIQ_ENV: 'production' }, []);
    expect(fs.existsSync(path.join(home, 'secrets.env'))).toBe(false);
  });

  test('a file left readable by others is made private again', async () => {
    await sourceLib({ FARMIQ_HOME: home }, []);
    const file = path.join(home, 'secrets.env');
    fs.chmodSync(file, 0o644);
    const { stderr } = await sourceLib({ FARMIQ_HOME: home }, []);
    expect(stderr).toContain('now mode 0600');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

/**
 * The servers of this checkout (make services): they were given this install's secrets, so the
 * fixed development credentials that every clone of the repository knows no longer open them.
 */
describe('the running local stack uses this install’s secrets', () => {
  test('the suite reads this install’s file', () => {
    expect(fs.existsSync(path.join(farmiqHome, 'secrets.env'))).toBe(true);
    expect(localSecrets).toEqual(readLocalSecrets());
    expect(testEdgeDatabaseUrl).toBe(process.env.TEST_EDGE_DATABASE_URL || localSecrets.TEST_EDGE_DATABASE_URL);
  });

  /** 'ok', or the SQLSTATE (or else the message) of the refusal. */
  const pgLogin = async (url: string): Promise<string> => {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? (err as Error).message;
    } finally {
      await c.end().catch(() => {});
    }
  };
  const withPassword = (url: string, password: string) => {
    const u = new URL(url);
    u.password = password;
    return u.toString();
  };

  test('Postgres: farmiq and farmiq_app log in with this install’s passwords, not with the development ones', async () => {
    expect(await pgLogin(testEdgeDatabaseUrl)).toBe('ok');
    expect(await pgLogin(testCloudAppDatabaseUrl)).toBe('ok');
    expect(await pgLogin(withPassword(testEdgeDatabaseUrl, 'farmiq'))).toBe('28P01'); // invalid_password
    expect(await pgLogin(withPassword(testCloudAppDatabaseUrl, 'farmiq_app'))).toBe('28P01');
  });

  test('RabbitMQ: the farmiq user logs in with this install’s password, not with farmiq', async () => {
    const conn = await amqp.connect(testAmqpUrl);
    await conn.close();
    await expect(amqp.connect(withPassword(testAmqpUrl, 'farmiq'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  test('S3 (rclone): this install’s key pair works, the development secret key does not', async () => {
    const s = settings();
    const list = (secretAccessKey: string) =>
      new S3Client({ endpoint: s.S3_ENDPOINT, region: s.S3_REGION, forcePathStyle: true, credentials: { accessKeyId: s.S3_ACCESS_KEY, secretAccessKey } }).send(
        new ListObjectsV2Command({ Bucket: s.S3_BUCKET, MaxKeys: 1 }),
      );
    await expect(list(s.S3_SECRET_KEY)).resolves.toBeDefined();
    await expect(list('farmiq-edge-dev-secret')).rejects.toThrow();
  });

  test('Mosquitto: the bridge login refuses the development password', async () => {
    const s = settings();
    expect(s.MQTT_BRIDGE_PASSWORD).not.toBe('farmiq-bridge-dev-secret');
    const passwd = fs.readFileSync(path.join(farmiqHome, 'mosquitto', 'passwd'), 'utf8');
    expect(passwd).toMatch(new RegExp(`^${s.MQTT_BRIDGE_USERNAME}:`, 'm'));
    const connected = await new Promise<boolean>((resolve) => {
      let accepted = false;
      const c = mqtt.connect(s.MQTT_URL, {
        username: s.MQTT_BRIDGE_USERNAME,
        password: 'farmiq-bridge-dev-secret',
        reconnectPeriod: 0,
        connectTimeout: 5000,
        clientId: `farmiq-secret-probe-${process.pid}`,
      });
      c.on('error', () => {});
      c.once('connect', () => {
        accepted = true;
        c.end(true);
      });
      c.once('close', () => resolve(accepted));
    });
    expect(connected).toBe(false);
  });
});
