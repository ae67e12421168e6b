/**
 * Production mode refuses development secrets (issue 8, item 5): with NODE_ENV=production (what
 * the systemd units and the container image set) or FARMIQ_ENV=production, every secret setting
 * of the process's side must be set explicitly, not be a development value or a placeholder, and
 * be strong; one error names every offending setting and never a value. An edge process is not
 * asked for cloud secrets, nor a cloud process for edge ones. Checked on loadSettings() and on the
 * real entry points started as processes.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadSettings } from '../../config/settings';
import { checkProductionSecrets, knownDevelopmentValues, notSecretSettings, secretSettings, secretSettingsOf, type ProcessRole } from '../../config/secrets';
import { repoRoot } from '../support/stack';

const strong = () => randomBytes(32).toString('hex');
const edgeNames = ['EDGE_DATABASE_URL', 'MQTT_BRIDGE_PASSWORD', 'S3_SECRET_KEY'];
const cloudNames = ['CLOUD_DATABASE_URL', 'CLOUD_APP_DATABASE_URL', 'AMQP_URL', 'AUTH_JWT_SECRET', 'INTERNAL_SERVICE_TOKEN'];

/** Strong, distinct, explicit values for one side. */
function secretsOf(side: 'edge' | 'cloud'): Record<string, string> {
  return side === 'edge'
    ? {
        EDGE_DATABASE_URL: `postgres://farmiq:${strong()}@db.farm.local:5432/farmiq_edge`,
        MQTT_BRIDGE_PASSWORD: strong(),
        S3_SECRET_KEY: strong(),
      }
    : {
        CLOUD_DATABASE_URL: `postgres://farmiq:${strong()}@db.cloud.local:5432/farmiq_cloud`,
        CLOUD_APP_DATABASE_URL: `postgres://farmiq_app:${strong()}@db.cloud.local:5432/farmiq_cloud`,
        AMQP_URL: `amqp://farmiq:${strong()}@mq.cloud.local:5672/farmiq`,
        AUTH_JWT_SECRET: strong(),
        INTERNAL_SERVICE_TOKEN: strong(),
      };
}

/** No local secrets file: a temp path that does not exist. */
const noSecretsFile = { FARMIQ_SECRETS_FILE: path.join(os.tmpdir(), `farmiq-no-secrets-${process.pid}.env`) };

