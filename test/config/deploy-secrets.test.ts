/**
 * The deployment files carry no usable secret (issue 8, item 5): docker-compose.yml takes every
 * secret from a .env file that git ignores, with no default (`${VAR:?…}`), and runs each FarmIQ
 * container in production mode with its side's FARMIQ_ROLE; deploy/compose.env.example and
 * deploy/edge.env.example hold only values that production mode refuses; the systemd units of the
 * farm server run in production mode as the edge.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { checkProductionSecrets, knownDevelopmentValues } from '../../config/secrets';
import { repoRoot } from '../support/stack';

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');
const compose = read('docker-compose.yml');
const composeSecrets = [
  'POSTGRES_PASSWORD',
  'FARMIQ_APP_DB_PASSWORD',
  'RABBITMQ_PASSWORD',
  'AUTH_JWT_SECRET',
  'INTERNAL_SERVICE_TOKEN',
  'MQTT_BRIDGE_PASSWORD',
  'S3_SECRET_KEY',
];

/** The text of one top-level service of docker-compose.yml (up to the next service). */
function service(name: string): string {
  const m = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)+)`, 'm').exec(compose);
  if (!m) throw new Error(`no service ${name} in docker-compose.yml`);
  return m[1];
}

describe('docker-compose.yml', () => {
  test('every secret is interpolated without a default, so a missing .env line stops `docker compose config`', () => {
    for (const name of composeSecrets) {
      const uses = [...compose.matchAll(new RegExp(`\\$\\{${name}(:?[-?])?`, 'g'))].map((m) => m[0]);
      expect({ name, used: uses.length > 0 }).toEqual({ name, used: true });
      expect({ name, uses: uses.filter((u) => u !== `\${${name}:?`) }).toEqual({ name, uses: [] });
    }
  });

  test('no development value appears in it as a default, a literal value or a password in a URL', () => {
    for (const value of knownDevelopmentValues) {
      const esc = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect({ value, found: new RegExp(`:-${esc}\\}|(PASS|PWD|SECRET|TOKEN)\\w*: ${esc}\\s*$|:${esc}@`, 'm').test(compose) }).toEqual({ value, found: false });
    }
  });

  test('the FarmIQ containers run in production mode, each with its side', () => {
    expect(compose).toMatch(/x-farmiq-env: &farmiq-env\n {2}FARMIQ_ENV: production\n/);
    for (const name of ['cloud-http', 'cloud-worker', 'cloud-consumers', 'notifications'])
      expect({ name, role: /FARMIQ_ROLE: (\w+)/.exec(service(name))?.[1] }).toEqual({ name, role: 'cloud' });
    for (const name of ['edge-http', 'edge-worker', 'mqtt-bridge', 'broker-config', 'farmiq-cli'])
      expect({ name, role: /FARMIQ_ROLE: (\w+)/.exec(service(name))?.[1] }).toEqual({ name, role: 'edge' });
  });

  test('the .env it reads is ignored by git, and the example names every secret with a value production refuses', () => {
    expect(execFileSync('git', ['check-ignore', '.env'], { cwd: repoRoot, encoding: 'utf8' }).trim()).toBe('.env');
    const example = parseEnv(read('deploy/compose.env.example'));
    expect(Object.keys(example).sort()).toEqual([...composeSecrets].sort());
    const asSettings = {
      AUTH_JWT_SECRET: example.AUTH_JWT_SECRET,
      INTERNAL_SERVICE_TOKEN: example.INTERNAL_SERVICE_TOKEN,
      MQTT_BRIDGE_PASSWORD: example.MQTT_BRIDGE_PASSWORD,
      S3_SECRET_KEY: example.S3_SECRET_KEY,
      EDGE_DATABASE_URL: `postgres://farmiq:${example.POSTGRES_PASSWORD}@postgres:5432/farmiq_edge`,
      CLOUD_DATABASE_URL: `postgres://farmiq:${example.POSTGRES_PASSWORD}@postgres:5432/farmiq_cloud`,
      CLOUD_APP_DATABASE_URL: `postgres://farmiq_app:${example.FARMIQ_APP_DB_PASSWORD}@postgres:5432/farmiq_cloud`,
      AMQP_URL: `amqp://farmiq:${example.RABBITMQ_PASSWORD}@rabbitmq:5672/farmiq`,
    };
    expect(
      checkProductionSecrets(asSettings, 'all')
        .map((p) => p.setting)
        .sort(),
    ).toEqual(Object.keys(asSettings).sort());
  });

  test('the dashboard role is created with the .env password before migration 0006 could create it with the development one', () => {
    expect(service('postgres')).toContain('./deploy/compose/postgres-app-role.sh:/docker-entrypoint-initdb.d/20-farmiq-app-role.sh:ro');
    expect(service('postgres')).toContain('FARMIQ_APP_DB_PASSWORD: ${FARMIQ_APP_DB_PASSWORD:?');
    expect(read('deploy/compose/postgres-app-role.sh')).toMatch(/CREATE ROLE farmiq_app .*PASSWORD :'app_password'/);
  });
});

describe('the farm server files', () => {
  test('deploy/edge.env.example is production mode for the edge, with no usable secret', () => {
    const example = parseEnv(read('deploy/edge.env.example'));
    expect(example.FARMIQ_ENV).toBe('production');
    expect(example.FARMIQ_ROLE).toBe('edge');
    expect(
      checkProductionSecrets(example as Record<string, string>, 'edge')
        .map((p) => p.setting)
        .sort(),
    ).toEqual(['EDGE_DATABASE_URL', 'MQTT_BRIDGE_PASSWORD', 'S3_SECRET_KEY']);
  });

  test('every unit that starts FarmIQ code runs it in production mode as the edge; rclone only after the check', () => {
    const dir = path.join(repoRoot, 'deploy/systemd');
    for (const unit of fs.readdirSync(dir).filter((f) => f.endsWith('.service'))) {
      const text = fs.readFileSync(path.join(dir, unit), 'utf8');
      if (!/node --import tsx/.test(text)) continue;
      expect({ unit, production: /NODE_ENV=production/.test(text), edge: /FARMIQ_ROLE=edge|EnvironmentFile=\/etc\/farmiq\/edge.env/.test(text) }).toEqual({
        unit,
        production: true,
        edge: true,
      });
    }
    const s3 = fs.readFileSync(path.join(dir, 'farmiq-s3.service'), 'utf8');
    expect(s3.indexOf('farmiq config check')).toBeGreaterThan(-1);
    expect(s3.indexOf('farmiq config check')).toBeLessThan(s3.indexOf('ExecStart='));
  });
});
