/**
 * The held pulls of POST /api/v1/edge/commands. A pull that found nothing waits until a command is
 * queued for its edge or its wait_seconds run out.
 *
 * Woken by Postgres LISTEN/NOTIFY: enqueueCommand notifies at commit (cloud/downlink/
 * command-queue.ts), from whichever cloud process enqueued, so a command reaches a waiting edge
 * within one round trip, and a thousand idle farm servers cost one listening connection instead
 * of a thousand queries a second. A notification can be lost (the listening connection broke and
 * reconnects), so each waiter also checks the table every `recheckMs` on its own.
 *
 * Bounded: at most `maxHeld` pulls wait at once (the next one is answered 503 `unavailable`, which
 * the edge backs off on), and one per edge (a new pull of the same edge releases the older one,
 * which answers what it has: an edge that timed out and asked again must not hold two slots).
 */
import { Client, type Pool } from 'pg';
import type { Logger } from '../../../platform/logger';
import { edgeCommandsChannel } from '../../../cloud/downlink/command-queue';

export interface CommandWaitersOptions {
  pool: Pool;
  log: Logger;
  maxHeld: number;
  /** How often a waiter checks the table without a notification; default 5 s. */
  recheckMs?: number;
  /** How long the listening connection stays open with nobody waiting; default 60 s. */
  lingerMs?: number;
}

export class TooManyWaiting extends Error {}

export class CommandWaiters {
  private listener?: Promise<Client | undefined>;
  private readonly byEdge = new Map<string, Set<() => void>>();
  private held = 0;
  private lingerTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: CommandWaitersOptions) {}

  /** Pulls waiting right now. */
  get waiting(): number {
    return this.held;
  }

  /**
   * Resolves once `check` says true (a command is there), the edge is notified and `check` agrees,
   * `ms` passed, `signal` aborted (the edge went away) or a newer pull of the same edge arrived.
   */
  async wait(edgeId: string, ms: number, check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    if (this.held >= this.opts.maxHeld) throw new TooManyWaiting(`${this.held} pulls are waiting already`);
    this.held += 1;
    clearTimeout(this.lingerTimer);
    for (const release of this.byEdge.get(edgeId) ?? []) release();
    const wakers = this.byEdge.get(edgeId) ?? new Set<() => void>();
    this.byEdge.set(edgeId, wakers);
    let superseded = false;
    // A notification that arrives while `check` runs must not be lost: it makes the loop check again.
    let woken: boolean | undefined;
    let wake: () => void = () => undefined;
    const supersede = () => {
      superseded = true;
      wake();
    };
    const notified = () => {
      woken = true;
      wake();
    };
    wakers.add(supersede);
    this.notifyHandlers.set(supersede, notified);
    try {
      await this.listen();
      const deadline = Date.now() + ms;
      while (!superseded && !signal.aborted && !this.closed) {
        woken = false;
        if (await check()) return;
        const left = deadline - Date.now();
        if (left <= 0) return;
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(left, this.opts.recheckMs ?? 5000));
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        wake = () => undefined;
      }
    } finally {
      wakers.delete(supersede);
      this.notifyHandlers.delete(supersede);
      if (wakers.size === 0) this.byEdge.delete(edgeId);
      this.held -= 1;
      if (this.held === 0) this.scheduleLinger();
    }
  }

  /** Closes the listening connection and releases every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.lingerTimer);
    for (const wakers of this.byEdge.values()) for (const release of wakers) this.notifyHandlers.get(release)?.();
    await this.stopListening();
  }

  // Per waiter (keyed by its supersede function): what a notification for its edge calls.
  private readonly notifyHandlers = new Map<() => void, () => void>();

  private onNotification(edgeId: string | undefined): void {
    if (!edgeId) return;
    for (const waiter of this.byEdge.get(edgeId) ?? []) this.notifyHandlers.get(waiter)?.();
  }

  private listen(): Promise<Client | undefined> {
    this.listener ??= (async () => {
      const client = new Client(this.opts.pool.options);
      client.on('error', (err) => {
        this.opts.log.warn({ err: err.message }, 'downlink listener failed; waiters fall back to rechecks');
        this.listener = undefined;
        client.end().catch(() => undefined);
      });
      client.on('notification', (n) => this.onNotification(n.payload));
      try {
        await client.connect();
        await client.query(`LISTEN ${edgeCommandsChannel}`);
        return client;
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'downlink listener could not connect; waiters fall back to rechecks');
        this.listener = undefined;
        await client.end().catch(() => undefined);
        return undefined;
      }
    })();
    return this.listener;
  }

  private scheduleLinger(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => void this.stopListening(), this.opts.lingerMs ?? 60_000);
    this.lingerTimer.unref();
  }

  private async stopListening(): Promise<void> {
    const pending = this.listener;
    this.listener = undefined;
    const client = await pending;
    await client?.end().catch(() => undefined);
  }
}
