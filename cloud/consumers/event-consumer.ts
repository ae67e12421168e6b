/**
 * The base of every cloud consumer service (spec §8): it takes batches from the service's queue and
 * writes them in one transaction that first records (consumer, tenant_id, event_id) in
 * consumer_dedupe — a redelivered or republished event is then a no-op — and then runs the
 * service's idempotent writers. Messages are acknowledged only after the commit.
 *
 * When a batch fails, each message is retried in its own transaction, so one poison message
 * fails alone; redelivered messages are always written alone. What fails is told apart
 * (db/errors.ts): a message that can never succeed — not a valid event, or refused by the
 * database for its data (`storage_refused:<SQLSTATE>`) — is stored in dead_letters at once with
 * its reason and acked; any other failure is nacked with requeue until RabbitMQ's delivery limit
 * and stored on its last delivery (the broker's own dead-lettering only says `delivery_limit`).
 * A database outage holds the batch without counting a delivery. Should the consumer die on the
 * message instead, the broker dead-letters it and the dead-letter recorder stores it.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Pool, PoolClient } from 'pg';
import { classifyDatabaseError, isDatabaseUnavailable, refusalReason } from '../../db/errors';
import { inTransaction } from '../../db/transaction';
import type { EventType } from '../../domain/contracts';
import type { AmqpConnection } from '../../messaging/connection';
import { previousDeliveries, QueueConsumer, TransientError, type Verdict } from '../../messaging/consumer';
import { assertTopology, queueNameOf, type TopologyNames } from '../../messaging/topology';
import type { Logger } from '../../platform/logger';
import { eventKey, parseCloudEvent, type CloudEvent, type CloudEventOf } from '../cloud-event';
import { consumerMetrics } from '../metrics';
import { deadLetterOf, storeDeadLetter } from './dead-letters';

export interface WriteContext {
  log: Logger;
}

export type EventWriter<T extends EventType> = (client: PoolClient, events: CloudEventOf<T>[], ctx: WriteContext) => Promise<void>;
export type EventWriters = { [T in EventType]?: EventWriter<T> };

/** A consumer service: its name (queue, consumer_dedupe.consumer) and a writer per event type it receives. */
export interface ConsumerService {
  name: string;
  writers: EventWriters;
}

export interface EventConsumerOptions {
  service: ConsumerService;
  pool: Pool;
  connection: AmqpConnection;
  names: TopologyNames;
  deliveryLimit: number;
  log: Logger;
  prefetch: number;
  batchMax: number;
}

type Decoded = { ok: true; event: CloudEvent } | { ok: false; reason: string };

const dedupeSql = `
INSERT INTO consumer_dedupe (tenant_id, event_id, consumer)
SELECT tenant_id, event_id, $3 FROM unnest($1::uuid[], $2::uuid[]) AS u(tenant_id, event_id)
ON CONFLICT DO NOTHING
RETURNING tenant_id::text, event_id::text`;

export class EventConsumer {
  private readonly consumer: QueueConsumer;
  private readonly queue: string;
  private readonly log: Logger;

  constructor(private readonly opts: EventConsumerOptions) {
    this.queue = queueNameOf(opts.names, opts.service.name);
    this.log = opts.log.child({ consumer: opts.service.name });
    this.consumer = new QueueConsumer({
      connection: opts.connection,
      queue: this.queue,
      name: opts.service.name,
      log: opts.log,
      prefetch: opts.prefetch,
      batchMax: opts.batchMax,
      prepare: (ch) => assertTopology(ch, opts.names, { deliveryLimit: opts.deliveryLimit }),
      handle: (batch) => this.handle(batch),
    });
  }

  get name(): string {
    return this.opts.service.name;
  }

  get isConsuming(): boolean {
    return this.consumer.isConsuming;
  }

