/**
 * Delivery of email/sms/push notifications end to end against real servers: Postgres, RabbitMQ
 * (test vhost), an SMTP server (smtp-server) and an HTTP receiver for the webhooks. Notifications
 * are created with sendNotification() — the same call the insight workflow's activity makes.
 *
 * Retries run with a policy of milliseconds instead of seconds and a fixed jitter source, so the
 * recorded delays can be compared with spec §7.4's formula exactly; no assertion depends on how
 * long anything took.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { retryDelayMs, syncRetryPolicy } from '../../domain/sync/retry-policy';
import { EmailChannel } from '../../notifications/channels/email';
import { WebhookChannel } from '../../notifications/channels/webhook';
import { DeliveryWorker } from '../../notifications/delivery-worker';
import { notificationMetrics } from '../../notifications/metrics';
import { NotificationQueue } from '../../notifications/queue';
import type { RetryPolicy } from '../../notifications/retry';
import { sendNotification, type NotificationDeps } from '../../notifications/send';
import { logger } from '../../platform/logger';
import { withTestChannel } from '../support/amqp';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';
import { until } from '../support/until';
import { startSmtpSink, startTestBroker, startWebhookReceiver, type SmtpSink, type TestBroker, type WebhookReceiver } from './support';

const log = logger('test-notifications');
const policy: RetryPolicy = { maxAttempts: 10, baseSeconds: 0.01, maxSeconds: 0.08, jitterSeconds: 0.004 };
const random = () => 0.5;

let owner: Pool;
let appPool: Pool;
let broker: TestBroker;
let smtp: SmtpSink;
let hooks: WebhookReceiver;
let queue: NotificationQueue;
let worker: DeliveryWorker;
let deps: NotificationDeps;
let t: TestTenant;

beforeAll(async () => {
  owner = ownerPool();
  appPool = tenantPool();
  broker = await startTestBroker('delivery');
  smtp = await startSmtpSink();
  hooks = await startWebhookReceiver();
  hooks.respond = (req, nth) => {
    const title: string = req.body?.title ?? '';
    const flaky = /^flaky-(\d+)/.exec(title);
    if (flaky) return nth <= Number(flaky[1]) ? 503 : 200;
    if (title.startsWith('always-500')) return 500;
    if (title.startsWith('bad-request')) return 400;
    if (title.startsWith('rate-limited')) return nth === 1 ? 429 : 200;
    return 200;
  };
  queue = new NotificationQueue({ connection: broker.connection, names: broker.names, deliveryLimit: 5, log });
  deps = { pool: appPool, publisher: queue, log };
  worker = new DeliveryWorker({
    pool: owner,
    connection: broker.connection,
    names: broker.names,
    deliveryLimit: 5,
    channels: {
      email: new EmailChannel({ smtpUrl: smtp.url, from: 'FarmIQ <notifications@farmiq.test>', timeoutMs: 5000 }),
      sms: new WebhookChannel({ url: `${hooks.url}/sms`, token: 'sms-gateway-token' }),
      push: new WebhookChannel({ url: `${hooks.url}/push` }),
    },
    log,
    policy,
    random,
    concurrency: 3,
    sendTimeoutMs: 5000,
    dispatchIntervalMs: 20,
    redispatchAfterMs: 60_000,
  });
  worker.start();
  t = await seedTenant(owner, 'Delivery');
});

afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  await broker?.close();
  await smtp?.close();
  await hooks?.close();
  await appPool?.end();
  await owner?.end();
});

interface Row {
  status: string;
  attempt_count: number;
  last_error: string | null;
  sent_at: Date | null;
}

async function row(id: string): Promise<Row> {
  const r = await owner.query<Row>('SELECT status, attempt_count, last_error, sent_at FROM notifications WHERE id = $1', [id]);
  return r.rows[0];
}

async function settled(id: string): Promise<Row> {
  return until(`notification ${id} to leave queued`, 20_000, async () => {
    const r = await row(id);
    return r.status === 'queued' ? undefined : r;
  });
}

interface Attempt {
  attempt: number;
  outcome: string;
  error: string | null;
  retry_delay_ms: number | null;
  started_at: Date;
  finished_at: Date;
  next_ok: boolean | null;
}

async function attempts(id: string): Promise<Attempt[]> {
  // next_ok: the following attempt did not start before this one's retry delay had passed (DB clock).
  const r = await owner.query<Attempt>(
    `SELECT attempt, outcome, error, retry_delay_ms, started_at, finished_at,
            lead(started_at) OVER (ORDER BY attempt) >= finished_at + make_interval(secs => retry_delay_ms / 1000.0) AS next_ok
       FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt`,
    [id],
  );
  return r.rows;
}

function send(channel: 'email' | 'sms' | 'push', title: string, extra: Partial<Parameters<typeof sendNotification>[1]> = {}) {
  return sendNotification(deps, { tenantId: t.id, recipientUserId: t.operator.id, channel, title, body: `Body of ${title}`, ...extra });
}

/** spec §7.4 with the test policy, by hand: 2^(n-1)·10 ms + 0.5·4 ms, capped at 80 ms. */
const handComputed = [12, 22, 42, 80, 80, 80, 80, 80, 80];

