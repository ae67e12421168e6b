/**
 * A queue consumer that hands messages to its handler in batches and acknowledges each message
 * only after the handler says so — i.e. after the handler's database commit. It survives broker
 * restarts (a new channel and subscription on every reconnect; unacknowledged messages are
 * redelivered by RabbitMQ and the handler's dedupe absorbs them) and stops gracefully: cancel the
 * subscription, finish the batches already received, close the channel.
 *
 * The handler decides per message: ack, or nack with requeue (a failure RabbitMQ counts towards
 * the queue's delivery limit). When it throws TransientError (the database is down) the batch is
 * held and retried with backoff without touching the delivery counts, so an outage never
 * dead-letters good messages.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { withRetry } from '../platform/backoff';
import type { Logger } from '../platform/logger';
import type { AmqpConnection } from './connection';

export type Verdict = 'ack' | 'requeue';

/** Thrown by a handler when nothing in the batch is at fault: the batch is retried as it is. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

export type BatchHandler = (messages: ConsumeMessage[]) => Promise<Verdict[]>;

export interface QueueConsumerOptions {
  connection: AmqpConnection;
  queue: string;
  /** Names this consumer in logs and as the AMQP consumer tag prefix. */
  name: string;
  log: Logger;
  handle: BatchHandler;
  /** Unacknowledged messages RabbitMQ may send at once. */
  prefetch: number;
  /** Messages per handler call. */
  batchMax: number;
  /** How long the first message of a batch waits for company. */
  flushDelayMs?: number;
  /** Runs on each new channel before subscribing (declare the topology there). */
  prepare?: (channel: Channel) => Promise<void>;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** Earlier deliveries of this message (quorum queues count them in `x-delivery-count`). */
export function previousDeliveries(msg: ConsumeMessage): number {
  const n = Number(msg.properties.headers?.['x-delivery-count']);
  if (Number.isInteger(n) && n >= 0) return n;
  return msg.fields.redelivered ? 1 : 0;
}

interface Subscription {
  channel: Channel;
  tag?: string;
  buffer: ConsumeMessage[];
  timer?: NodeJS.Timeout;
  flushing?: Promise<void>;
  closed: boolean;
}

export class QueueConsumer {
  private sub?: Subscription;
  private subscribing?: Promise<void>;
  private stopping = false;
  private readonly retryAbort = new AbortController();
  private readonly log: Logger;
  private readonly onConnected = () => {
    void this.subscribe();
  };

  constructor(private readonly opts: QueueConsumerOptions) {
    this.log = opts.log.child({ consumer: opts.name });
  }

  get isConsuming(): boolean {
    return this.sub !== undefined && !this.sub.closed && this.sub.tag !== undefined;
  }

  start(): void {
    this.opts.connection.on('connected', this.onConnected);
    this.opts.connection.start();
    if (this.opts.connection.isConnected) void this.subscribe();
  }

  /** Stop receiving, finish what was received, close the channel. */
  async stop(): Promise<void> {
    this.stopping = true;
    // The batch being handled finishes; a batch waiting out a database outage is not retried
    // again but left unacknowledged, and closing the channel returns it to the queue.
    this.retryAbort.abort();
    this.opts.connection.off('connected', this.onConnected);
    await this.subscribing;
    const sub = this.sub;
    if (!sub) return;
    if (sub.tag && !sub.closed) await sub.channel.cancel(sub.tag).catch(() => {});
    if (sub.timer) clearTimeout(sub.timer);
    this.kick(sub);
    await sub.flushing;
    sub.closed = true;
    await sub.channel.close().catch(() => {});
  }

  private subscribe(): Promise<void> {
    this.subscribing ??= this.openSubscription().finally(() => {
      this.subscribing = undefined;
    });
    return this.subscribing;
  }

