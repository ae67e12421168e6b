/**
 * A user's inbox (spec §6 steps 1–3): their own in_app notifications and the tenant-wide ones,
 * newest first, paged by a keyset cursor on (created_at, id), with the number still unread.
 * Every query runs on the tenant pool inside withTenant, so row-level security confines it to the
 * caller's tenant even before the WHERE clauses do.
 */
import type { Pool } from 'pg';
import type { AuthContext } from '../auth/tokens';
import { withTenant } from '../auth/tenant-db';
import { hasRole } from '../auth/roles';
import { isUuid } from '../domain/contracts/identifiers';
import { notificationColumns, rowToNotification, type Notification, type NotificationRow } from './model';
import { markAllOwnRead, markAllSharedRead, markOwnRead, markSharedRead, readAtStamp } from './notification-store';

export interface InboxPage {
  items: Notification[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
  unreadCount: number;
}

export interface InboxQuery {
  limit?: number;
  cursor?: string | null;
}

export const maxInboxPageSize = 100;

export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

const timestampPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

// Microsecond timestamps as text: a JS Date (milliseconds) would make rows of one millisecond
// skip or repeat across pages.
export function encodeCursor(n: Pick<Notification, 'createdAt' | 'id'>): string {
  return Buffer.from(`${n.createdAt}|${n.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !timestampPattern.test(createdAt ?? '') || !isUuid(id ?? '')) throw new InvalidCursorError();
  return { createdAt, id };
}

const readAtColumn = `to_char(coalesce(n.read_at, r.read_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS read_at`;

export async function inbox(pool: Pool, auth: AuthContext, query: InboxQuery = {}): Promise<InboxPage> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 20), 1), maxInboxPageSize);
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  return withTenant(pool, auth.tenantId, async (client) => {
    // Two index-ordered scans (the user's own, the tenant-wide) merged; each needs at most limit+1.
    const keyset = after ? 'AND (n.created_at, n.id) < ($4::timestamptz, $5::uuid)' : '';
    const params: unknown[] = [auth.tenantId, auth.userId, limit + 1, ...(after ? [after.createdAt, after.id] : [])];
    const page = await client.query<NotificationRow & { sort_at: Date }>(
      `SELECT * FROM (
         (SELECT ${notificationColumns}, ${readAtColumn}, n.created_at AS sort_at
            FROM notifications n
            LEFT JOIN notification_reads r ON false
           WHERE n.tenant_id = $1 AND n.user_id = $2 AND n.channel = 'in_app' ${keyset}
           ORDER BY n.created_at DESC, n.id DESC
           LIMIT $3)
         UNION ALL
         (SELECT ${notificationColumns}, ${readAtColumn}, n.created_at AS sort_at
            FROM notifications n
            LEFT JOIN notification_reads r ON r.tenant_id = n.tenant_id AND r.notification_id = n.id AND r.user_id = $2
           WHERE n.tenant_id = $1 AND n.user_id IS NULL AND n.channel = 'in_app' ${keyset}
           ORDER BY n.created_at DESC, n.id DESC
           LIMIT $3)
       ) merged
       ORDER BY sort_at DESC, id DESC
       LIMIT $3`,
      params,
    );
    const rows = page.rows.slice(0, limit);
    const items = rows.map(rowToNotification);
    const unread = await client.query<{ unread: string }>(
      `SELECT
         (SELECT count(*) FROM notifications n
           WHERE n.tenant_id = $1 AND n.user_id = $2 AND n.channel = 'in_app' AND n.read_at IS NULL)
       + (SELECT count(*) FROM notifications n
           WHERE n.tenant_id = $1 AND n.user_id IS NULL AND n.channel = 'in_app'
             AND NOT EXISTS (SELECT 1 FROM notification_reads r
                              WHERE r.tenant_id = n.tenant_id AND r.notification_id = n.id AND r.user_id = $2)) AS unread`,
      [auth.tenantId, auth.userId],
    );
    return {
      items,
      nextCursor: page.rows.length > limit ? encodeCursor(items[items.length - 1]) : null,
      unreadCount: Number(unread.rows[0].unread),
    };
  });
}

/**
 * One notification, if the caller may see it: addressed to them or to the whole tenant; an
 * operator or admin also sees the tenant's other notifications (to follow their delivery).
 */
export async function getNotification(pool: Pool, auth: AuthContext, id: string): Promise<Notification | undefined> {
  if (!isUuid(id)) return undefined;
  return withTenant(pool, auth.tenantId, async (client) => {
    const r = await client.query<NotificationRow>(
      `SELECT ${notificationColumns}, ${readAtColumn}
         FROM notifications n
         LEFT JOIN notification_reads r ON n.user_id IS NULL AND r.tenant_id = n.tenant_id AND r.notification_id = n.id AND r.user_id = $3
        WHERE n.tenant_id = $1 AND n.id = $2 AND ($4 OR n.user_id IS NULL OR n.user_id = $3)`,
      [auth.tenantId, id, auth.userId, hasRole(auth.role, 'operator')],
    );
    return r.rows[0] ? rowToNotification(r.rows[0]) : undefined;
  });
}

/** Marks one in-app notification of the caller's inbox read; undefined if it is not in their inbox. */
export async function markRead(pool: Pool, auth: AuthContext, id: string): Promise<{ id: string; readAt: string } | undefined> {
  if (!isUuid(id)) return undefined;
  return withTenant(pool, auth.tenantId, async (client) => {
    const found = await client.query<{ user_id: string | null }>(
      `SELECT user_id FROM notifications WHERE tenant_id = $1 AND id = $2 AND channel = 'in_app' AND (user_id = $3 OR user_id IS NULL)`,
      [auth.tenantId, id, auth.userId],
    );
    if (found.rowCount === 0) return undefined;
    if (found.rows[0].user_id !== null) return { id, readAt: await markOwnRead(client, auth.tenantId, id) };
    await markSharedRead(client, auth.tenantId, id, auth.userId);
    const r = await client.query<{ read_at: string }>(
      `SELECT ${readAtStamp} FROM notification_reads WHERE tenant_id = $1 AND notification_id = $2 AND user_id = $3`,
      [auth.tenantId, id, auth.userId],
    );
    return { id, readAt: r.rows[0].read_at };
  });
}

/** Marks every unread in-app notification of the caller's inbox read; returns how many. */
export async function markAllRead(pool: Pool, auth: AuthContext): Promise<number> {
  return withTenant(pool, auth.tenantId, async (client) => {
    const own = await markAllOwnRead(client, auth.tenantId, auth.userId);
    const shared = await markAllSharedRead(client, auth.tenantId, auth.userId);
    return own + shared;
  });
}
