/**
 * Consumes `farmiq.dead-letters`, where RabbitMQ puts what a consumer queue gave up on (a message
 * redelivered beyond x-delivery-limit because its consumer kept dying on it, or rejected without
 * requeue), and stores each one in dead_letters with the broker's reason from x-first-death-reason /
 * x-death, then acks it. Consumers store the poison messages they recognise themselves, with the
 * real error (event-consumer.ts); this catches the rest.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Pool } from 'pg';
import { isDatabaseUnavailable } from '../../db/errors';
import type { AmqpConnection } from '../../messaging/connection';
import { QueueConsumer, TransientError, type Verdict } from '../../messaging/consumer';
import { assertTopology, type TopologyNames } from '../../messaging/topology';
import type { Logger } from '../../platform/logger';
import { consumerMetrics } from '../metrics';
import { deadLetterOf, insertDeadLetters, storeDeadLetter, type DeadLetter } from './dead-letters';

export interface DeadLetterRecorderOptions {
  pool: Pool;
  connection: AmqpConnection;
  names: TopologyNames;
  deliveryLimit: number;
  log: Logger;
  prefetch?: number;
  batchMax?: number;
}

interface XDeath {
  queue?: string;
  reason?: string;
  count?: number;
  'routing-keys'?: string[];
}

/** Where and why RabbitMQ dead-lettered a message, from its headers. */
export function deathOf(msg: ConsumeMessage, deliveryLimit: number): { queue: string; reason: string; deliveryCount: number; routingKey?: string } {
  const h = msg.properties.headers ?? {};
  const deaths = Array.isArray(h['x-death']) ? (h['x-death'] as XDeath[]) : [];
  const first = deaths[deaths.length - 1] ?? {};
  const queue = String(h['x-first-death-queue'] ?? first.queue ?? 'unknown');
  const reason = String(h['x-first-death-reason'] ?? first.reason ?? 'unknown');
  const entry = deaths.find((d) => d.queue === queue && d.reason === reason) ?? first;
  // RabbitMQ resets x-delivery-count when it dead-letters; a delivery_limit death means the
  // message was delivered limit + 1 times.
  const deliveryCount = reason === 'delivery_limit' ? deliveryLimit + 1 : Math.max(1, Number(entry.count) || 1);
  return { queue, reason, deliveryCount, routingKey: entry['routing-keys']?.[0] };
}

export class DeadLetterRecorder {
  private readonly consumer: QueueConsumer;
  private readonly log: Logger;

  constructor(private readonly opts: DeadLetterRecorderOptions) {
    this.log = opts.log.child({ consumer: 'dead-letter-recorder' });
    this.consumer = new QueueConsumer({
      connection: opts.connection,
      queue: opts.names.deadQueue,
      name: 'dead-letter-recorder',
      log: opts.log,
      prefetch: opts.prefetch ?? 100,
      batchMax: opts.batchMax ?? 50,
      prepare: (ch) => assertTopology(ch, opts.names, { deliveryLimit: opts.deliveryLimit }),
      handle: (batch) => this.handle(batch),
    });
  }

  get name(): string {
    return 'dead-letter-recorder';
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

  async handle(batch: ConsumeMessage[]): Promise<Verdict[]> {
    const letters = batch.map((msg) => deadLetterOf(msg, deathOf(msg, this.opts.deliveryLimit)));
    try {
      await insertDeadLetters(this.opts.pool, letters);
      this.recorded(letters);
      return batch.map(() => 'ack');
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw new TransientError(`database unavailable: ${(err as Error).message}`, err);
    }
    // Some letter did not fit (e.g. JSON the jsonb type refuses): one by one, raw if need be.
    const verdicts: Verdict[] = [];
    for (const [i, letter] of letters.entries()) {
      const unstored = await storeDeadLetter(this.opts.pool, letter, batch[i].content);
      if (unstored) {
        this.log.error({ queue: letter.queue, err: unstored.message }, 'could not store a dead letter; requeued');
        verdicts.push('requeue');
      } else {
        this.recorded([letter]);
        verdicts.push('ack');
      }
    }
    return verdicts;
  }

  private recorded(letters: DeadLetter[]): void {
    for (const l of letters) {
      consumerMetrics.deadLetters.inc({ queue: l.queue, reason: l.reason.split(/[:\s]/)[0] });
      this.log.error({ queue: l.queue, reason: l.reason, eventId: l.eventId, tenantId: l.tenantId, traceId: l.traceId }, 'dead letter recorded');
    }
  }
}
