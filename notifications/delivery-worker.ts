/**
 * The delivery job of cloud-notification-service (spec §6 step 5, §7.4): consumes delivery
 * requests from RabbitMQ and makes one attempt per message through the notification's channel.
 *
 * Per message, in one transaction on the owner pool:
 *   lock the notification (SELECT … FOR UPDATE) → skip unless it is `queued` and the message asks for
 *   exactly its next attempt (a redelivered or duplicated message changes nothing) → send →
 *     sent:                 status sent, delivery row deleted
 *     permanent error:      status failed
 *     error, attempts left: attempt_count + 1, next_attempt_at = now + retryDelayMs(attempt)
 *                           (the dispatcher publishes the next attempt then)
 *     error, last attempt:  status dlq
 *   and every attempt recorded in notification_attempts → COMMIT → ack the message.
 *
 * The row lock is held across the send, so two copies of one message never send twice at once.
 * A crash after the far side accepted but before COMMIT repeats that attempt: email and webhooks are
 * at-least-once (webhooks carry an Idempotency-Key for that reason).
 *
 * Failures of the database path (db/errors.ts): Postgres away is
 * transient — the batch is held and retried without spending delivery counts. Postgres refusing
 * what the attempt would record is permanent and must not make the attempt (and its send) repeat:
 * the error text a channel returned is made storable before it is written, and if the record is
 * still refused the notification is quarantined — it ends `failed` with `storage_refused:<SQLSTATE>`,
 * its delivery row is deleted so it is never dispatched again, and the attempt is recorded with
 * the reason (each step kept when the database takes it). A notification that has no delivery row
 * left is never attempted again.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Pool, PoolClient } from 'pg';
import { isDatabaseUnavailable, isDataRefusal, refusalReason } from '../db/errors';
import { inSavepoint, inTransaction } from '../db/transaction';
import { toStorableText } from '../domain/contracts/storable';
import type { AmqpConnection } from '../messaging/connection';
import { QueueConsumer, TransientError, type Verdict } from '../messaging/consumer';
import type { Logger } from '../platform/logger';
import { DeliveryError, type DeliveryChannel, type OutgoingNotification } from './channels/channel';
import { DeliveryDispatcher } from './dispatcher';
import { notificationMetrics } from './metrics';
import type { NotificationChannel } from './model';
import { deleteDelivery, recordAttempt, recordEnd, recordQuarantined, recordRetry, scheduleNextAttempt } from './notification-store';
import { NotificationQueue } from './queue';
import { deliveryRetryDelayMs, deliveryRetryPolicy, type RetryPolicy } from './retry';
import { assertNotificationTopology, decodeDeliveryRequest, type DeliveryRequest, type NotificationTopology } from './topology';

export type QueuedChannel = Exclude<NotificationChannel, 'in_app'>;

export interface DeliveryWorkerOptions {
  /** Owner pool (CLOUD_DATABASE_URL): the worker serves every tenant. Size it above `concurrency`. */
  pool: Pool;
  connection: AmqpConnection;
  names: NotificationTopology;
  deliveryLimit: number;
  channels: Partial<Record<QueuedChannel, DeliveryChannel>>;
  log: Logger;
  policy?: RetryPolicy;
  /** Jitter source (tests pass a fixed one). */
  random?: () => number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  sendTimeoutMs?: number;
  dispatchIntervalMs?: number;
  redispatchAfterMs?: number;
}

export type AttemptOutcome = 'sent' | 'retry' | 'failed' | 'dlq' | 'skipped';

interface LockedNotification {
  id: string;
  tenant_id: string;
  user_id: string | null;
  channel: NotificationChannel;
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: string;
  attempt_count: number;
  trace_id: string | null;
  email: string | null;
  display_name: string | null;
  disabled_at: Date | null;
  /** The notification still has its delivery row (it is deleted when the notification ends). */
  due: boolean;
}

