/**
 * The relay from ingestion_outbox to RabbitMQ (DESIGN §4, "no loss between dedupe and publish").
 *
 * One round: in a transaction, claim the oldest unpublished rows with FOR UPDATE SKIP LOCKED (so
 * any number of relays share the table without publishing a row twice at once), publish them to
 * the `farmiq.events` topic exchange as persistent messages on a confirm channel, wait for every
 * confirm, then set published_at (or delete the rows when retention is 0) and commit.
 *
 * A crash or a broker failure before the commit leaves the rows unpublished (the transaction rolls
 * back, the row locks go with the connection) and they are published again — at least once; the
 * consumers' (consumer, tenant_id, event_id) dedupe makes that exactly-once in the database. While
 * RabbitMQ is down the rows simply wait: the connection reconnects with backoff and the next
 * round picks them up.
 *
 * Rounds are triggered by a nudge after each committed ingestion batch (latency) and by a periodic
 * sweep (rows left by a crash, a broker outage or another process's nudge). The SQL on the table is
 * in ingestion-outbox.ts.
 */
import type { Pool } from 'pg';
import { inTransaction } from '../../db/transaction';
import type { Logger } from '../../platform/logger';
import type { AmqpConnection } from '../../messaging/connection';
import { ConfirmPublisher, type OutgoingMessage } from '../../messaging/publisher';
import { assertTopology, type TopologyNames } from '../../messaging/topology';
import { relayMetrics } from '../metrics';
import type { OutboxNudge } from './batch-ingestion';
import { claimUnpublished, deletePublished, markPublished, pruneOldPublished, recordFailure, type OutboxRow } from './ingestion-outbox';

export interface OutboxRelayOptions {
  pool: Pool;
  connection: AmqpConnection;
  names: TopologyNames;
  /** Declared with the topology (x-delivery-limit of the consumer queues). */
  deliveryLimit: number;
  log: Logger;
  /** Rows per round (one confirm wait, one UPDATE). */
  batchSize?: number;
  /** Rounds in flight at once (each claims other rows): overlaps confirm waits and commits. */
  concurrency?: number;
  sweepIntervalMs?: number;
  /** Published rows are kept this long for inspection, then deleted; 0 deletes them on publish. */
  retentionHours?: number;
  pruneEveryMs?: number;
  confirmTimeoutMs?: number;
}

/** The RabbitMQ message of an outbox row: the envelope as body, ids and trace in the headers. */
export function messageOf(row: OutboxRow): OutgoingMessage {
  const headers: Record<string, string> = { tenant_id: row.tenant_id, event_id: row.event_id, edge_id: row.edge_id };
  if (row.event_type) headers.event_type = row.event_type;
  if (row.trace_id) headers.trace_id = row.trace_id;
  if (row.request_id) headers['x-request-id'] = row.request_id;
  return {
    routingKey: row.routing_key,
    body: Buffer.from(row.envelope, 'utf8'),
    messageId: `${row.tenant_id}/${row.event_id}`,
    type: row.event_type ?? undefined,
    headers,
  };
}

export class OutboxRelay implements OutboxNudge {
  private readonly publisher: ConfirmPublisher;
  private readonly batchSize: number;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private sweep?: NodeJS.Timeout;
  private lastPrune = 0;
  private failing = false;
  private readonly onConnected = () => this.nudge();

  constructor(private readonly opts: OutboxRelayOptions) {
    this.batchSize = opts.batchSize ?? 500;
    this.publisher = new ConfirmPublisher({
      connection: opts.connection,
      exchange: opts.names.exchange,
      log: opts.log,
      appId: 'farmiq-cloud-ingestion',
      confirmTimeoutMs: opts.confirmTimeoutMs,
      prepare: (ch) => assertTopology(ch, opts.names, { deliveryLimit: opts.deliveryLimit }),
    });
  }

  start(): void {
    this.opts.connection.on('connected', this.onConnected);
    this.opts.connection.start();
    this.sweep = setInterval(() => this.nudge(), this.opts.sweepIntervalMs ?? 1000);
    this.sweep.unref();
    this.nudge();
  }

