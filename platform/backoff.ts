/**
 * Retrying with capped exponential backoff, and the abortable pause it waits in — the one copy
 * the processes use (start-up waits, RabbitMQ reconnects, held consumer batches, bridge commits
 * and signals, the presign's wait for a session).
 *
 * The sync forwarder's retries follow spec §7.4 instead (domain/sync/retry-policy.ts): they are
 * counted per event and scheduled by the workflow, not waited out in a process.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface Backoff {
  /** The first wait, in ms. */
  firstMs: number;
  /** No wait is longer than this (after jitter is applied, a wait may be shorter). */
  maxMs: number;
}

/** firstMs, 2·firstMs, 4·firstMs, … capped at maxMs, for ever. */
export function* backoffDelays({ firstMs, maxMs }: Backoff): Generator<number, never> {
  let ms = firstMs;
  for (;;) {
    yield ms;
    ms = Math.min(ms * 2, maxMs);
  }
}

/**
 * Waits `ms`; an abort ends the wait early (the promise resolves, it never rejects). Resolves
 * true when the full time passed, false when it was cut short.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') return false;
    throw err;
  }
}

/** What a failed attempt means: wait and try again, or end with a result instead. Throw to give up. */
export type RetryVerdict<T> = 'retry' | { result: T | Promise<T> };

export interface RetryOptions<T> {
  backoff: Backoff;
  /**
   * Decides on each failure, given the wait before the next attempt: `'retry'`, `{ result }` to
   * end with that value, or throw to end with that error. This is where a caller logs and checks
   * whether it is stopping.
   */
  onFailure: (err: unknown, next: { retryInMs: number; failures: number }) => RetryVerdict<T>;
  /** Cuts a wait short (the next attempt follows at once; onFailure decides whether to stop). */
  signal?: AbortSignal;
  /** Turns the backoff delay into the actual wait (e.g. jitter); the next delay still doubles from the undisturbed one. */
  jitter?: (ms: number) => number;
}

/** Runs `attempt` until it succeeds, waiting out the backoff between failures as onFailure decides. */
export async function withRetry<T>(attempt: () => Promise<T>, opts: RetryOptions<T>): Promise<T> {
  const delays = backoffDelays(opts.backoff);
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (err) {
      const base = delays.next().value;
      const retryInMs = opts.jitter ? opts.jitter(base) : base;
      const verdict = opts.onFailure(err, { retryInMs, failures });
      if (verdict !== 'retry') return await verdict.result;
      await pause(retryInMs, opts.signal);
    }
  }
}

export interface PollOptions<T> {
  backoff: Backoff;
  /** True when `value` is the answer, or when no further attempt is worth the wait of `retryInMs`. */
  done: (value: T, retryInMs: number) => boolean;
  signal?: AbortSignal;
}

/** Runs `attempt` until `done` accepts what it returned, waiting out the backoff in between. */
export async function retryUntil<T>(attempt: () => Promise<T>, opts: PollOptions<T>): Promise<T> {
  const delays = backoffDelays(opts.backoff);
  for (;;) {
    const value = await attempt();
    const retryInMs = delays.next().value;
    if (opts.done(value, retryInMs)) return value;
    await pause(retryInMs, opts.signal);
  }
}