function problemsOf(env: Record<string, string | undefined>): ConfigError | undefined {
  try {
    loadSettings({ ...noSecretsFile, ...env });
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
}

const named = (err: ConfigError | undefined) => (err ? err.problems.map((p) => p.setting).sort() : []);

describe('production mode', () => {
  test('NODE_ENV=production with the development defaults names every cloud secret at once, never a value', () => {
    const env = {
      NODE_ENV: 'production',
      FARMIQ_ROLE: 'cloud',
      AUTH_JWT_SECRET: 'farmiq-dev-jwt-secret-change-me',
      INTERNAL_SERVICE_TOKEN: 'farmiq-dev-internal-token-change-me',
      CLOUD_DATABASE_URL: 'postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud',
      CLOUD_APP_DATABASE_URL: 'postgres://farmiq_app:farmiq_app@127.0.0.1:5432/farmiq_cloud',
      AMQP_URL: 'amqp://farmiq:farmiq@127.0.0.1:5672/farmiq',
    };
    const err = problemsOf(env);
    expect(named(err)).toEqual([...cloudNames].sort());
    expect(err!.message).toMatch(/production mode \(NODE_ENV=production; FARMIQ_ROLE=cloud\)/);
    for (const value of ['farmiq-dev-jwt-secret-change-me', 'farmiq-dev-internal-token-change-me', 'farmiq:farmiq', 'farmiq_app:farmiq_app']) {
      expect(err!.message).not.toContain(value);
    }
  });

  test('unset secrets are named as unset: the built-in defaults never count in production', () => {
    const err = problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'edge' });
    expect(named(err)).toEqual([...edgeNames].sort());
    for (const p of err!.problems) expect(p.message).toMatch(/not set/);
  });

  test('FARMIQ_ENV=production is the switch too; FARMIQ_ENV=development cannot switch NODE_ENV=production off', () => {
    expect(named(problemsOf({ FARMIQ_ENV: 'production', FARMIQ_ROLE: 'edge' }))).toEqual([...edgeNames].sort());
    expect(named(problemsOf({ FARMIQ_ENV: 'development', NODE_ENV: 'production', FARMIQ_ROLE: 'edge' }))).toEqual(['FARMIQ_ENV']);
    // An empty FARMIQ_ENV (a blank line in a unit or env file) is unset, not a way out.
    expect(named(problemsOf({ FARMIQ_ENV: '', NODE_ENV: 'Production', FARMIQ_ROLE: 'edge' }))).toEqual([...edgeNames].sort());
    // Development (the default, and NODE_ENV=test under jest): defaults are fine.
    expect(problemsOf({})).toBeUndefined();
    expect(problemsOf({ NODE_ENV: 'test' })).toBeUndefined();
  });

  test('an edge process needs only edge secrets, a cloud process only cloud secrets', () => {
    expect(problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'edge', ...secretsOf('edge') })).toBeUndefined();
    expect(problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'cloud', ...secretsOf('cloud') })).toBeUndefined();
    // ... and not the other side's in their place.
    expect(named(problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'edge', ...secretsOf('cloud') }))).toEqual([...edgeNames].sort());
    expect(named(problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'cloud', ...secretsOf('edge') }))).toEqual([...cloudNames].sort());
  });

  test('without FARMIQ_ROLE both sides are checked, and the error says how to narrow it', () => {
    const err = problemsOf({ NODE_ENV: 'production', ...secretsOf('edge') });
    expect(named(err)).toEqual([...cloudNames].sort());
    expect(err!.message).toMatch(/FARMIQ_ROLE unset.*set FARMIQ_ROLE=edge or cloud/);
    expect(problemsOf({ NODE_ENV: 'production', ...secretsOf('edge'), ...secretsOf('cloud') })).toBeUndefined();
  });

  test.each(knownDevelopmentValues.map((v) => [v]))('the development value %s is refused for every key and password setting', (value) => {
    const explicit = {
      ...secretsOf('edge'),
      ...secretsOf('cloud'),
      MQTT_BRIDGE_PASSWORD: value,
      S3_SECRET_KEY: value.toUpperCase(),
      AUTH_JWT_SECRET: value,
      INTERNAL_SERVICE_TOKEN: value,
    };
    const problems = checkProductionSecrets(explicit, 'all');
    expect(problems.map((p) => p.setting).sort()).toEqual(['AUTH_JWT_SECRET', 'INTERNAL_SERVICE_TOKEN', 'MQTT_BRIDGE_PASSWORD', 'S3_SECRET_KEY']);
    for (const p of problems) expect(p.message).toMatch(/development value/);
    // ... and as the password inside every URL setting.
    const urls = {
      ...explicit,
      AUTH_JWT_SECRET: strong(),
      INTERNAL_SERVICE_TOKEN: strong(),
      MQTT_BRIDGE_PASSWORD: strong(),
      S3_SECRET_KEY: strong(),
      EDGE_DATABASE_URL: `postgres://farmiq:${encodeURIComponent(value)}@db:5432/farmiq_edge`,
      CLOUD_DATABASE_URL: `postgres://farmiq:${encodeURIComponent(value)}@db:5432/farmiq_cloud`,
      CLOUD_APP_DATABASE_URL: `postgres://farmiq_app:${encodeURIComponent(value)}@db:5432/farmiq_cloud`,
      AMQP_URL: `amqp://farmiq:${encodeURIComponent(value)}@mq:5672/farmiq`,
    };
    expect(
      checkProductionSecrets(urls, 'all')
        .map((p) => p.setting)
        .sort(),
    ).toEqual(['AMQP_URL', 'CLOUD_APP_DATABASE_URL', 'CLOUD_DATABASE_URL', 'EDGE_DATABASE_URL']);
  });

  test.each([
    ['a placeholder from an example file', 'change-me-0123456789abcdef0123456789abcdef', /placeholder/],
    ['a short value', 'Zq8#vL2!pX', /too short/],
    ['a long value of few characters', 'abababababababababababababababababab', /repeats too few characters/],
  ])('%s is refused', (_name, value, why) => {
    const problems = checkProductionSecrets({ ...secretsOf('cloud'), AUTH_JWT_SECRET: value }, 'cloud');
    expect(problems).toEqual([{ setting: 'AUTH_JWT_SECRET', message: expect.stringMatching(why) }]);
  });

  test('a signing key needs 32 characters, a password 16', () => {
    const of = (name: string, value: string, side: ProcessRole) => checkProductionSecrets({ ...secretsOf('edge'), ...secretsOf('cloud'), [name]: value }, side);
    expect(of('AUTH_JWT_SECRET', randomBytes(12).toString('hex'), 'cloud').map((p) => p.setting)).toEqual(['AUTH_JWT_SECRET']); // 24 characters
    expect(of('AUTH_JWT_SECRET', randomBytes(16).toString('hex'), 'cloud')).toEqual([]); // 32
    expect(of('MQTT_BRIDGE_PASSWORD', randomBytes(6).toString('hex'), 'edge').map((p) => p.setting)).toEqual(['MQTT_BRIDGE_PASSWORD']); // 12
    // 16 characters, all different (random hex of that length sometimes repeats too few to pass as random).
    expect(of('MQTT_BRIDGE_PASSWORD', 'q7Zr2Lm9Xk4Tb8Wn', 'edge')).toEqual([]); // 16
  });

  test('one value for two secrets is refused: the holder of the internal token must not be able to sign dashboard tokens', () => {
    const same = strong();
    const problems = checkProductionSecrets({ ...secretsOf('cloud'), AUTH_JWT_SECRET: same, INTERNAL_SERVICE_TOKEN: same }, 'cloud');
    expect(problems).toEqual([{ setting: 'INTERNAL_SERVICE_TOKEN', message: expect.stringMatching(/same value as AUTH_JWT_SECRET/) }]);
  });

  test('a database URL without a password is allowed (peer or certificate authentication); an AMQP URL without one is not (guest)', () => {
    const problems = checkProductionSecrets(
      { ...secretsOf('cloud'), CLOUD_DATABASE_URL: 'postgres://farmiq@db:5432/farmiq_cloud', AMQP_URL: 'amqp://mq:5672/farmiq' },
      'cloud',
    );
    expect(problems).toEqual([{ setting: 'AMQP_URL', message: expect.stringMatching(/no password/) }]);
  });

  test('an empty optional secret is fine, a weak one is not', () => {
    expect(checkProductionSecrets({ ...secretsOf('cloud'), NOTIFICATION_WEBHOOK_TOKEN: '' }, 'cloud')).toEqual([]);
    expect(checkProductionSecrets({ ...secretsOf('cloud'), NOTIFICATION_WEBHOOK_TOKEN: 'token' }, 'cloud').map((p) => p.setting)).toEqual([
      'NOTIFICATION_WEBHOOK_TOKEN',
    ]);
  });

  test('invalid settings and refused secrets come in one error', () => {
    const err = problemsOf({
      NODE_ENV: 'production',
      FARMIQ_ROLE: 'edge',
      ...secretsOf('edge'),
      S3_SECRET_KEY: 'farmiq-edge-dev-secret',
      BRIDGE_HEALTH_PORT: '99999',
    });
    expect(named(err)).toEqual(['BRIDGE_HEALTH_PORT', 'S3_SECRET_KEY']);
  });
});