  private async openSubscription(): Promise<void> {
    const { queue } = this.opts;
    const { log } = this;
    const model = this.opts.connection.current;
    if (!model || this.stopping || (this.sub && !this.sub.closed)) return;
    let channel: Channel | undefined;
    try {
      channel = await model.createChannel();
      const sub: Subscription = { channel, buffer: [], closed: false };
      channel.on('error', (err: Error) => log.warn({ err: err.message }, 'consumer channel error'));
      channel.once('close', () => {
        sub.closed = true;
        if (sub.timer) clearTimeout(sub.timer);
        sub.buffer = []; // unacknowledged: RabbitMQ redelivers them
        if (this.sub === sub) this.sub = undefined;
      });
      await this.opts.prepare?.(channel);
      await channel.prefetch(this.opts.prefetch);
      this.sub = sub;
      const { consumerTag } = await channel.consume(queue, (msg) => this.receive(sub, msg), { noAck: false });
      sub.tag = consumerTag;
      log.info({ queue, prefetch: this.opts.prefetch }, 'consuming');
    } catch (err) {
      log.warn({ queue, err: (err as Error).message }, 'could not subscribe; retrying shortly');
      await channel?.close().catch(() => {});
      // A channel-level failure (e.g. a queue declared with other arguments) leaves the connection
      // up: try again after a pause rather than never.
      if (!this.stopping) setTimeout(() => void this.subscribe(), 5000).unref();
    }
  }

  private receive(sub: Subscription, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted): start over on a fresh channel.
      this.log.warn({ queue: this.opts.queue }, 'subscription cancelled by the broker');
      void sub.channel.close().catch(() => {});
      if (!this.stopping) setTimeout(() => void this.subscribe(), 1000).unref();
      return;
    }
    sub.buffer.push(msg);
    if (sub.buffer.length >= this.opts.batchMax) {
      this.kick(sub);
    } else if (!sub.timer) {
      sub.timer = setTimeout(() => this.kick(sub), this.opts.flushDelayMs ?? 5);
    }
  }

  private kick(sub: Subscription): void {
    if (sub.timer) {
      clearTimeout(sub.timer);
      sub.timer = undefined;
    }
    if (sub.flushing) return;
    sub.flushing = this.flushAll(sub).finally(() => {
      sub.flushing = undefined;
      if (sub.buffer.length > 0 && !sub.closed) this.kick(sub);
    });
  }

  private async flushAll(sub: Subscription): Promise<void> {
    while (sub.buffer.length > 0 && !sub.closed) {
      const batch = sub.buffer.splice(0, this.opts.batchMax);
      await this.process(sub, batch);
    }
  }

  private async process(sub: Subscription, batch: ConsumeMessage[]): Promise<void> {
    const { log } = this;
    const verdicts = await withRetry<Verdict[] | undefined>(async () => (sub.closed ? undefined : this.opts.handle(batch)), {
      backoff: { firstMs: this.opts.retryMinMs ?? 200, maxMs: this.opts.retryMaxMs ?? 5000 },
      signal: this.retryAbort.signal,
      onFailure: (err, { retryInMs }) => {
        if (!(err instanceof TransientError)) {
          // A handler bug must not stall the queue: every message goes back and counts a delivery,
          // so a message that always breaks the handler is dead-lettered at the limit.
          log.error({ err: (err as Error).message, messages: batch.length }, 'batch handler failed; requeueing');
          return { result: batch.map((): Verdict => 'requeue') };
        }
        if (this.retryAbort.signal.aborted) return { result: undefined }; // stopping: unacknowledged, so redelivered
        log.warn({ err: err.message, messages: batch.length, retryInMs }, 'batch held until its dependency is back');
        return 'retry';
      },
    });
    if (!verdicts || sub.closed) return; // redelivered on the next channel; the handler's dedupe absorbs it
    try {
      batch.forEach((msg, i) => {
        if (verdicts[i] === 'ack') sub.channel.ack(msg);
        else sub.channel.nack(msg, false, true);
      });
    } catch (err) {
      // The channel closed under us: the rest is redelivered on the next one.
      log.warn({ err: (err as Error).message }, 'could not acknowledge; the broker will redeliver');
    }
  }
}
