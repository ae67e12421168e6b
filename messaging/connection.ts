/**
 * The one AMQP connection of a process, which comes back by itself. RabbitMQ restarts, a network
 * cut or a missed heartbeat close it; it then reconnects with capped exponential backoff and
 * emits `connected` again, and each user (publisher, consumer) rebuilds its channel on that event.
 * Nothing is buffered here: while the broker is away a publisher fails fast (the outbox keeps the
 * rows) and consumers simply receive nothing.
 */
import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel } from 'amqplib';
import { withRetry } from '../platform/backoff';
import type { Logger } from '../platform/logger';

export interface AmqpConnectionOptions {
  url: string;
  /** Shown as the connection name in RabbitMQ's management UI and `rabbitmqctl list_connections`. */
  name: string;
  log: Logger;
  /** Missed heartbeats are how a silently dead peer is noticed; the URL's own `heartbeat` wins. */
  heartbeatSeconds?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface AmqpConnectionEvents {
  connected: [ChannelModel];
  disconnected: [Error | undefined];
}

/** The broker's address without credentials, for logs. */
export function safeAmqpAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5672'}${u.pathname || '/'}`;
  } catch {
    return '<invalid url>';
  }
}

function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    return url;
  }
}

export class AmqpConnection extends EventEmitter<AmqpConnectionEvents> {
  private model?: ChannelModel;
  private stopped = false;
  private connecting?: Promise<void>;
  private readonly sleeper = new AbortController();

  constructor(private readonly opts: AmqpConnectionOptions) {
    super();
  }

  get current(): ChannelModel | undefined {
    return this.model;
  }

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  /** Starts connecting in the background (no-op while connected); `connected` fires each time a connection is up. */
  start(): void {
    if (this.model || this.stopped) return;
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
  }

  /** Resolves with the live connection, waiting for one if necessary. */
  async ready(signal?: AbortSignal): Promise<ChannelModel> {
    if (this.model) return this.model;
    this.start();
    return new Promise<ChannelModel>((resolve, reject) => {
      const onAbort = () => {
        this.off('connected', onConnected);
        reject(new Error('stopped while waiting for RabbitMQ'));
      };
      const onConnected = (model: ChannelModel) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(model);
      };
      this.once('connected', onConnected);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.abort();
    const model = this.model;
    this.model = undefined;
    await this.connecting?.catch(() => {});
    if (model) await model.close().catch(() => {});
  }

  private async connectLoop(): Promise<void> {
    const { log, name } = this.opts;
    const url = withHeartbeat(this.opts.url, this.opts.heartbeatSeconds ?? 10);
    const model = await withRetry(
      async () => (this.stopped ? undefined : amqp.connect(url, { clientProperties: { connection_name: name }, timeout: 10_000 })),
      {
        backoff: { firstMs: this.opts.minBackoffMs ?? 250, maxMs: this.opts.maxBackoffMs ?? 10_000 },
        jitter: (ms) => Math.round(ms * (0.5 + Math.random() / 2)),
        signal: this.sleeper.signal,
        onFailure: (err, { retryInMs }) => {
          if (this.stopped) return { result: undefined };
          log.warn({ broker: safeAmqpAddress(this.opts.url), err: (err as Error).message, retryInMs }, 'RabbitMQ not reachable');
          return 'retry';
        },
      },
    );
    if (!model) return;
    if (this.stopped) {
      await model.close().catch(() => {});
      return;
    }
    // An 'error' event without a listener would crash the process; 'close' always follows it.
    model.on('error', (err: Error) => log.warn({ err: err.message, connection: name }, 'RabbitMQ connection error'));
    model.once('close', (err?: Error) => this.onClose(model, err));
    this.model = model;
    log.info({ broker: safeAmqpAddress(this.opts.url), connection: name }, 'connected to RabbitMQ');
    this.emit('connected', model);
  }

  private onClose(model: ChannelModel, err?: Error): void {
    if (this.model !== model) return;
    this.model = undefined;
    if (this.stopped) return;
    this.opts.log.warn({ connection: this.opts.name, err: err?.message }, 'RabbitMQ connection lost; reconnecting');
    this.emit('disconnected', err);
    this.start();
  }
}
