/** A batch's failed attempt at the cloud: recorded on its rows (attempt, error, when the retry may go), then thrown for Temporal to retry. */
import type { Pool } from 'pg';
import { log } from '@temporalio/activity';
import { retryDelayMs } from '../../domain/sync/retry-policy';
import { toStorableText } from '../../domain/contracts/storable';
import { narrowRefusals } from '../../db/narrow';
import { cloudBatchFailed } from '../../sync/sync-failures';
import * as outbox from '../../sync/outbox';
import { logRefused, shortfall } from './held-rows';

export interface SendAttempt {
  /** The batch id, the rows' claimant. */
  owner: string;
  /** The rows in the request. */
  ids: readonly string[];
  attempt: number;
  leaseSeconds: number;
}

/** Records the failed attempt on the rows (best effort), then throws CloudBatchFailed for Temporal to retry. */
export async function failBatchAttempt(pool: Pool, { owner, ids, attempt, leaseSeconds }: SendAttempt, message: string, status?: number): Promise<never> {
  const delayMs = retryDelayMs(attempt);
  try {
    const error = toStorableText(message.slice(0, 2000));
    const recorded = await narrowRefusals(ids, (part) =>
      outbox.recordAttemptFailure(pool, owner, part, {
        attempt,
        error,
        nextAttemptAt: new Date(Date.now() + delayMs),
        leaseUntil: new Date(Date.now() + delayMs + leaseSeconds * 1000),
      }),
    );
    shortfall('recordAttemptFailure', owner, ids.length - recorded.refused.length, recorded.changed);
    logRefused('the edge database refused to record a failed attempt on these rows; they keep their lease', 'recordAttemptFailure', owner, recorded.refused);
  } catch (err) {
    log.error('could not record a failed sync attempt on the outbox rows', { batchId: owner, attempt, err: (err as Error).message });
  }
  throw cloudBatchFailed(attempt, message, { status, delayMs });
}