describe('the lists', () => {
  test('every built-in default of a secret setting, and every password inside one, is a known development value', () => {
    const defaults = loadSettings({ ...noSecretsFile }) as unknown as Record<string, string>;
    const known = new Set(knownDevelopmentValues);
    for (const s of secretSettings) {
      const value = defaults[s.name];
      if (s.optional && value === '') continue;
      const secret = s.kind.endsWith('-url') ? decodeURIComponent(new URL(value).password) : value;
      expect({ setting: s.name, known: known.has(secret) }).toEqual({ setting: s.name, known: true });
    }
  });

  test('every setting whose name looks secret is either checked or explicitly not ours to check', () => {
    const all = Object.keys(loadSettings({ ...noSecretsFile }));
    const looksSecret = all.filter((k) => /SECRET|PASSWORD|TOKEN|_KEY|(DATABASE|AMQP)_URL$/.test(k));
    const listed = new Set([...secretSettings.map((s) => s.name), ...notSecretSettings]);
    expect(looksSecret.filter((k) => !listed.has(k))).toEqual([]);
    expect(
      secretSettingsOf('edge')
        .map((s) => s.name)
        .sort(),
    ).toEqual([...edgeNames].sort());
    expect(
      secretSettingsOf('cloud')
        .map((s) => s.name)
        .filter((n) => n !== 'NOTIFICATION_WEBHOOK_TOKEN')
        .sort(),
    ).toEqual([...cloudNames].sort());
  });
});