test('email is delivered to the SMTP server with the recipient, subject and body', async () => {
  const { notification } = await send('email', 'Barn 3 heat stress', { body: 'Temperature above 32 C for 3 hours in barn 3.', traceId: 'req-email-1' });
  expect(notification.status).toBe('queued');
  expect(await settled(notification.id)).toMatchObject({ status: 'sent', attempt_count: 1, last_error: null });
  const mail = smtp.mails.find((m) => m.raw.includes(notification.id));
  expect(mail).toBeDefined();
  expect(mail!.to).toEqual([t.operator.email]);
  expect(mail!.from).toBe('notifications@farmiq.test');
  expect(mail!.raw).toMatch(/^Subject: Barn 3 heat stress\r?$/m);
  expect(mail!.raw).toContain('Temperature above 32 C for 3 hours in barn 3.');
  expect(mail!.raw).toMatch(new RegExp(`^X-FarmIQ-Notification-Id: ${notification.id}\\r?$`, 'im'));
  expect(mail!.raw).toMatch(/^X-Request-Id: req-email-1\r?$/im);
  expect((await attempts(notification.id)).map((a) => a.outcome)).toEqual(['sent']);
});

test.each(['sms', 'push'] as const)('%s is POSTed to its webhook with recipient, content, idempotency key and request id', async (channel) => {
  const { notification } = await send(channel, `${channel} feed silo low`, { data: { silo: 'S2', level_pct: 8 }, traceId: `req-${channel}` });
  expect(await settled(notification.id)).toMatchObject({ status: 'sent', attempt_count: 1 });
  const got = hooks.requests.filter((r) => r.headers['idempotency-key'] === notification.id);
  expect(got).toHaveLength(1);
  expect(got[0].path).toBe(`/${channel}`);
  expect(got[0].headers['x-request-id']).toBe(`req-${channel}`);
  expect(got[0].headers.authorization).toBe(channel === 'sms' ? 'Bearer sms-gateway-token' : undefined);
  expect(got[0].body).toEqual({
    notification_id: notification.id,
    tenant_id: t.id,
    channel,
    attempt: 1,
    recipient: { user_id: t.operator.id, email: t.operator.email, display_name: 'Delivery operator' },
    title: `${channel} feed silo low`,
    body: `Body of ${channel} feed silo low`,
    data: { silo: 'S2', level_pct: 8 },
  });
});

