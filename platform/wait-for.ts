/**
 * Start-up waits for its dependencies instead of crashing: a farm server boots Postgres,
 * Mosquitto and Temporal in whatever order systemd likes.
 */
import { withRetry } from './backoff';
import type { Logger } from './logger';

export async function waitFor<T>(what: string, attempt: () => Promise<T>, opts: { log: Logger; timeoutSeconds: number; signal?: AbortSignal }): Promise<T> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  return withRetry(attempt, {
    backoff: { firstMs: 250, maxMs: 5000 },
    onFailure: (err, { retryInMs }) => {
      if (opts.signal?.aborted) throw new Error(`stopped while waiting for ${what}`);
      if (Date.now() >= deadline) throw new Error(`${what} not reachable after ${opts.timeoutSeconds}s: ${(err as Error).message}`);
      opts.log.warn({ dependency: what, err: (err as Error).message, retryInMs }, 'waiting for dependency');
      return 'retry';
    },
  });
}
