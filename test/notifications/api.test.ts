/**
 * The notification HTTP API (spec §6) through the real cloud app: tenant pool as farmiq_app,
 * publisher on the test vhost. in_app is stored sent and never queued; email/sms/push are stored
 * queued and enqueued once (with the request id); an idempotency key suppresses duplicates; the
 * inbox pages by cursor with an unread count, and mark read / read-all move it. Every answer is
 * checked against the OpenAPI document of the notifications router (test/support/openapi.ts).
 */
import type { Client } from '@temporalio/client';
import type { Channel } from 'amqplib';
import amqp from 'amqplib';
import type { Pool } from 'pg';
import { buildOpenApiDocument } from '../../gateways/http/api/openapi';
import { createCloudApp } from '../../gateways/http/cloud-app';
import { createNotificationsRouter } from '../../gateways/http/notifications/notifications-router';
import { NotificationQueue } from '../../notifications/queue';
import { sendNotification } from '../../notifications/send';
import { logger } from '../../platform/logger';
import { call, listen, ownerPool, seedTenant, tenantPool, testJwtSecret, type CallResult, type TestTenant } from '../auth/support';
import { testAmqpUrl } from '../support/amqp';
import { ResponseChecker } from '../support/openapi';
import { startTestBroker, type TestBroker } from './support';

const log = logger('test-notifications-api');
let owner: Pool;
let appPool: Pool;
let broker: TestBroker;
let queue: NotificationQueue;
let server: Awaited<ReturnType<typeof listen>>;
let a: TestTenant;
let b: TestTenant;
let inspect: { conn: amqp.ChannelModel; ch: Channel };
let checker: ResponseChecker;