test('a webhook failing 3 times then answering 200 is retried with the spec §7.4 delays, then sent', async () => {
  const { notification } = await send('sms', 'flaky-3 sensor offline');
  expect(await settled(notification.id)).toMatchObject({ status: 'sent', attempt_count: 4, last_error: null });
  const a = await attempts(notification.id);
  expect(a.map((x) => [x.attempt, x.outcome])).toEqual([
    [1, 'retry'],
    [2, 'retry'],
    [3, 'retry'],
    [4, 'sent'],
  ]);
  const delays = a.filter((x) => x.outcome === 'retry').map((x) => x.retry_delay_ms);
  expect(delays).toEqual([1, 2, 3].map((n) => Math.round(retryDelayMs(n, random, policy as unknown as typeof syncRetryPolicy))));
  expect(delays).toEqual(handComputed.slice(0, 3));
  // No attempt came before its delay was over (ordering of recorded DB timestamps, not a timing bound).
  expect(a.slice(0, -1).map((x) => x.next_ok)).toEqual([true, true, true]);
  expect(a[0].error).toMatch(/webhook answered 503/);
  const got = hooks.requests.filter((r) => r.headers['idempotency-key'] === notification.id);
  expect(got.map((r) => r.body.attempt)).toEqual([1, 2, 3, 4]);
});

test('429 from a webhook is retried like a 5xx', async () => {
  const { notification } = await send('push', 'rate-limited water usage');
  expect(await settled(notification.id)).toMatchObject({ status: 'sent', attempt_count: 2 });
});

test('a permanently failing channel ends in dlq after the 10th attempt, each delay per §7.4 (capped)', async () => {
  const { notification } = await send('sms', 'always-500 alarm');
  const final = await settled(notification.id);
  expect(final).toMatchObject({ status: 'dlq', attempt_count: 10, sent_at: null });
  expect(final.last_error).toMatch(/webhook answered 500/);
  const a = await attempts(notification.id);
  expect(a.map((x) => x.outcome)).toEqual([...Array(9).fill('retry'), 'dlq']);
  expect(a.map((x) => x.retry_delay_ms)).toEqual([...handComputed, null]);
  expect(a.slice(0, 9).map((x) => x.retry_delay_ms)).toEqual(
    Array.from({ length: 9 }, (_, i) => Math.round(retryDelayMs(i + 1, random, policy as unknown as typeof syncRetryPolicy))),
  );
  expect(a.slice(0, -1).every((x) => x.next_ok)).toBe(true);
  expect(hooks.requests.filter((r) => r.headers['idempotency-key'] === notification.id)).toHaveLength(10);
  expect((await owner.query('SELECT 1 FROM notification_deliveries WHERE notification_id = $1', [notification.id])).rowCount).toBe(0);
});

test('a 4xx answer is permanent: failed after one attempt, not retried', async () => {
  const { notification } = await send('push', 'bad-request payload');
  expect(await settled(notification.id)).toMatchObject({ status: 'failed', attempt_count: 1 });
  expect((await attempts(notification.id)).map((x) => x.outcome)).toEqual(['failed']);
});

test('SMTP: a 550 for the recipient is permanent (failed); a 451 is retried until dlq', async () => {
  const suffix = randomUUID().slice(0, 8);
  const bounce = await owner.query<{ id: string }>(`INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'viewer') RETURNING id`, [
    t.id,
    `bounce-${suffix}@x.example`,
  ]);
  const grey = await owner.query<{ id: string }>(`INSERT INTO users (tenant_id, email, role) VALUES ($1, $2, 'viewer') RETURNING id`, [
    t.id,
    `greylist-${suffix}@x.example`,
  ]);
  const bounced = await send('email', 'to a bounce address', { recipientUserId: bounce.rows[0].id });
  const greylisted = await send('email', 'to a greylisting server', { recipientUserId: grey.rows[0].id });
  const b = await settled(bounced.notification.id);
  expect(b).toMatchObject({ status: 'failed', attempt_count: 1 });
  expect(b.last_error).toMatch(/550/);
  const g = await settled(greylisted.notification.id);
  expect(g).toMatchObject({ status: 'dlq', attempt_count: 10 });
  expect(g.last_error).toMatch(/451/);
});

