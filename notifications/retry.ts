/**
 * Delivery retries follow the sync policy of spec §7.4 (domain/sync/retry-policy.ts): at most 10
 * attempts, the n-th failure waits min(2^(n-1) s + jitter(0..1 s), 300 s) before attempt n+1.
 * A different policy (tests: milliseconds instead of seconds) goes through the same formula.
 */
import { retryDelayMs, syncRetryPolicy } from '../domain/sync/retry-policy';

export interface RetryPolicy {
  maxAttempts: number;
  baseSeconds: number;
  maxSeconds: number;
  jitterSeconds: number;
}

export const deliveryRetryPolicy: RetryPolicy = { ...syncRetryPolicy };

/** Whole milliseconds to wait after `failedAttempts` failures (what notification_attempts records). */
export function deliveryRetryDelayMs(failedAttempts: number, policy: RetryPolicy = deliveryRetryPolicy, random: () => number = Math.random): number {
  // retryDelayMs types its policy as the literal syncRetryPolicy; any object of the same shape works.
  return Math.round(retryDelayMs(failedAttempts, random, policy as unknown as typeof syncRetryPolicy));
}
