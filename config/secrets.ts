/**
 * Secret settings and what production mode demands of them (docs/security.md §7).
 *
 * Production mode is FARMIQ_ENV=production, or NODE_ENV=production (what the systemd units and the
 * container image set). In it, every secret setting that the process's side uses (FARMIQ_ROLE:
 * edge, cloud, or all — the default) must be
 *   - set explicitly (environment or FARMIQ_CONFIG; the built-in defaults and the generated
 *     development file $FARMIQ_HOME/secrets.env do not count),
 *   - not a known development value or a placeholder (`knownDevelopmentValues`, `placeholder`),
 *   - at least as strong as `strength` says for its kind,
 * and start-up fails with one error naming every offending setting (never its value).
 *
 * A new secret setting belongs in `secretSettings`; test/config/production-secrets.test.ts fails
 * for a setting whose name looks secret and is in neither list below.
 */

/** Which half of the system a process belongs to: a farm server (edge) or the cloud. */
export type Side = 'edge' | 'cloud';
export const processRoles = ['edge', 'cloud', 'all'] as const;
export type ProcessRole = (typeof processRoles)[number];

/**
 * key: an HMAC or bearer secret that only machines read; password: a credential of a server we run;
 * postgres-url / amqp-url: a URL whose password (if any) is such a credential.
 */
export type SecretKind = 'key' | 'password' | 'postgres-url' | 'amqp-url';

export interface SecretSetting {
  name: string;
  kind: SecretKind;
  side: Side;
  /** Empty is allowed (the feature is off); a value that is set is checked like any other. */
  optional?: boolean;
}

export const secretSettings: readonly SecretSetting[] = [
  { name: 'EDGE_DATABASE_URL', kind: 'postgres-url', side: 'edge' },
  { name: 'MQTT_BRIDGE_PASSWORD', kind: 'password', side: 'edge' },
  { name: 'S3_SECRET_KEY', kind: 'password', side: 'edge' },
  { name: 'CLOUD_DATABASE_URL', kind: 'postgres-url', side: 'cloud' },
  { name: 'CLOUD_APP_DATABASE_URL', kind: 'postgres-url', side: 'cloud' },
  { name: 'AMQP_URL', kind: 'amqp-url', side: 'cloud' },
  { name: 'AUTH_JWT_SECRET', kind: 'key', side: 'cloud' },
  { name: 'INTERNAL_SERVICE_TOKEN', kind: 'key', side: 'cloud' },
  { name: 'NOTIFICATION_WEBHOOK_TOKEN', kind: 'key', side: 'cloud', optional: true },
];

/**
 * Settings whose names look secret but are not ours to judge: identifiers (S3_ACCESS_KEY is the S3
 * user name, EDGE_KEY_ID names a key), a path (the edge's signing key is generated per edge by
 * `cloud-admin edge add`), lifetimes, and third-party credentials (LLM_API_KEY, the password an
 * SMTP provider gave you in SMTP_URL), and LLM_MAX_TOKENS, a count.
 */
export const notSecretSettings: readonly string[] = [
  'S3_ACCESS_KEY',
  'EDGE_KEY_ID',
  'EDGE_SIGNING_KEY_FILE',
  'AUTH_TOKEN_TTL',
  'AUTH_TOKEN_MAX_TTL',
  'LLM_API_KEY',
  'LLM_MAX_TOKENS',
  'SMTP_URL',
  'FARMIQ_SECRETS_FILE',
  // An operator's own token for the CLI (`farmiq alarms`), made random by `farmiq operators add`; no server reads it.
  'FARMIQ_OPERATOR_TOKEN',
];

/** Minimum length and estimated entropy (length × Shannon entropy of its characters) per kind. */
export const strength = {
  key: { minLength: 32, minBits: 88 },
  password: { minLength: 16, minBits: 44 },
} as const;

/**
 * The one list of development values: every built-in default of a secret setting (and the
 * passwords inside the default URLs), the test suites' fixed secrets, and what earlier versions of
 * docker-compose.yml and deploy/edge.env.example shipped. Compared case-insensitively.
 */
export const knownDevelopmentValues: readonly string[] = [
  'farmiq',
  'farmiq_app',
  'guest',
  'farmiq-dev-jwt-secret-change-me',
  'farmiq-dev-internal-token-change-me',
  'farmiq-bridge-dev-secret',
  'farmiq-edge-dev-secret',
  'change-me-in-production',
  'farmiq-test-secret-for-dashboard-tokens',
  'farmiq-bridge-test-secret',
];

/** A value copied from an example file and never replaced. */
export const placeholder = /change[-_ ]?me|replace[-_ ]?me|<[^>]*>/i;

export interface ConfigProblem {
  setting: string;
  message: string;
}

/** Length × the Shannon entropy of the value's own character distribution, in bits. */
export function estimatedBits(value: string): number {
  const chars = [...value];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * chars.length;
}

const developmentValues = new Set(knownDevelopmentValues.map((v) => v.toLowerCase()));

/** Why `value` is not good enough as a secret of `kind`, or undefined when it is. */
function weakness(value: string, kind: 'key' | 'password', what = 'the value'): string | undefined {
  if (developmentValues.has(value.toLowerCase())) return `${what} is a known development value`;
  if (placeholder.test(value)) return `${what} is a placeholder from an example file`;
  const need = strength[kind];
  if ([...value].length < need.minLength) return `${what} is too short: use at least ${need.minLength} random characters`;
  if (estimatedBits(value) < need.minBits) return `${what} repeats too few characters to be random`;
  return undefined;
}

/** The password inside a URL setting, or why the URL cannot be judged. */
function urlPassword(raw: string): { password?: string; error?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { error: 'is not a URL' };
  }
  if (!u.password) return {};
  try {
    return { password: decodeURIComponent(u.password) };
  } catch {
    return { password: u.password };
  }
}

export function secretSettingsOf(role: ProcessRole): SecretSetting[] {
  return secretSettings.filter((s) => role === 'all' || s.side === role);
}

/**
 * Every problem production mode finds with the secret settings of `role` in `explicit` — the
 * values set in the environment or FARMIQ_CONFIG, nothing else. Messages never contain a value.
 */
export function checkProductionSecrets(explicit: Record<string, string | undefined>, role: ProcessRole): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>(); // value → first setting that has it (keys and passwords)
  for (const s of secretSettingsOf(role)) {
    const value = explicit[s.name];
    if (value === undefined || value === '') {
      if (!s.optional) problems.push({ setting: s.name, message: 'not set (its built-in default is for development only)' });
      continue;
    }
    let message: string | undefined;
    if (s.kind === 'key' || s.kind === 'password') {
      message = weakness(value, s.kind);
      const other = seen.get(value);
      if (!message && other) message = `the same value as ${other}: give each secret its own`;
      seen.set(value, s.name);
    } else {
      const { password, error } = urlPassword(value);
      if (error) message = error;
      else if (password === undefined) {
        // Postgres may authenticate by peer or certificate (or PGPASSWORD / ~/.pgpass); amqplib
        // without a password logs in as guest/guest.
        if (s.kind === 'amqp-url') message = 'carries no password (amqplib would log in as guest)';
      } else message = weakness(password, 'password', 'the password in it');
    }
    if (message) problems.push({ setting: s.name, message });
  }
  return problems;
}
