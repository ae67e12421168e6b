/**
 * Publishes due delivery attempts to RabbitMQ: retries whose wait (spec §7.4) is over, and first
 * attempts the API could not publish. A delivery row says which attempt was last published
 * (dispatched_attempt) and when; a row is due when next_attempt_at has come and either that
 * attempt has been made (so the next one is unpublished) or the published message has produced
 * nothing for `redispatchAfterMs` (lost with a crashed process or broker) — then it is published
 * again, and the worker's attempt check absorbs a duplicate.
 *
 * Why retries wait here and not in the broker: per-attempt TTL queues hold a message until it
 * reaches the head of its queue, so one message with a long jitter holds back the ones behind it,
 * and every change of the attempt count would mean new queues. A row with a due time is exact per
 * notification, survives restarts of either server, shows in SQL when the next attempt comes, and
 * is the same mechanism that recovers a crash between the API's commit and its publish. The cost
 * is one indexed query per interval (SKIP LOCKED lets several workers share it).
 */
import type { Pool } from 'pg';
import { inTransaction } from '../db/transaction';
import type { Logger } from '../platform/logger';
import { notificationMetrics } from './metrics';
import { markDispatched } from './notification-store';
import type { DeliveryPublisher } from './queue';
import type { DeliveryRequest } from './topology';

export interface DispatcherOptions {
  /** Owner pool (CLOUD_DATABASE_URL): the dispatcher works across tenants. */
  pool: Pool;
  publisher: DeliveryPublisher;
  log: Logger;
  intervalMs: number;
  redispatchAfterMs: number;
  batchSize?: number;
}

export class DeliveryDispatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failing = false;

  constructor(private readonly opts: DispatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** True unless the last round failed (RabbitMQ or Postgres away). */
  get healthy(): boolean {
    return !this.failing;
  }

  /** One round: publishes every due attempt (in batches); returns how many. */
  async dispatchDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.dispatchBatch();
      total += n;
      if (n < (this.opts.batchSize ?? 200)) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.dispatchDue()
        .then(() => {
          if (this.failing) this.opts.log.info('notification dispatcher recovered');
          this.failing = false;
        })
        .catch((err: Error) => {
          if (!this.failing) this.opts.log.warn({ err: err.message }, 'notification dispatch failed; retrying next round');
          this.failing = true;
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(this.opts.intervalMs);
        });
    }, delayMs);
  }

  private async dispatchBatch(): Promise<number> {
    const dispatched = await inTransaction(this.opts.pool, async (client) => {
      const due = await client.query<{ tenant_id: string; notification_id: string; attempt: number; trace_id: string | null }>(
        `SELECT d.tenant_id, d.notification_id, n.attempt_count + 1 AS attempt, n.trace_id
           FROM notification_deliveries d
           JOIN notifications n ON n.id = d.notification_id
          WHERE d.next_attempt_at <= now()
            AND n.status = 'queued'
            AND (d.dispatched_attempt <= n.attempt_count
                 OR d.dispatched_at IS NULL
                 OR d.dispatched_at < now() - make_interval(secs => $1::double precision / 1000))
          ORDER BY d.next_attempt_at
          LIMIT $2
          FOR UPDATE OF d SKIP LOCKED`,
        [this.opts.redispatchAfterMs, this.opts.batchSize ?? 200],
      );
      if (due.rowCount === 0) return [];
      const requests: DeliveryRequest[] = due.rows.map((r) => ({
        notificationId: r.notification_id,
        tenantId: r.tenant_id,
        attempt: r.attempt,
        traceId: r.trace_id,
      }));
      await this.opts.publisher.publish(requests);
      await markDispatched(client, requests);
      return requests;
    });
    if (dispatched.length === 0) return 0;
    notificationMetrics.dispatched.inc(dispatched.length);
    this.opts.log.debug({ count: dispatched.length }, 'delivery attempts dispatched');
    return dispatched.length;
  }
}
