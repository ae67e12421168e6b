/** How fast the forwarder looks for work and how slowly it retries a cloud that refuses this edge. */
import { syncRetryPolicy } from '../../domain/sync/retry-policy';
import type { SyncLane } from '../../sync/sync-contract';

/** A refused edge is retried slowly: 60 s, 120 s, then every 300 s, or at once on connectivityRestored. */
export function misconfiguredRetryDelayMs(rounds: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, rounds - 1), syncRetryPolicy.maxSeconds * 1000);
}

/** How long the claim of each lane polls between looks (inside its long poll). */
export const claimPollMs: Record<SyncLane, number> = { live: 250, backfill: 1000 };
