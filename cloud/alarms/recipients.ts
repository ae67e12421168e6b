/**
 * Who an escalation step tells, among the tenant's dashboard users (the farm server knows no
 * users, only `role:<role>` and `user:<email>`, domain/contracts/alarm-payloads.ts).
 *
 * `role:<role>` is every enabled user with that role. The cloud's roles are viewer, operator and
 * admin (auth/roles.ts).
 * `user:<email>` is that enabled user. A recipient that names nobody is returned as unresolved,
 * never an error: the step still reaches everyone else.
 */
import type { Queryable } from '../../db/transaction';
import type { Role } from '../../auth/roles';

export interface ResolvedUser {
  userId: string;
  email: string;
  /** The first recipient entry that named this user. */
  recipient: string;
}

export interface Resolution {
  users: ResolvedUser[];
  unresolved: { recipient: string; reason: string }[];
}

const roleOfRecipient: Record<string, Role> = { viewer: 'viewer', operator: 'operator', admin: 'admin' };

/** Runs on the consumer's owner connection (no row-level security): every query names the tenant. */
export async function resolveRecipients(db: Queryable, tenantId: string, recipients: readonly string[]): Promise<Resolution> {
  const users = new Map<string, ResolvedUser>();
  const unresolved: Resolution['unresolved'] = [];
  for (const recipient of recipients) {
    const sep = recipient.indexOf(':');
    const kind = recipient.slice(0, sep);
    const name = recipient.slice(sep + 1);
    let rows: { id: string; email: string }[];
    if (kind === 'role') {
      const role = roleOfRecipient[name];
      rows = role
        ? (
            await db.query<{ id: string; email: string }>(
              'SELECT id::text, email FROM users WHERE tenant_id = $1 AND role = $2 AND disabled_at IS NULL ORDER BY email',
              [tenantId, role],
            )
          ).rows
        : [];
      if (rows.length === 0) unresolved.push({ recipient, reason: role ? `no enabled user has the role ${role}` : 'unknown role' });
    } else {
      rows = (
        await db.query<{ id: string; email: string }>(
          'SELECT id::text, email FROM users WHERE tenant_id = $1 AND lower(email) = lower($2) AND disabled_at IS NULL',
          [tenantId, name],
        )
      ).rows;
      if (rows.length === 0) unresolved.push({ recipient, reason: 'no enabled user of the tenant has this email' });
    }
    for (const r of rows) if (!users.has(r.id)) users.set(r.id, { userId: r.id, email: r.email, recipient });
  }
  return { users: [...users.values()], unresolved };
}