export class DeliveryWorker {
  private readonly consumer: QueueConsumer;
  private readonly queue: NotificationQueue;
  readonly dispatcher: DeliveryDispatcher;
  private readonly policy: RetryPolicy;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.policy = opts.policy ?? deliveryRetryPolicy;
    const concurrency = opts.concurrency ?? 8;
    this.queue = new NotificationQueue({ connection: opts.connection, names: opts.names, deliveryLimit: opts.deliveryLimit, log: opts.log });
    this.dispatcher = new DeliveryDispatcher({
      pool: opts.pool,
      publisher: this.queue,
      log: opts.log,
      intervalMs: opts.dispatchIntervalMs ?? 500,
      redispatchAfterMs: opts.redispatchAfterMs ?? 300_000,
    });
    this.consumer = new QueueConsumer({
      connection: opts.connection,
      queue: opts.names.queue,
      name: 'notification-delivery',
      log: opts.log,
      prefetch: concurrency * 2,
      batchMax: concurrency,
      flushDelayMs: 1,
      prepare: (channel) => assertNotificationTopology(channel, opts.names, opts.deliveryLimit),
      handle: (batch) => this.handleBatch(batch),
    });
  }

  get isConsuming(): boolean {
    return this.consumer.isConsuming;
  }

  start(): void {
    this.consumer.start();
    // The dispatcher's first round waits for the broker, so start-up does not log a failed round.
    void this.opts.connection
      .ready(this.stopping.signal)
      .then(() => {
        if (!this.stopping.signal.aborted) this.dispatcher.start();
      })
      .catch(() => {});
  }

  /** Stops publishing and consuming; attempts in progress finish and are acknowledged. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.dispatcher.stop();
    await this.consumer.stop();
    await this.queue.close();
    // Channels without close() (the webhook ones) hold nothing open; async turns their undefined into a promise for Promise.all.
    await Promise.all(Object.values(this.opts.channels).map(async (c) => c?.close?.()));
  }

  private async handleBatch(batch: ConsumeMessage[]): Promise<Verdict[]> {
    const results = await Promise.allSettled(batch.map((msg) => this.handleMessage(msg)));
    const unavailable = results.find((r) => r.status === 'rejected' && isDatabaseUnavailable(r.reason));
    if (unavailable) {
      // Postgres is away: hold the batch (attempts already committed are skipped on the retry).
      throw new TransientError('database unavailable', (unavailable as PromiseRejectedResult).reason);
    }
    return results.map((r, i) => {
      if (r.status === 'fulfilled') return r.value;
      this.opts.log.error({ err: (r.reason as Error).message, messageId: batch[i].properties.messageId }, 'delivery failed unexpectedly; requeueing');
      return 'requeue';
    });
  }

  private async handleMessage(msg: ConsumeMessage): Promise<Verdict> {
    const request = decodeDeliveryRequest(msg);
    if (!request) {
      // Unreadable: requeued until the queue's delivery limit dead-letters it (kept, not dropped).
      this.opts.log.error({ messageId: msg.properties.messageId }, 'delivery message is not a delivery request');
      return 'requeue';
    }
    await this.attempt(request);
    return 'ack';
  }

  /** Makes the attempt a request asks for, if it is still due; returns what happened. */
  async attempt(request: DeliveryRequest): Promise<AttemptOutcome> {
    const { pool, log } = this.opts;
    const done = await inTransaction(pool, async (client) => {
      const found = await client.query<LockedNotification & { started_at: Date }>(
        `SELECT n.id, n.tenant_id, n.user_id, n.channel, n.title, n.body, n.data, n.status, n.attempt_count, n.trace_id,
                u.email, u.display_name, u.disabled_at, clock_timestamp() AS started_at,
                EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_id = n.id) AS due
           FROM notifications n
           LEFT JOIN users u ON u.tenant_id = n.tenant_id AND u.id = n.user_id
          WHERE n.id = $1 AND n.tenant_id = $2
          FOR UPDATE OF n`,
        [request.notificationId, request.tenantId],
      );
      const n = found.rows[0];
      if (!n || n.status !== 'queued' || !n.due || n.attempt_count + 1 !== request.attempt) {
        return { skipped: { status: n?.status, attemptCount: n?.attempt_count } } as const;
      }
      const startedAt = found.rows[0].started_at;
      const error = await this.send(n, request.attempt, request.traceId ?? n.trace_id);
      const outcome = await this.recordOrQuarantine(client, n, request.attempt, startedAt, error);
      return { n, error, outcome } as const;
    });
    if ('skipped' in done) {
      notificationMetrics.skipped.inc();
      log.debug({ notificationId: request.notificationId, attempt: request.attempt, ...done.skipped }, 'stale delivery request skipped');
      return 'skipped';
    }
    const { n, error, outcome } = done;
    notificationMetrics.attempts.inc({ channel: n.channel, outcome });
    const fields = { requestId: n.trace_id, notificationId: n.id, tenantId: n.tenant_id, channel: n.channel, attempt: request.attempt };
    if (outcome === 'sent') log.info(fields, 'notification delivered');
    else log.warn({ ...fields, outcome, err: error?.message }, `notification delivery ${outcome === 'retry' ? 'failed; will retry' : `ended ${outcome}`}`);
    return outcome;
  }

  /** Undefined when delivered, else the error. */
  private async send(n: LockedNotification, attempt: number, traceId: string | null): Promise<DeliveryError | undefined> {
    const channel = this.opts.channels[n.channel as QueuedChannel];
    if (!channel) return new DeliveryError(`no ${n.channel} channel is configured on this worker`, true);
    if (!n.user_id || !n.email) return new DeliveryError('the recipient user no longer exists', true);
    if (n.disabled_at) return new DeliveryError('the recipient user is disabled', true);
    const outgoing: OutgoingNotification = {
      id: n.id,
      tenantId: n.tenant_id,
      channel: n.channel,
      title: n.title,
      body: n.body,
      data: n.data,
      attempt,
      traceId,
      recipient: { userId: n.user_id, email: n.email, displayName: n.display_name },
    };
    const end = notificationMetrics.sendSeconds.startTimer({ channel: n.channel });
    try {
      await channel.send(outgoing, AbortSignal.timeout(this.opts.sendTimeoutMs ?? 15_000));
      return undefined;
    } catch (err) {
      if (err instanceof DeliveryError) return err;
      const e = err as Error;
      return new DeliveryError(e.name === 'TimeoutError' ? `${n.channel} send timed out` : `${e.name}: ${e.message}`, false);
    } finally {
      end();
    }
  }

  /**
   * record(), or — when Postgres refuses what it writes — the quarantine: the notification ends
   * failed with storage_refused:<SQLSTATE> and is never dispatched again. Each step in a savepoint,
   * so what the database does take is kept; only the delivery row's removal is required.
   */
  private async recordOrQuarantine(
    client: PoolClient,
    n: LockedNotification,
    attempt: number,
    startedAt: Date,
    error: DeliveryError | undefined,
  ): Promise<Exclude<AttemptOutcome, 'skipped'>> {
    let refusal: unknown;
    try {
      return await inSavepoint(client, () => this.record(client, n, attempt, startedAt, error));
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      refusal = err;
    }
    const reason = toStorableText(
      `${refusalReason(refusal)}: the database refused to record attempt ${attempt} (${error ? `failed: ${error.message}` : 'delivered'}): ${(refusal as Error).message}`,
    ).slice(0, 2000);
    const kept: string[] = [];
    const tryStep = async (what: string, work: () => Promise<unknown>): Promise<void> => {
      try {
        await inSavepoint(client, work);
        kept.push(what);
      } catch (err) {
        if (!isDataRefusal(err)) throw err;
      }
    };
    await tryStep('status', () => recordQuarantined(client, n.id, attempt, reason));
    // Required: without its delivery row the notification is never dispatched (nor attempted) again.
    await deleteDelivery(client, n.id);
    await tryStep('attempt', () =>
      recordAttempt(client, {
        tenantId: n.tenant_id,
        notificationId: n.id,
        attempt,
        channel: n.channel,
        startedAt,
        outcome: 'failed',
        error: reason,
        retryDelayMs: null,
      }),
    );
    this.opts.log.error(
      { requestId: n.trace_id, notificationId: n.id, tenantId: n.tenant_id, attempt, reason: refusalReason(refusal), err: (refusal as Error).message, kept },
      'the database refused to record a delivery attempt; the notification is quarantined as failed and not dispatched again',
    );
    return 'failed';
  }

  private async record(
    client: PoolClient,
    n: LockedNotification,
    attempt: number,
    startedAt: Date,
    error: DeliveryError | undefined,
  ): Promise<Exclude<AttemptOutcome, 'skipped'>> {
    const maxAttempts = this.policy.maxAttempts;
    const outcome = !error ? 'sent' : error.permanent ? 'failed' : attempt >= maxAttempts ? 'dlq' : 'retry';
    // A channel's error may quote what the far side answered: stored minus what Postgres refuses.
    const message = error ? toStorableText(error.message.slice(0, 2000)) : null;
    const delayMs = outcome === 'retry' ? deliveryRetryDelayMs(attempt, this.policy, this.opts.random) : null;

    if (outcome === 'retry') {
      await recordRetry(client, n.id, attempt, message);
      await scheduleNextAttempt(client, n.id, delayMs);
    } else {
      await recordEnd(client, n.id, outcome, attempt, message);
      await deleteDelivery(client, n.id);
    }
    await recordAttempt(client, {
      tenantId: n.tenant_id,
      notificationId: n.id,
      attempt,
      channel: n.channel,
      startedAt,
      outcome,
      error: message,
      retryDelayMs: delayMs,
    });
    return outcome;
  }
}