  /** New rows are waiting: run a round now (or right after the current one). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Whether the last round could publish (for /health). */
  get healthy(): boolean {
    return !this.failing && this.opts.connection.isConnected;
  }

  /** Finishes the round in progress (its rows are published and marked, or left for later). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    this.opts.connection.off('connected', this.onConnected);
    await this.running;
    await this.publisher.close();
  }

  /** Publishes until the outbox is empty (or a round fails); resolves with the rows published. */
  async drain(): Promise<number> {
    const lane = async (): Promise<number> => {
      let total = 0;
      for (;;) {
        const n = await this.publishRound();
        total += n;
        if (n < this.batchSize || this.stopped) return total;
      }
    };
    const lanes = await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? 3) }, lane));
    await this.maybePrune();
    return lanes.reduce((a, b) => a + b, 0);
  }

  /** One round: claim, publish with confirms, mark. Never throws; returns rows published. */
  async publishRound(): Promise<number> {
    if (!this.opts.connection.isConnected) return 0;
    let claimed: OutboxRow[] = [];
    try {
      const published = await inTransaction(this.opts.pool, async (client) => {
        claimed = await claimUnpublished(client, this.batchSize);
        if (claimed.length === 0) return undefined;
        const { unroutable } = await this.publisher.publish(claimed.map(messageOf));
        const bad = new Set(unroutable);
        const publishedIds = claimed.filter((_, i) => !bad.has(i)).map((r) => r.id);
        await (this.opts.retentionHours === 0 ? deletePublished : markPublished)(client, publishedIds);
        if (bad.size > 0) {
          const rows = claimed.filter((_, i) => bad.has(i));
          await recordFailure(
            client,
            rows.map((r) => r.id),
            'unroutable: no queue is bound for the routing key',
          );
          for (const r of rows) relayMetrics.unroutable.inc({ routing_key: r.routing_key });
          this.opts.log.error(
            { rows: rows.length, routingKeys: [...new Set(rows.map((r) => r.routing_key))] },
            'RabbitMQ returned unroutable messages; declaring the topology again',
          );
          await this.publisher.close(); // the next round opens a channel and declares the topology first
        }
        return publishedIds.length;
      });
      if (published === undefined) {
        this.recovered();
        return 0;
      }
      relayMetrics.published.inc(published);
      this.opts.log.debug({ published }, 'outbox rows published');
      this.recovered();
      return published;
    } catch (err) {
      this.failed(err as Error, claimed);
      return 0;
    }
  }

  private failed(err: Error, claimed: OutboxRow[]): void {
    relayMetrics.failures.inc({ reason: err.name === 'BrokerUnavailableError' ? 'broker' : 'error' });
    const fields = { err: err.message, rows: claimed.length };
    if (!this.failing) this.opts.log.warn(fields, 'outbox relay round failed; the rows stay unpublished and are retried');
    else this.opts.log.debug(fields, 'outbox relay round failed again');
    this.failing = true;
    if (claimed.length > 0) {
      // Best effort, outside the rolled-back transaction: shows an operator why rows are waiting.
      recordFailure(
        this.opts.pool,
        claimed.map((r) => r.id),
        err.message.slice(0, 500),
      ).catch(() => {});
    }
  }

  private recovered(): void {
    if (this.failing) this.opts.log.info('outbox relay publishing again');
    this.failing = false;
  }

  private async maybePrune(): Promise<void> {
    const retentionHours = this.opts.retentionHours ?? 24;
    if (retentionHours === 0) return;
    const now = Date.now();
    if (now - this.lastPrune < (this.opts.pruneEveryMs ?? 60_000)) return;
    this.lastPrune = now;
    try {
      let pruned = 0;
      for (;;) {
        const n = await pruneOldPublished(this.opts.pool, retentionHours * 3600, 10_000);
        pruned += n;
        if (n < 10_000 || this.stopped) break;
      }
      if (pruned > 0) {
        relayMetrics.pruned.inc(pruned);
        this.opts.log.info({ pruned, retentionHours }, 'pruned published outbox rows');
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'pruning published outbox rows failed');
    }
  }
}