describe('the local secrets file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-secrets-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('outside production its values replace the defaults; the environment wins over it', () => {
    const file = path.join(dir, 'dev.env');
    const jwt = strong();
    fs.writeFileSync(file, `AUTH_JWT_SECRET=${jwt}\nS3_SECRET_KEY=from-the-file-0123456789\n`, { mode: 0o600 });
    const s = loadSettings({ FARMIQ_SECRETS_FILE: file, S3_SECRET_KEY: 'from-the-environment-0123' });
    expect(s.AUTH_JWT_SECRET).toBe(jwt);
    expect(s.S3_SECRET_KEY).toBe('from-the-environment-0123');
  });

  test('production does not read it: a developer file never stands in for an explicit production secret', () => {
    const file = path.join(dir, 'edge.env');
    fs.writeFileSync(
      file,
      Object.entries(secretsOf('edge'))
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
      { mode: 0o600 },
    );
    expect(named(problemsOf({ NODE_ENV: 'production', FARMIQ_ROLE: 'edge', FARMIQ_SECRETS_FILE: file }))).toEqual([...edgeNames].sort());
  });
});

describe('the real entry points', () => {
  /** Runs an entry point with only the given environment (no secrets file, no FARMIQ_CONFIG). */
  function start(entry: string, env: Record<string, string>) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...noSecretsFile, DEPENDENCY_WAIT_SECONDS: '0', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  test('cloud-http under NODE_ENV=production with the public development secrets refuses to start, naming each', () => {
    const r = start('gateways/http/cloud-main.ts', {
      NODE_ENV: 'production',
      FARMIQ_ROLE: 'cloud',
      AUTH_JWT_SECRET: 'farmiq-dev-jwt-secret-change-me',
      AMQP_URL: 'amqp://farmiq:farmiq@127.0.0.1:5672/farmiq',
    });
    expect(r.status).not.toBe(0);
    for (const name of cloudNames) expect(r.output).toContain(`- ${name}:`);
    for (const name of edgeNames) expect(r.output).not.toContain(`- ${name}:`);
    expect(r.output).not.toContain('farmiq-dev-jwt-secret-change-me');
    expect(r.output).not.toContain('farmiq:farmiq');
  });

  test('the MQTT bridge as a farm server runs it (deploy/edge.env.example unchanged) refuses to start, naming only the edge secrets', () => {
    const r = start('gateways/mqtt-bridge/main.ts', { NODE_ENV: 'production', FARMIQ_CONFIG: path.join(repoRoot, 'deploy/edge.env.example') });
    expect(r.status).not.toBe(0);
    for (const name of edgeNames) expect(r.output).toContain(`- ${name}:`);
    for (const name of cloudNames) expect(r.output).not.toContain(`- ${name}:`);
  });

  test('a farm server config with its own edge secrets and no cloud secrets passes the check', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-edge-env-'));
    try {
      const file = path.join(dir, 'edge.env');
      const example = fs.readFileSync(path.join(repoRoot, 'deploy/edge.env.example'), 'utf8');
      const own = secretsOf('edge');
      const config = example
        .split('\n')
        .filter((line) => !Object.keys(own).some((k) => line.startsWith(`${k}=`)))
        .concat(Object.entries(own).map(([k, v]) => `${k}=${v}`))
        .join('\n');
      fs.writeFileSync(file, config, { mode: 0o600 });
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./config/settings').settings(); console.log('settings accepted')"], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...noSecretsFile, NODE_ENV: 'production', FARMIQ_CONFIG: file },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(`${r.stdout}${r.stderr}`).toContain('settings accepted');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
