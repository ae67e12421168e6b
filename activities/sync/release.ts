/**
 * Giving outbox rows back to pending: a batch's rows (releaseSyncBatch, and the rows sendSyncBatch
 * does not send), and the rows an earlier forwarder left in flight (releaseExpiredSyncLeases).
 */
import type { Pool } from 'pg';
import { log } from '@temporalio/activity';
import { isDataRefusal } from '../../db/errors';
import { narrowRefusals } from '../../db/narrow';
import * as outbox from '../../sync/outbox';
import { refusalsAreFinal } from '../failures';
import type { SyncActivityDeps } from './deps';
import { logRefused } from './held-rows';

/** Gives rows back; a row the database refuses to give back keeps its lease until it runs out. */
export async function release(pool: Pool, step: string, owner: string, ids: readonly string[]): Promise<number> {
  const n = await narrowRefusals(ids, (part) => outbox.releaseClaims(pool, owner, part));
  logRefused('the edge database refused to give outbox rows back; they wait for their lease to run out', step, owner, n.refused);
  return n.changed;
}

export async function releaseSyncBatch({ pool }: SyncActivityDeps, input: { batchId: string; ids: string[] }): Promise<{ released: number }> {
  return refusalsAreFinal('releaseSyncBatch', async () => ({ released: await release(pool, 'releaseSyncBatch', input.batchId, input.ids) }));
}

export async function releaseExpiredSyncLeases({ pool, edgeId }: SyncActivityDeps): Promise<{ released: number }> {
  return refusalsAreFinal('releaseExpiredSyncLeases', async () => {
    let released: number;
    try {
      released = await outbox.releaseExpiredLeases(pool);
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      const n = await narrowRefusals(await outbox.expiredLeaseIds(pool), (part) => outbox.releaseExpiredLeases(pool, part));
      logRefused('the edge database refused to release these outbox rows; left as they are', 'releaseExpiredSyncLeases', edgeId, n.refused);
      released = n.changed;
    }
    if (released > 0) log.warn('released outbox rows left in flight by an earlier forwarder', { edgeId, released });
    return { released };
  });
}
