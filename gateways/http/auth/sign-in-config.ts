/**
 * What the sign-in and users routers share: their settings (signInConfig() reads them once in the
 * process edge), the refresh cookie's name and attributes, the client address, and the Me shape.
 */
import type { Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { UserProfile, UserRecord } from '../../../auth/admin';
import { roles } from '../../../auth/roles';
import { SignInGuard, type GuardLimits } from '../../../auth/sign-in-guard';
import { durationSeconds, type Settings } from '../../../config/settings';
import { logger, type Logger } from '../../../platform/logger';

export interface SignInConfig {
  /** AUTH_ACCESS_TTL in seconds. */
  accessTtlSeconds: number;
  /** AUTH_REFRESH_TTL in seconds. */
  refreshTtlSeconds: number;
  /** AUTH_COOKIE_SECURE */
  cookieSecure: boolean;
  /** AUTH_LOCKOUT_* */
  guard: GuardLimits;
}

export function signInConfig(
  s: Pick<
    Settings,
    | 'AUTH_ACCESS_TTL'
    | 'AUTH_REFRESH_TTL'
    | 'AUTH_COOKIE_SECURE'
    | 'AUTH_LOCKOUT_ACCOUNT_FAILURES'
    | 'AUTH_LOCKOUT_ADDRESS_FAILURES'
    | 'AUTH_LOCKOUT_WINDOW'
    | 'AUTH_LOCKOUT_DURATION'
  >,
): SignInConfig {
  return {
    accessTtlSeconds: durationSeconds(s.AUTH_ACCESS_TTL),
    refreshTtlSeconds: durationSeconds(s.AUTH_REFRESH_TTL),
    cookieSecure: s.AUTH_COOKIE_SECURE,
    guard: {
      accountFailures: s.AUTH_LOCKOUT_ACCOUNT_FAILURES,
      addressFailures: s.AUTH_LOCKOUT_ADDRESS_FAILURES,
      windowSeconds: durationSeconds(s.AUTH_LOCKOUT_WINDOW),
      lockSeconds: durationSeconds(s.AUTH_LOCKOUT_DURATION),
    },
  };
}

/** The refresh cookie: sent back only to the sign-in routes, never readable by scripts. */
export const refreshCookie = { name: 'farmiq_refresh', path: '/api/v1/auth' } as const;

/** The header refresh and sign-out demand: a cross-site form cannot set it, and a cross-site fetch with it needs a CORS preflight we never grant. */
export const csrfHeader = 'x-farmiq-csrf';

/**
 * req.ip: the socket's address, or the one X-Forwarded-For names only when express's `trust
 * proxy` is set for the proxy in front (a client cannot choose its own address otherwise).
 */
export const socketAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** What both routers take besides their pools. */
export interface SignInDeps {
  /** Owner pool (CLOUD_DATABASE_URL): sessions and the guard live there. */
  pool: Pool;
  /** signInConfig(settings). */
  config: SignInConfig;
  log?: Logger;
  /** Clock of sessions and lockouts (tests move it). */
  now?: () => Date;
  /** The client's address for the per-address limit; default req.ip (see socketAddress). */
  clientAddress?: (req: Request) => string;
}

/** The deps with their defaults, and the guard built from them. */
export function signInParts(deps: SignInDeps): { log: Logger; clock: () => Date; addressOf: (req: Request) => string; guard: SignInGuard } {
  const clock = deps.now ?? (() => new Date());
  return {
    log: deps.log ?? logger('cloud-http'),
    clock,
    addressOf: deps.clientAddress ?? socketAddress,
    guard: new SignInGuard(deps.pool, deps.config.guard, clock),
  };
}

const roleSchema = z.enum(roles);

export const meSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: roleSchema,
    tenant_id: z.uuid(),
    tenant_name: z.string(),
  })
  .meta({ id: 'Me' });

export type MeJson = z.infer<typeof meSchema>;

export function meJson(u: UserProfile): MeJson {
  return { id: u.id, email: u.email, display_name: u.displayName, role: u.role, tenant_id: u.tenantId, tenant_name: u.tenantName };
}

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: roleSchema,
    created_at: z.string().meta({ description: 'ISO-8601 UTC' }),
    disabled_at: z.string().nullable().meta({ description: 'ISO-8601 UTC; null while the user may sign in' }),
  })
  .meta({ id: 'User' });

export function userJson(u: UserRecord): z.infer<typeof userSchema> {
  return {
    id: u.id,
    email: u.email,
    display_name: u.displayName,
    role: u.role,
    created_at: u.createdAt.toISOString(),
    disabled_at: u.disabledAt ? u.disabledAt.toISOString() : null,
  };
}

/** Sign-in accepts any string as the email (an unknown one is just invalid_credentials); a password is capped so scrypt cannot be fed megabytes. */
export const passwordInput = z.string().min(1).max(1024);
