/**
 * Where the integration tests find the real servers started by `make test` (scripts/services.sh).
 * Tests use their own databases (…_test) so a running `make up` stack keeps its data, and their
 * own random tenants so tests never see each other's rows.
 *
 * Passwords: the install's generated $FARMIQ_HOME/secrets.env (scripts/lib.sh writes it, and
 * services.sh gives the servers its values), the same file config/settings.ts reads; the
 * environment wins over it, and the development passwords remain only for a machine without it.
 */
import path from 'node:path';
import { defaultFarmiqHome, readLocalSecrets, repoRoot } from '../../config/local-secrets';

export { repoRoot };
export const farmiqHome = process.env.FARMIQ_HOME ?? defaultFarmiqHome;

/** The generated per-install secrets (empty when `make services` never ran here). */
export const localSecrets: Readonly<Record<string, string>> = readLocalSecrets();

/** An environment variable, else the value in secrets.env, else the development default. */
export function stackSetting(name: string, fallback: string): string {
  return process.env[name] || localSecrets[name] || fallback;
}

export const testEdgeDatabaseUrl = stackSetting('TEST_EDGE_DATABASE_URL', 'postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_edge_test');
export const testCloudDatabaseUrl = stackSetting('TEST_CLOUD_DATABASE_URL', 'postgres://farmiq:farmiq@127.0.0.1:5432/farmiq_cloud_test');
const appRole = new URL(stackSetting('TEST_CLOUD_APP_DATABASE_URL', 'postgres://farmiq_app:farmiq_app@127.0.0.1:5432/farmiq_cloud_test'));

/** `url` (a database of the test cluster) as farmiq_app, with this install's password for that role. */
export function asAppRole(url: string): string {
  const u = new URL(url);
  u.username = appRole.username;
  u.password = appRole.password;
  return u.toString();
}

/** The cloud test database as farmiq_app, the role row-level security applies to. */
export const testCloudAppDatabaseUrl = process.env.TEST_CLOUD_APP_DATABASE_URL || asAppRole(testCloudDatabaseUrl);

export const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
export const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';

/** The pinned time-skipping test server installed into the project venv by scripts/setup.sh. */
export const temporalTestServerPath = process.env.TEMPORAL_TEST_SERVER_PATH ?? path.join(repoRoot, '.venv', 'bin', 'temporal-test-server');
export const temporalCliPath = process.env.TEMPORAL_CLI_PATH ?? path.join(repoRoot, '.venv', 'bin', 'temporal');
