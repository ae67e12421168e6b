/**
 * The signed-in user and the tenant's users (docs/auth.md), behind requireUser():
 *
 *   GET   /api/v1/me                 viewer  who the token is
 *   POST  /api/v1/me/password        viewer  { current_password, new_password } → 204; the user's
 *                                            other sessions are revoked
 *   GET   /api/v1/users              admin   the tenant's users
 *   POST  /api/v1/users              admin   { email, display_name?, role, password } → 201
 *   PATCH /api/v1/users/:userId      admin   { role?, display_name?, disabled? } → 200; disabling
 *                                            revokes the user's sessions
 *
 * Users are read and written through withTenant(tenantPool) (row-level security: another tenant's
 * user is 404); sessions and the guessing guard are owner-pool tables (auth/sessions.ts,
 * auth/sign-in-guard.ts).
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { addUser, listUsers, lockedPasswordHash, minPasswordLength, setPassword, updateUser, userProfile, UserAdminError } from '../../../auth/admin';
import { verifyPassword } from '../../../auth/passwords';
import { roles } from '../../../auth/roles';
import { revokeUserSessions } from '../../../auth/sessions';
import { withTenant } from '../../../auth/tenant-db';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { HttpError } from '../errors';
import { meJson, meSchema, passwordInput, signInParts, userJson, userSchema, type SignInDeps } from './sign-in-config';

export interface UsersRouterDeps extends SignInDeps {
  /** Tenant pool (CLOUD_APP_DATABASE_URL, farmiq_app): every users row. `pool` (the owner) serves sessions and the guard only; wrong current passwords count like failed sign-ins. */
  tenantPool: Pool;
}

const newPassword = z.string().max(1024);
const emailInput = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'an email address');
const displayNameInput = z.string().trim().min(1).max(200);

function adminRefusal(err: unknown, field?: string): never {
  if (!(err instanceof UserAdminError)) throw err;
  const status = err.problem === 'weak_password' ? 400 : 409;
  throw new HttpError(status, err.problem, err.message, err.problem === 'weak_password' ? field : err.problem === 'email_taken' ? 'email' : undefined);
}

function weakPassword(password: string, field: string): HttpError | undefined {
  return password.length < minPasswordLength
    ? new HttpError(400, 'weak_password', `a password needs at least ${minPasswordLength} characters`, field)
    : undefined;
}

