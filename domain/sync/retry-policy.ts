/**
 * The sync retry policy of spec §7.4 as DESIGN.md §4 reads it: at most 10 attempts; after the
 * n-th failed attempt the next one waits min(2^(n-1) s + jitter(0..1 s), 300 s), so the first
 * retry comes after about 1 s, then 2, 4, … 256 s, then the 300 s cap.
 */
export const syncRetryPolicy = {
  maxAttempts: 10,
  baseSeconds: 1,
  maxSeconds: 300,
  jitterSeconds: 1,
} as const;

/** Delay before the next attempt, in ms, after `failedAttempts` (≥ 1) attempts have failed. */
export function retryDelayMs(failedAttempts: number, random: () => number = Math.random, policy = syncRetryPolicy): number {
  const n = Math.max(1, failedAttempts);
  const exponential = 2 ** (n - 1) * policy.baseSeconds * 1000;
  const jitter = random() * policy.jitterSeconds * 1000;
  return Math.min(exponential + jitter, policy.maxSeconds * 1000);
}