/** call() of test/auth/support.ts, its answer checked against the document. */
async function api(method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<CallResult> {
  const r = await call(server.url, method, path, opts);
  checker.check(method, path, r.status, r.headers.get('content-type'), r.body);
  return r;
}

/** Only the insight routes start workflows; these tests never call them. */
const notUsedByTheseRoutes = {} as Client;

beforeAll(async () => {
  owner = ownerPool();
  appPool = tenantPool();
  broker = await startTestBroker('notify-api');
  queue = new NotificationQueue({ connection: broker.connection, names: broker.names, deliveryLimit: 5, log });
  server = await listen(
    createCloudApp({ pool: owner, tenantPool: appPool, notificationPublisher: queue, jwtSecret: testJwtSecret, log, temporalClient: notUsedByTheseRoutes }),
  );
  // The routes the app mounts, as the router declares them (no request reaches this instance).
  const documented = createNotificationsRouter({ pool: appPool, publisher: queue, log }).routes;
  checker = new ResponseChecker(buildOpenApiDocument(documented, { title: 'notifications test', version: '0' }) as never);
  a = await seedTenant(owner, 'Notify A');
  b = await seedTenant(owner, 'Notify B');
  const conn = await amqp.connect(testAmqpUrl);
  inspect = { conn, ch: await conn.createChannel() };
});

afterAll(async () => {
  await inspect?.conn.close().catch(() => {});
  await server?.close();
  await queue?.close();
  await broker?.close();
  await appPool?.end();
  await owner?.end();
});

/** Takes every message waiting in the delivery queue (no worker runs in this file). */
async function drainQueue(): Promise<{ body: unknown; headers: Record<string, unknown> }[]> {
  const out = [];
  for (let m = await inspect.ch.get(broker.names.queue, { noAck: true }); m; m = await inspect.ch.get(broker.names.queue, { noAck: true })) {
    out.push({ body: JSON.parse(m.content.toString()), headers: (m.properties.headers ?? {}) as Record<string, unknown> });
  }
  return out;
}

const post = (token: string, body: unknown, headers: Record<string, string> = {}) => api('POST', '/api/v1/notifications/send', { token, body, headers });

describe('POST /api/v1/notifications/send', () => {
  beforeEach(async () => {
    await drainQueue();
  });

  test('in_app to one user is stored sent at once and not queued', async () => {
    const r = await post(a.operator.token, {
      recipient_user_id: a.admin.id,
      channel: 'in_app',
      title: 'Insight ready',
      body: 'Barn 2 ADG dropped',
      data: { insight_id: 'i-1' },
    });
    expect(r.status).toBe(201);
    expect(r.body.duplicate).toBe(false);
    expect(r.body.notification).toMatchObject({
      tenant_id: a.id,
      recipient_user_id: a.admin.id,
      channel: 'in_app',
      status: 'sent',
      data: { insight_id: 'i-1' },
    });
    expect(r.body.notification.sent_at).toEqual(expect.any(String));
    expect(await drainQueue()).toEqual([]);
    const stored = await owner.query('SELECT status, sent_at FROM notifications WHERE id = $1', [r.body.notification.id]);
    expect(stored.rows[0].status).toBe('sent');
    expect((await owner.query('SELECT 1 FROM notification_deliveries WHERE notification_id = $1', [r.body.notification.id])).rowCount).toBe(0);
  });

  test.each(['email', 'sms', 'push'] as const)('%s is stored queued and enqueued once with the request id', async (channel) => {
    const requestId = `req-${channel}-${Date.now()}`;
    const r = await post(a.operator.token, { recipient_user_id: a.viewer.id, channel, title: `${channel} alert`, body: 'b' }, { 'x-request-id': requestId });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    expect(r.body.notification).toMatchObject({ channel, status: 'queued', attempt_count: 0 });
    const msgs = await drainQueue();
    expect(msgs).toEqual([
      { body: { notification_id: r.body.notification.id, tenant_id: a.id, attempt: 1 }, headers: expect.objectContaining({ 'x-request-id': requestId }) },
    ]);
    const stored = await owner.query('SELECT trace_id FROM notifications WHERE id = $1', [r.body.notification.id]);
    expect(stored.rows[0].trace_id).toBe(requestId);
    const d = await owner.query('SELECT dispatched_attempt FROM notification_deliveries WHERE notification_id = $1', [r.body.notification.id]);
    expect(d.rows).toEqual([{ dispatched_attempt: 1 }]);
  });

  test('the same idempotency key again returns the first notification: one row, one message', async () => {
    const key = `insight:${Date.now()}`;
    const body = { recipient_user_id: a.operator.id, channel: 'email', title: 'Weekly report', body: 'b', idempotency_key: key };
    const first = await post(a.operator.token, body);
    const again = await post(a.admin.token, { ...body, title: 'changed' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.notification.id).toBe(first.body.notification.id);
    expect(again.body.notification.title).toBe('Weekly report');
    expect((await owner.query('SELECT count(*)::int AS n FROM notifications WHERE tenant_id = $1 AND idempotency_key = $2', [a.id, key])).rows[0].n).toBe(1);
    expect(await drainQueue()).toHaveLength(1);
    // Keys are per tenant: B may use the same one.
    const other = await post(b.operator.token, { ...body, recipient_user_id: b.operator.id });
    expect(other.status).toBe(201);
    expect(other.body.notification.id).not.toBe(first.body.notification.id);
  });

  test('concurrent requests with one key store one notification', async () => {
    const key = `race:${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, () => post(a.operator.token, { channel: 'in_app', title: 'race', body: 'b', idempotency_key: key })),
    );
    expect(new Set(results.map((r) => r.body.notification.id)).size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
  });

  test('refusals: viewer 403; another tenant or its user 404; bad input 400 with a reason', async () => {
    const ok = { recipient_user_id: a.viewer.id, channel: 'in_app', title: 't', body: 'b' };
    expect((await post(a.viewer.token, ok)).status).toBe(403);
    const otherTenant = await post(a.operator.token, { ...ok, tenant_id: b.id });
    expect([otherTenant.status, otherTenant.body.error.code]).toEqual([404, 'not_found']);
    const otherUser = await post(a.operator.token, { ...ok, recipient_user_id: b.viewer.id });
    expect([otherUser.status, otherUser.body.error.code]).toEqual([404, 'not_found']);
    expect((await post(a.operator.token, { ...ok, tenant_id: a.id })).status).toBe(201);

    const noRecipient = await post(a.operator.token, { channel: 'email', title: 't', body: 'b' });
    expect([noRecipient.status, noRecipient.body.error.code, noRecipient.body.error.field]).toEqual([400, 'invalid_body', 'recipient_user_id']);
    expect((await post(a.operator.token, { ...ok, channel: 'pigeon' })).body.error).toMatchObject({ code: 'invalid_body', field: 'channel' });
    // Every problem of a body is named, the first one as the field.
    const twoProblems = (await post(a.operator.token, { ...ok, channel: 'pigeon', title: '' })).body.error;
    expect(twoProblems).toMatchObject({ code: 'invalid_body', field: 'channel', message: expect.stringMatching(/^channel: .*; title: /) });
    expect((await post(a.operator.token, { ...ok, title: '' })).status).toBe(400);
    expect((await post(a.operator.token, { ...ok, extra: 1 })).status).toBe(400);
    const badJson = await api('POST', '/api/v1/notifications/send', {
      token: a.operator.token,
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    const malformed = await fetch(`${server.url}/api/v1/notifications/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.operator.token}`, 'content-type': 'application/json' },
      body: '{"channel": ',
    });
    const answer = (await malformed.json()) as { error: { code: string } };
    checker.check('POST', '/api/v1/notifications/send', malformed.status, malformed.headers.get('content-type'), answer);
    expect(malformed.status).toBe(400);
    expect(answer.error.code).toBe('invalid_body');
    expect(await drainQueue()).toEqual([]);
  });

  test('a broker that is down does not fail the request: the row is left for the dispatcher', async () => {
    const down = { publish: async () => Promise.reject(new Error('RabbitMQ is not connected')) };
    const r = await sendNotification(
      { pool: appPool, publisher: down, log },
      { tenantId: a.id, recipientUserId: a.operator.id, channel: 'sms', title: 'later', body: 'b' },
    );
    expect(r.notification.status).toBe('queued');
    const d = await owner.query('SELECT dispatched_attempt, dispatched_at FROM notification_deliveries WHERE notification_id = $1', [r.notification.id]);
    expect(d.rows).toEqual([{ dispatched_attempt: 0, dispatched_at: null }]);
  });
});

describe('inbox, read, read-all', () => {
  let t: TestTenant;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await seedTenant(owner, 'Inbox');
    // 12 tenant-wide, 12 for the operator, 5 for the admin (not in the operator's inbox), 3 emails
    // to the operator (not in_app: not in the inbox), all with distinct, increasing timestamps.
    const rows: [string | null, string][] = [];
    for (let i = 0; i < 12; i++) rows.push([null, 'in_app'], [t.operator.id, 'in_app']);
    for (let i = 0; i < 5; i++) rows.push([t.admin.id, 'in_app']);
    for (let i = 0; i < 3; i++) rows.push([t.operator.id, 'email']);
    for (const [i, [user, channel]] of rows.entries()) {
      const r = await owner.query<{ id: string }>(
        `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status, created_at)
         VALUES ($1, $2, $3, $4, 'b', 'sent', now() - make_interval(secs => $5))
         RETURNING id`,
        [t.id, user, channel, `n${i}`, 1000 - i],
      );
      if (channel === 'in_app' && user !== t.admin.id) ids.push(r.rows[0].id);
    }
    // Same-microsecond rows: the id breaks the tie, so the cursor neither skips nor repeats.
    for (let i = 0; i < 3; i++) {
      const r = await owner.query<{ id: string }>(
        `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status, created_at)
         VALUES ($1, NULL, 'in_app', 'tie', 'b', 'sent', '2026-01-01T00:00:00.123456Z') RETURNING id`,
        [t.id],
      );
      ids.push(r.rows[0].id);
    }
  });

  const inbox = (token: string, query = '') => api('GET', `/api/v1/notifications/inbox${query}`, { token });

  test('pages newest first by cursor, own + tenant-wide in_app only, without gaps or repeats', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const r = await inbox(t.operator.token, `?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      pageSizes.push(r.body.items.length);
      seen.push(...r.body.items.map((n: { id: string }) => n.id));
      const times = r.body.items.map((n: { created_at: string }) => n.created_at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(
        r.body.items.every(
          (n: { channel: string; recipient_user_id: string | null }) =>
            n.channel === 'in_app' && (n.recipient_user_id === null || n.recipient_user_id === t.operator.id),
        ),
      ).toBe(true);
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(pageSizes).toEqual([10, 10, 7]);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  test('a bad cursor or limit is a 400', async () => {
    expect((await inbox(t.operator.token, '?cursor=bm9wZQ')).body.error).toMatchObject({ code: 'invalid_query', field: 'cursor' });
    expect((await inbox(t.operator.token, '?limit=0')).status).toBe(400);
    expect((await inbox(t.operator.token, '?limit=101')).status).toBe(400);
  });

  test('unread count, mark one read (own and tenant-wide, per user), mark all read', async () => {
    const start = await inbox(t.operator.token, '?limit=1');
    expect(start.body.unread_count).toBe(27);
    expect((await inbox(t.admin.token, '?limit=1')).body.unread_count).toBe(15 + 5);

    const own = (
      await owner.query<{ id: string }>(`SELECT id FROM notifications WHERE tenant_id = $1 AND user_id = $2 AND channel = 'in_app' LIMIT 1`, [
        t.id,
        t.operator.id,
      ])
    ).rows[0].id;
    const shared = (await owner.query<{ id: string }>(`SELECT id FROM notifications WHERE tenant_id = $1 AND user_id IS NULL LIMIT 1`, [t.id])).rows[0].id;
    const r1 = await api('POST', `/api/v1/notifications/${own}/read`, { token: t.operator.token });
    expect(r1.status).toBe(200);
    expect(r1.body).toEqual({ id: own, read_at: expect.any(String) });
    const again = await api('POST', `/api/v1/notifications/${own}/read`, { token: t.operator.token });
    expect(again.body.read_at).toBe(r1.body.read_at); // reading twice keeps the first time
    expect((await api('POST', `/api/v1/notifications/${shared}/read`, { token: t.operator.token })).status).toBe(200);
    expect((await inbox(t.operator.token, '?limit=1')).body.unread_count).toBe(25);
    // The tenant-wide one is read for the operator only.
    expect((await inbox(t.admin.token, '?limit=1')).body.unread_count).toBe(20);
    const got = await api('GET', `/api/v1/notifications/${shared}`, { token: t.operator.token });
    expect(got.body.notification.read_at).toEqual(expect.any(String));
    expect((await api('GET', `/api/v1/notifications/${shared}`, { token: t.admin.token })).body.notification.read_at).toBeNull();

    // Another user's notification is not in the operator's inbox: 404, and it stays unread.
    const adminsOwn = (await owner.query<{ id: string }>(`SELECT id FROM notifications WHERE tenant_id = $1 AND user_id = $2 LIMIT 1`, [t.id, t.admin.id]))
      .rows[0].id;
    expect((await api('POST', `/api/v1/notifications/${adminsOwn}/read`, { token: t.operator.token })).status).toBe(404);

    const all = await api('POST', '/api/v1/notifications/read-all', { token: t.operator.token });
    expect(all.body).toEqual({ marked: 25 });
    expect((await inbox(t.operator.token, '?limit=1')).body.unread_count).toBe(0);
    expect((await inbox(t.admin.token, '?limit=1')).body.unread_count).toBe(20);
    expect((await api('POST', '/api/v1/notifications/read-all', { token: t.operator.token })).body).toEqual({ marked: 0 });
  });

  test('viewers read their inbox but may not mark read', async () => {
    const r = await inbox(t.viewer.token);
    expect(r.status).toBe(200);
    expect(r.body.unread_count).toBe(15);
    const shared = r.body.items[0].id;
    expect((await api('POST', `/api/v1/notifications/${shared}/read`, { token: t.viewer.token })).status).toBe(403);
    expect((await api('POST', '/api/v1/notifications/read-all', { token: t.viewer.token })).status).toBe(403);
  });

  test("another tenant's notification is invisible: 404 on get and read, absent from the inbox", async () => {
    const theirs = ids[0];
    expect((await api('GET', `/api/v1/notifications/${theirs}`, { token: a.admin.token })).status).toBe(404);
    expect((await api('POST', `/api/v1/notifications/${theirs}/read`, { token: a.admin.token })).status).toBe(404);
    const mine = await inbox(a.admin.token, '?limit=100');
    expect(mine.body.items.map((n: { id: string }) => n.id)).not.toContain(theirs);
    expect(mine.body.items.every((n: { tenant_id: string }) => n.tenant_id === a.id)).toBe(true);
  });
});