export function createUsersRouter(deps: UsersRouterDeps): ApiRouter {
  const { pool, tenantPool } = deps;
  const { log, clock, addressOf, guard } = signInParts(deps);
  const api = new ApiRouter('users');

  api.route(
    {
      method: 'get',
      path: '/api/v1/me',
      role: 'viewer',
      summary: 'The signed-in user',
      responses: { 200: { description: 'the user and their tenant', schema: meSchema } },
    },
    async ({ auth }) => {
      const me = await withTenant(tenantPool, auth.tenantId, (db) => userProfile(db, auth.userId));
      if (!me || me.disabledAt) throw new HttpError(401, 'unauthenticated', 'this user no longer exists or is disabled');
      return { body: meJson(me) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/me/password',
      role: 'viewer',
      summary: 'Change the own password',
      description:
        'Revokes every other session of the user (the one that made the change stays signed in). A wrong current password counts as a failed sign-in.',
      body: z.strictObject({ current_password: passwordInput, new_password: newPassword }),
      responses: {
        204: { description: 'changed' },
        429: { description: 'too many wrong passwords (sign_in_locked); see retry-after', schema: errorBodySchema },
      },
    },
    async ({ auth, body, req, res }) => {
      const weak = weakPassword(body.new_password, 'new_password');
      if (weak) throw weak;
      const me = await withTenant(tenantPool, auth.tenantId, (db) => userProfile(db, auth.userId));
      if (!me || me.disabledAt) throw new HttpError(401, 'unauthenticated', 'this user no longer exists or is disabled');
      const who = { email: me.email, address: addressOf(req) };
      const admission = await guard.admit(who);
      if (!admission.admitted) {
        res.setHeader('retry-after', String(admission.retryAfterSeconds));
        throw new HttpError(429, 'sign_in_locked', `too many wrong passwords; try again in ${admission.retryAfterSeconds} s`);
      }
      const changed = await withTenant(tenantPool, auth.tenantId, async (db) => {
        const stored = await lockedPasswordHash(db, auth.userId);
        if (!stored?.passwordHash || !(await verifyPassword(body.current_password, stored.passwordHash))) return false;
        await setPassword(db, auth.userId, body.new_password);
        return true;
      });
      if (!changed) {
        await guard.failed(who);
        log.warn(
          { requestId: res.locals.requestId, event: 'password_change_refused', reason: 'wrong_password', userId: auth.userId },
          'password change refused',
        );
        throw new HttpError(400, 'invalid_credentials', 'the current password is not right', 'current_password');
      }
      await guard.succeeded(who);
      const revoked = await revokeUserSessions(pool, auth.userId, 'password_changed', clock(), auth.sessionId);
      log.info({ requestId: res.locals.requestId, event: 'password_changed', userId: auth.userId, revokedSessions: revoked }, 'password changed');
      return { status: 204 };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/v1/users',
      role: 'admin',
      summary: 'The tenant’s users',
      responses: { 200: { description: 'every user of the tenant, by email', schema: z.object({ items: z.array(userSchema) }) } },
    },
    async ({ auth }) => ({ body: { items: (await withTenant(tenantPool, auth.tenantId, (db) => listUsers(db, auth.tenantId))).map(userJson) } }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/users',
      role: 'admin',
      summary: 'Add a user to the tenant',
      body: z.strictObject({ email: emailInput, display_name: displayNameInput.optional(), role: z.enum(roles), password: newPassword }),
      responses: {
        201: { description: 'the new user', schema: userSchema },
        409: { description: 'the tenant already has a user with this email (email_taken)', schema: errorBodySchema },
      },
    },
    async ({ auth, body, res }) => {
      const weak = weakPassword(body.password, 'password');
      if (weak) throw weak;
      const user = await withTenant(tenantPool, auth.tenantId, (db) =>
        addUser(db, { tenantId: auth.tenantId, email: body.email, displayName: body.display_name, role: body.role, password: body.password }),
      ).catch((err: unknown) => adminRefusal(err, 'password'));
      log.info({ requestId: res.locals.requestId, event: 'user_added', userId: user.id, by: auth.userId, role: user.role }, 'user added');
      return { status: 201, body: userJson(user) };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/api/v1/users/:userId',
      role: 'admin',
      summary: 'Change a user’s role, name, or disable / enable them',
      description: 'Disabling revokes every session of the user. The tenant’s last enabled admin cannot be demoted or disabled (409 last_admin).',
      params: z.object({ userId: z.uuid() }),
      body: z.strictObject({ role: z.enum(roles).optional(), display_name: displayNameInput.nullable().optional(), disabled: z.boolean().optional() }),
      responses: {
        200: { description: 'the user as changed', schema: userSchema },
        409: { description: 'the change would leave the tenant without an enabled admin (last_admin)', schema: errorBodySchema },
      },
    },
    async ({ auth, params, body, res }) => {
      const now = clock();
      const user = await withTenant(tenantPool, auth.tenantId, (db) =>
        updateUser(db, auth.tenantId, params.userId, { role: body.role, displayName: body.display_name, disabled: body.disabled }, now),
      ).catch((err: unknown) => adminRefusal(err));
      if (!user) throw new HttpError(404, 'not_found', 'no such user');
      if (body.disabled === true) await revokeUserSessions(pool, user.id, 'user_disabled', now);
      log.info({ requestId: res.locals.requestId, event: 'user_changed', userId: user.id, by: auth.userId, change: body }, 'user changed');
      return { body: userJson(user) };
    },
  );

  return api;
}