  start(): void {
    this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  /** One verdict per message; throws TransientError while the database is unreachable. */
  async handle(batch: ConsumeMessage[]): Promise<Verdict[]> {
    const started = process.hrtime.bigint();
    const verdicts: Verdict[] = new Array<Verdict>(batch.length);
    const valid: { index: number; msg: ConsumeMessage; event: CloudEvent }[] = [];
    for (const [index, msg] of batch.entries()) {
      const decoded = this.decode(msg);
      if (decoded.ok) valid.push({ index, msg, event: decoded.event });
      else verdicts[index] = await this.fail(msg, decoded.reason, undefined, 'permanent');
    }
    // A redelivered message may be the poison that failed its last batch: it goes alone, so it
    // does not drag the fresh messages around it into the one-by-one path again.
    const fresh = valid.filter((v) => previousDeliveries(v.msg) === 0);
    const suspects = valid.filter((v) => previousDeliveries(v.msg) > 0);
    if (fresh.length > 0) {
      try {
        await this.write(fresh.map((v) => v.event));
        for (const v of fresh) verdicts[v.index] = 'ack';
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw new TransientError(`database unavailable: ${(err as Error).message}`, err);
        suspects.push(...fresh); // find the culprit(s): the good ones commit alone, the bad ones fail
      }
    }
    for (const v of suspects) {
      try {
        await this.write([v.event]);
        verdicts[v.index] = 'ack';
      } catch (one) {
        const failure = classifyDatabaseError(one);
        if (failure === 'transient') throw new TransientError(`database unavailable: ${(one as Error).message}`, one);
        verdicts[v.index] =
          failure === 'refused'
            ? await this.fail(v.msg, `${refusalReason(one)}: ${(one as Error).message}`, v.event, 'permanent')
            : await this.fail(v.msg, `handler_error: ${(one as Error).message}`, v.event);
      }
    }
    const acked = verdicts.filter((v) => v === 'ack').length;
    consumerMetrics.messages.inc({ consumer: this.name, outcome: 'acked' }, acked);
    consumerMetrics.batchSeconds.observe({ consumer: this.name }, Number(process.hrtime.bigint() - started) / 1e9);
    return verdicts;
  }

  private decode(msg: ConsumeMessage): Decoded {
    let raw: unknown;
    try {
      raw = JSON.parse(msg.content.toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid_json' };
    }
    const parsed = parseCloudEvent(raw);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    if (!this.opts.service.writers[parsed.event.event_type]) {
      return { ok: false, reason: `unexpected_event_type:${parsed.event.event_type}` };
    }
    return { ok: true, event: parsed.event };
  }

  /** One transaction: dedupe rows first, then the writers for the events that are new to this consumer. */
  private async write(events: CloudEvent[]): Promise<void> {
    const written = await inTransaction(this.opts.pool, async (client) => {
      const { rows } = await client.query<{ tenant_id: string; event_id: string }>(dedupeSql, [
        events.map((e) => e.tenant_id),
        events.map((e) => e.event_id),
        this.name,
      ]);
      const fresh = new Set(rows.map((r) => eventKey(r.tenant_id, r.event_id)));
      const byType = new Map<EventType, CloudEvent[]>();
      for (const e of events) {
        const key = eventKey(e.tenant_id, e.event_id);
        if (!fresh.delete(key)) continue; // seen before, or twice in this batch
        const list = byType.get(e.event_type) ?? [];
        list.push(e);
        byType.set(e.event_type, list);
      }
      for (const [type, list] of byType) {
        const writer = this.opts.service.writers[type] as EventWriter<EventType> | undefined;
        await writer?.(client, list, { log: this.log });
      }
      return [...byType.values()].reduce((n, l) => n + l.length, 0);
    });
    const duplicates = events.length - written;
    if (duplicates > 0) consumerMetrics.messages.inc({ consumer: this.name, outcome: 'duplicate' }, duplicates);
  }

  /** Requeue (counting a delivery), or on the last delivery — or at once when it can never succeed — store the dead letter and ack. */
  private async fail(msg: ConsumeMessage, reason: string, event?: CloudEvent, kind: 'permanent' | 'retryable' = 'retryable'): Promise<Verdict> {
    const deliveries = previousDeliveries(msg) + 1;
    const headers: Record<string, unknown> = msg.properties.headers ?? {};
    const fields = {
      reason,
      deliveries,
      eventId: event?.event_id ?? headers.event_id,
      tenantId: event?.tenant_id ?? headers.tenant_id,
      traceId: event?.trace_id ?? headers.trace_id,
      requestId: headers['x-request-id'],
    };
    consumerMetrics.messages.inc({ consumer: this.name, outcome: 'failed' });
    if (kind === 'retryable' && deliveries <= this.opts.deliveryLimit) {
      this.log.warn(fields, 'message failed; requeued');
      return 'requeue';
    }
    const letter = deadLetterOf(msg, { queue: this.queue, reason, deliveryCount: deliveries });
    const unstored = await storeDeadLetter(this.opts.pool, letter, msg.content);
    if (unstored) {
      this.log.error({ ...fields, err: unstored.message }, 'could not store the dead letter; the broker will dead-letter it');
      return 'requeue';
    }
    consumerMetrics.deadLetters.inc({ queue: this.queue, reason: reason.split(/[:\s]/)[0] });
    this.log.error(fields, kind === 'permanent' ? 'message can never be stored; dead-lettered' : 'message dead-lettered after its last delivery');
    return 'ack';
  }
}
