/**
 * The delivery worker's database path when Postgres refuses what an attempt would record (issue 8
 * point 1), against the real cloud test database. Attempts are made directly (worker.attempt, the
 * call a delivery message leads to); the broker is not needed, so the worker is never started.
 *
 * A refusal is forced with a test-only NOT VALID CHECK constraint matching only this test's
 * notification, dropped again in `finally`. What must hold: the attempt is recorded (with the
 * channel's words made storable) or the notification is quarantined as failed with
 * storage_refused:<SQLSTATE> — never an attempt that fails, is redelivered and sends again — while
 * a database that is not there still holds the batch (TransientError) without spending it.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { Pool } from 'pg';
import { classifyDatabaseError } from '../../db/errors';
import { AmqpConnection } from '../../messaging/connection';
import { TransientError } from '../../messaging/consumer';
import { DeliveryError, type DeliveryChannel, type OutgoingNotification } from '../../notifications/channels/channel';
import { DeliveryWorker } from '../../notifications/delivery-worker';
import type { RetryPolicy } from '../../notifications/retry';
import { sendNotification } from '../../notifications/send';
import { encodeDeliveryRequest, notificationTopology } from '../../notifications/topology';
import { logger } from '../../platform/logger';
import { testCloudDatabaseUrl } from '../support/stack';
import { ownerPool, seedTenant, tenantPool, type TestTenant } from '../auth/support';

const log = logger('test-delivery-refusals');
const policy: RetryPolicy = { maxAttempts: 10, baseSeconds: 0.01, maxSeconds: 0.08, jitterSeconds: 0.004 };

let owner: Pool;
let appPool: Pool;
let t: TestTenant;
/** The notifications the fake sms channel was asked to send, in order. */
const sends: OutgoingNotification[] = [];

/** Delivers, except titles starting `nul-`: those fail with an error whose text holds a NUL. */
const sms: DeliveryChannel = {
  async send(n) {
    sends.push(n);
    if (n.title.startsWith('nul-')) throw new DeliveryError('gateway answered 503: \u0000overloaded', false);
  },
};

function workerOn(pool: Pool): DeliveryWorker {
  return new DeliveryWorker({
    pool,
    // Never started: attempts are made directly, so no broker is needed.
    connection: new AmqpConnection({ url: 'amqp://127.0.0.1:1', name: 'test-delivery-refusals', log }),
    names: notificationTopology(`test-refusals-${randomUUID().slice(0, 8)}.`),
    deliveryLimit: 5,
    channels: { sms },
    log,
    policy,
    random: () => 0.5,
  });
}

beforeAll(async () => {
  owner = ownerPool();
  appPool = tenantPool();
  t = await seedTenant(owner, 'Delivery refusals');
});

afterAll(async () => {
  await appPool?.end();
  await owner?.end();
});

beforeEach(() => {
  sends.length = 0;
});

async function queued(title: string): Promise<string> {
  const { notification } = await sendNotification(
    { pool: appPool, publisher: { publish: async () => undefined }, log },
    { tenantId: t.id, recipientUserId: t.operator.id, channel: 'sms', title, body: `Body of ${title}` },
  );
  expect(notification.status).toBe('queued');
  return notification.id;
}

async function state(id: string) {
  const n = await owner.query<{ status: string; attempt_count: number; last_error: string | null }>(
    'SELECT status, attempt_count, last_error FROM notifications WHERE id = $1',
    [id],
  );
  const d = await owner.query('SELECT 1 FROM notification_deliveries WHERE notification_id = $1', [id]);
  const a = await owner.query<{ attempt: number; outcome: string; error: string | null }>(
    'SELECT attempt, outcome, error FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt',
    [id],
  );
  return { ...n.rows[0], delivery: d.rowCount === 1, attempts: a.rows };
}

async function withConstraint<T>(check: string, body: () => Promise<T>): Promise<T> {
  const name = `refusal_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await owner.query(`ALTER TABLE notifications ADD CONSTRAINT ${name} CHECK (${check}) NOT VALID`);
  try {
    return await body();
  } finally {
    await owner.query(`ALTER TABLE notifications DROP CONSTRAINT ${name}`);
  }
}

test('a channel error whose text holds a NUL is recorded (made storable) and retried, not thrown back at the queue', async () => {
  const id = await queued(`nul-${randomUUID()}`);
  const worker = workerOn(owner);
  expect(await worker.attempt({ notificationId: id, tenantId: t.id, attempt: 1, traceId: null })).toBe('retry');
  const s = await state(id);
  expect(s).toMatchObject({ status: 'queued', attempt_count: 1, last_error: 'gateway answered 503: \ufffdoverloaded', delivery: true });
  expect(s.attempts).toEqual([{ attempt: 1, outcome: 'retry', error: 'gateway answered 503: \ufffdoverloaded' }]);
});

test('a notification the database refuses to mark sent is quarantined: failed with storage_refused, never dispatched again', async () => {
  const id = await queued(`refused-sent-${randomUUID()}`);
  const worker = workerOn(owner);
  await withConstraint(`id <> '${id}' OR status <> 'sent'`, async () => {
    expect(await worker.attempt({ notificationId: id, tenantId: t.id, attempt: 1, traceId: null })).toBe('failed');
  });
  const s = await state(id);
  expect(s).toMatchObject({ status: 'failed', attempt_count: 1, delivery: false });
  expect(s.last_error).toMatch(/^storage_refused:23514: /);
  expect(s.attempts).toEqual([{ attempt: 1, outcome: 'failed', error: s.last_error }]);
  expect(sends).toHaveLength(1);
});

test('a notification the database refuses any change to ends its deliveries (the attempt recorded, a redelivered request sends nothing); a database that is not there holds the batch', async () => {
  const id = await queued(`refused-all-${randomUUID()}`);
  const worker = workerOn(owner);
  await withConstraint(`id <> '${id}'`, async () => {
    expect(await worker.attempt({ notificationId: id, tenantId: t.id, attempt: 1, traceId: null })).toBe('failed');
    // The message redelivered (or dispatched again) finds nothing due.
    expect(await worker.attempt({ notificationId: id, tenantId: t.id, attempt: 1, traceId: null })).toBe('skipped');
  });
  const s = await state(id);
  expect(s).toMatchObject({ status: 'queued', attempt_count: 0, delivery: false });
  expect(s.attempts).toHaveLength(1);
  expect(s.attempts[0]).toMatchObject({ attempt: 1, outcome: 'failed' });
  expect(s.attempts[0].error).toMatch(/^storage_refused:23514: /);
  expect(sends).toHaveLength(1);

  // Unlike a refusal, a database that is not there is transient: the batch is held, nothing sent or spent.
  const away = new Pool({ connectionString: testCloudDatabaseUrl.replace(/@[^/]+\//, '@127.0.0.1:1/'), connectionTimeoutMillis: 1000 });
  try {
    const offline = workerOn(away);
    const request = { notificationId: randomUUID(), tenantId: t.id, attempt: 1, traceId: null };
    const err = await offline.attempt(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyDatabaseError(err)).toBe('transient');
    const msg = { content: encodeDeliveryRequest(request), fields: {}, properties: { headers: {}, messageId: 'm-1' } } as unknown as ConsumeMessage;
    await expect((offline as unknown as { handleBatch(b: ConsumeMessage[]): Promise<unknown> }).handleBatch([msg])).rejects.toBeInstanceOf(TransientError);
    expect(sends).toHaveLength(1);
  } finally {
    await away.end();
  }
});