test('a redelivered or duplicated message for a sent notification does nothing', async () => {
  const { notification } = await send('sms', 'duplicate check');
  await settled(notification.id);
  const forThis = () => hooks.requests.filter((r) => r.headers['idempotency-key'] === notification.id).length;
  expect(forThis()).toBe(1);
  expect(await worker.attempt({ notificationId: notification.id, tenantId: t.id, attempt: 1 })).toBe('skipped');
  expect(await worker.attempt({ notificationId: notification.id, tenantId: t.id, attempt: 2 })).toBe('skipped');
  // The same through RabbitMQ: the worker consumes and skips it.
  const skipped = (await notificationMetrics.skipped.get()).values[0]?.value ?? 0;
  await queue.publish([{ notificationId: notification.id, tenantId: t.id, attempt: 1 }]);
  await until('the duplicate to be skipped', 20_000, async () =>
    ((await notificationMetrics.skipped.get()).values[0]?.value ?? 0) > skipped ? true : undefined,
  );
  expect(forThis()).toBe(1);
  expect(await row(notification.id)).toMatchObject({ status: 'sent', attempt_count: 1 });
  expect(await attempts(notification.id)).toHaveLength(1);
});

test('two copies of one attempt at once send once (the row lock serialises them)', async () => {
  // Inserted as if the API had published attempt 1 just now, so the dispatcher leaves it alone.
  const n = await owner.query<{ id: string }>(
    `INSERT INTO notifications (tenant_id, user_id, channel, title, body, status) VALUES ($1, $2, 'sms', 'race', 'race', 'queued') RETURNING id`,
    [t.id, t.operator.id],
  );
  const id = n.rows[0].id;
  await owner.query(`INSERT INTO notification_deliveries (tenant_id, notification_id, dispatched_attempt, dispatched_at) VALUES ($1, $2, 1, now())`, [
    t.id,
    id,
  ]);
  const outcomes = await Promise.all([1, 2, 3].map(() => worker.attempt({ notificationId: id, tenantId: t.id, attempt: 1 })));
  expect(outcomes.sort()).toEqual(['sent', 'skipped', 'skipped']);
  expect(hooks.requests.filter((r) => r.headers['idempotency-key'] === id)).toHaveLength(1);
});

test('a notification whose first publish failed is published by the dispatcher and delivered', async () => {
  const down = { publish: async () => Promise.reject(new Error('RabbitMQ is not connected')) };
  const { notification } = await sendNotification(
    { ...deps, publisher: down },
    {
      tenantId: t.id,
      recipientUserId: t.operator.id,
      channel: 'push',
      title: 'published later',
      body: 'the broker was away',
    },
  );
  expect(notification.status).toBe('queued');
  expect(await settled(notification.id)).toMatchObject({ status: 'sent', attempt_count: 1 });
});

test('a message that is not a delivery request is dead-lettered, not dropped and not blocking', async () => {
  await withTestChannel(async (ch) => {
    ch.publish(broker.names.exchange, broker.names.routingKey, Buffer.from('{"not":"a request"}'), { persistent: true, messageId: 'poison-1' });
  });
  const dead = await withTestChannel((ch) =>
    until('the poison message in the dead-letter queue', 20_000, async () => {
      for (let m = await ch.get(broker.names.deadQueue, { noAck: true }); m; m = await ch.get(broker.names.deadQueue, { noAck: true })) {
        if (m.properties.messageId === 'poison-1') return m;
      }
      return undefined;
    }),
  );
  expect(dead.content.toString()).toBe('{"not":"a request"}');
  expect(dead.properties.headers?.['x-first-death-queue']).toBe(broker.names.queue);
  // The queue keeps flowing.
  const { notification } = await send('sms', 'after the poison');
  expect(await settled(notification.id)).toMatchObject({ status: 'sent' });
});
