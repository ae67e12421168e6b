/**
 * The per-install secrets of the local stack: scripts/lib.sh generates $FARMIQ_HOME/secrets.env
 * (mode 0600) the first time any script runs, with random database and RabbitMQ passwords, bridge
 * password, S3 secret key, JWT secret and internal token, and reuses it afterwards. The servers
 * are given these values by scripts/services.sh; config/settings.ts (outside production mode) and
 * the test suite (test/support/stack.ts) read the same file, so everything on one checkout agrees
 * without a fixed development secret.
 *
 * The file uses the settings' own names (plus TEST_* for the test suite's databases and vhost)
 * and ranks below the environment and FARMIQ_CONFIG.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export const repoRoot = path.resolve(__dirname, '..');
export const defaultFarmiqHome = path.join(repoRoot, '.run');

type Env = Record<string, string | undefined>;

/** FARMIQ_SECRETS_FILE, else $FARMIQ_HOME/secrets.env. */
export function localSecretsPath(env: Env = process.env): string {
  return env.FARMIQ_SECRETS_FILE || path.join(env.FARMIQ_HOME || defaultFarmiqHome, 'secrets.env');
}

/** The generated secrets, or {} when the file does not exist (a machine that never ran the scripts). */
export function readLocalSecrets(env: Env = process.env): Record<string, string> {
  const file = localSecretsPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read the local secrets file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) out[k] = v;
  return out;
}
