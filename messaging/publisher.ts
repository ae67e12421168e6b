/**
 * Publishing with publisher confirms: a batch of messages is written to a ConfirmChannel as
 * persistent and mandatory, and `publish()` resolves only once RabbitMQ has confirmed every one of
 * them (for persistent messages to durable queues: written to disk / replicated by the quorum).
 * Anything else — broker down, channel closed, a nack, a confirm that never comes — rejects, and
 * the caller keeps its rows to try again. A message no queue is bound for comes back as a
 * basic.return before its confirm; it is reported so the caller does not count it as delivered.
 */
import type { Channel, ConfirmChannel, Message } from 'amqplib';
import type { Logger } from '../platform/logger';
import type { AmqpConnection } from './connection';

export interface OutgoingMessage {
  routingKey: string;
  body: Buffer;
  /** Unique per logical message; consumers and the returned-message check key on it. */
  messageId: string;
  /** AMQP `type` property (the event type). */
  type?: string;
  headers?: Record<string, string | number | undefined>;
}

export interface PublishResult {
  /** Messages RabbitMQ could not route to any queue (indices into the published array). */
  unroutable: number[];
}

export class BrokerUnavailableError extends Error {
  constructor(message = 'RabbitMQ is not connected') {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

export interface ConfirmPublisherOptions {
  connection: AmqpConnection;
  exchange: string;
  log: Logger;
  /** Runs on each new channel before its first publish (declare the topology there). */
  prepare?: (channel: Channel) => Promise<void>;
  /** A batch whose confirms take longer than this fails (and is published again later). */
  confirmTimeoutMs?: number;
  /** AMQP app_id of every message. */
  appId?: string;
}

export class ConfirmPublisher {
  private channel?: ConfirmChannel;
  private opening?: Promise<ConfirmChannel>;
  /** Ids of messages returned as unroutable, until the batch that published them looks. */
  private readonly returned = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opts: ConfirmPublisherOptions) {}

  /**
   * Publishes the batch and waits for its confirms. Several batches may be in flight on the one
   * channel at once (each waits only for its own confirms).
   */
  publish(messages: readonly OutgoingMessage[]): Promise<PublishResult> {
    const run = this.publishNow(messages);
    const tracked = run.catch(() => {});
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return run;
  }

  /** Waits for the batches in flight, then closes the channel (the next publish opens a new one). */
  async close(): Promise<void> {
    await Promise.all(this.inFlight);
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await ch.close().catch(() => {});
  }

  private async publishNow(messages: readonly OutgoingMessage[]): Promise<PublishResult> {
    if (messages.length === 0) return { unroutable: [] };
    const ch = await this.openChannel();
    const confirms: Promise<void>[] = [];
    const timestamp = Math.floor(Date.now() / 1000);
    for (const m of messages) {
      confirms.push(
        new Promise<void>((resolve, reject) => {
          // publish() returning false only means the socket buffer is full; a batch is bounded
          // (CLOUD_RELAY_BATCH_SIZE), so it is simply buffered and the confirms pace the caller.
          ch.publish(
            this.opts.exchange,
            m.routingKey,
            m.body,
            {
              persistent: true,
              mandatory: true,
              contentType: 'application/json',
              messageId: m.messageId,
              type: m.type,
              appId: this.opts.appId,
              timestamp,
              headers: m.headers,
            },
            (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
          );
        }),
      );
    }
    const timeoutMs = this.opts.confirmTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publisher confirms not received within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(confirms), timeout]);
    } finally {
      clearTimeout(timer);
    }
    // A basic.return always arrives before the confirm of the same message.
    const unroutable: number[] = [];
    if (this.returned.size > 0) {
      messages.forEach((m, i) => {
        if (this.returned.delete(m.messageId)) unroutable.push(i);
      });
    }
    return { unroutable };
  }

  private async openChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    this.opening ??= (async () => {
      const model = this.opts.connection.current;
      if (!model) throw new BrokerUnavailableError();
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: Error) => this.opts.log.warn({ err: err.message }, 'publisher channel error'));
      ch.once('close', () => {
        if (this.channel === ch) this.channel = undefined;
      });
      ch.on('return', (msg: Message) => {
        if (msg.properties.messageId) this.returned.add(String(msg.properties.messageId));
      });
      try {
        await this.opts.prepare?.(ch);
      } catch (err) {
        await ch.close().catch(() => {});
        throw err;
      }
      this.channel = ch;
      return ch;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }
}
