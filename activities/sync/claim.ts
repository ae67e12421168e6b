/**
 * claimSyncBatch: claims a batch from sync_outbox — one lane, one tenant, leased to the batch id —
 * and keeps looking for a while when there is nothing to claim (a long poll). A claim the edge
 * database refuses is narrowed to the rows it refuses (see claimNarrowed).
 */
import type { Pool } from 'pg';
import { Context } from '@temporalio/activity';
import { maxEventsPerBatch } from '../../domain/sync/edge-batch';
import { isStorableText } from '../../domain/contracts/storable';
import { isDataRefusal } from '../../db/errors';
import { invalidSyncRequest } from '../../sync/sync-failures';
import * as outbox from '../../sync/outbox';
import { dataRefused, refusalNote, refusalsAreFinal } from '../failures';
import type { SyncActivityDeps } from './deps';
import { logRefused } from './held-rows';

export interface ClaimSyncBatchInput {
  /** The batch id, also the claimant written to claimed_by. */
  batchId: string;
  lane: outbox.SyncLane;
  batchSize: number;
  leaseSeconds: number;
  liveWindowSeconds: number;
  /** Keep looking for this long while there is nothing to claim (a long poll, heartbeating). */
  waitMs: number;
  pollMs: number;
}

export interface ClaimedSyncBatch {
  batchId: string;
  lane: outbox.SyncLane;
  ids: string[];
  tenantId: string | null;
  /** The highest attempt_count among the rows: the batch continues from there (see sendSyncBatch). */
  priorAttempts: number;
  /** Only sync.batch.* events: sending them appends no further monitoring events. */
  monitoringOnly: boolean;
  oldestOccurredAt: string | null;
}

/** Longest lease or live window a claim takes (a century): far larger ones overflow Postgres' timestamps. */
const maxClaimIntervalSeconds = 100 * 365 * 24 * 3600;

/**
 * Also refuses what the database would refuse in the claim itself (a batch id it cannot store, an
 * interval out of range), so that a refused claim can be blamed on a row (see claimSyncBatch).
 */
function validClaim(i: ClaimSyncBatchInput): boolean {
  return (
    typeof i.batchId === 'string' &&
    i.batchId.length > 0 &&
    i.batchId.length <= 200 &&
    isStorableText(i.batchId) &&
    (i.lane === 'live' || i.lane === 'backfill') &&
    Number.isInteger(i.batchSize) &&
    i.batchSize >= 1 &&
    i.batchSize <= maxEventsPerBatch &&
    i.leaseSeconds > 0 &&
    i.leaseSeconds <= maxClaimIntervalSeconds &&
    i.liveWindowSeconds > 0 &&
    i.liveWindowSeconds <= maxClaimIntervalSeconds &&
    i.waitMs >= 0 &&
    i.pollMs > 0
  );
}

/**
 * A claim the database refused, narrowed: the candidates are claimed one by one in claim order,
 * the batch taking the tenant of the first row accepted. A row refused while another row
 * accepted the same claim is at fault itself and is quarantined (failed, storage_refused), so
 * it never heads the lane again; the rest of the batch goes out as usual. When no row accepts
 * the claim, the claim itself is refused, no row is blamed and nothing changes: DataRefused.
 */
async function claimNarrowed(pool: Pool, req: outbox.ClaimRequest): Promise<outbox.ClaimedRow[]> {
  const candidates = await outbox.claimCandidates(pool, req);
  const claimed: outbox.ClaimedRow[] = [];
  const refused: { item: string; err: unknown }[] = [];
  const ctx = Context.current();
  for (const [i, c] of candidates.entries()) {
    if (claimed.length >= req.batchSize) break;
    if (i % 100 === 99) ctx.heartbeat(); // up to 10,000 single-row statements: the claim heartbeats
    if (claimed.length > 0 && c.tenant_id !== claimed[0].tenant_id) continue;
    try {
      const row = await outbox.claimRow(pool, req, c.id);
      if (row) claimed.push(row);
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      refused.push({ item: c.id, err });
    }
  }
  if (claimed.length === 0 && refused.length > 0) throw dataRefused('claimSyncBatch', refused[0].err);
  const stuck: { item: string; err: unknown }[] = [];
  for (const r of refused) {
    try {
      await outbox.quarantineUnclaimed(pool, r.item, req.instanceId, refusalNote(r.err, 'the edge database refused to claim this event'));
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      stuck.push({ item: r.item, err });
    }
  }
  logRefused(
    'the edge database refused to claim these events; quarantined as failed with the reason, the rest of the batch goes on',
    'claimSyncBatch',
    req.instanceId,
    refused,
  );
  logRefused('the edge database refused even to quarantine these events; each claim narrows past them', 'claimSyncBatch', req.instanceId, stuck);
  return outbox.sortClaimed(claimed);
}

async function claimOrNarrow(pool: Pool, req: outbox.ClaimRequest): Promise<outbox.ClaimedRow[]> {
  try {
    return await outbox.claimBatch(pool, req);
  } catch (err) {
    if (!isDataRefusal(err)) throw err;
    return claimNarrowed(pool, req);
  }
}

export async function claimSyncBatch({ pool }: SyncActivityDeps, input: ClaimSyncBatchInput): Promise<ClaimedSyncBatch> {
  if (!validClaim(input)) throw invalidSyncRequest(`claimSyncBatch: invalid input ${JSON.stringify(input)}`);
  const ctx = Context.current();
  const deadline = Date.now() + input.waitMs;
  const req: outbox.ClaimRequest = {
    instanceId: input.batchId,
    lane: input.lane,
    batchSize: input.batchSize,
    leaseSeconds: input.leaseSeconds,
    liveWindowSeconds: input.liveWindowSeconds,
  };
  return refusalsAreFinal('claimSyncBatch', async () => {
    for (;;) {
      const rows = await claimOrNarrow(pool, req);
      const left = deadline - Date.now();
      if (rows.length > 0 || left <= 0) {
        return {
          batchId: input.batchId,
          lane: input.lane,
          ids: rows.map((r) => r.id),
          tenantId: rows[0]?.tenant_id ?? null,
          priorAttempts: rows.reduce((n, r) => Math.max(n, r.attempt_count), 0),
          monitoringOnly: rows.length > 0 && rows.every((r) => outbox.isMonitoringEvent(r.event_type)),
          oldestOccurredAt: rows.length ? new Date(Math.min(...rows.map((r) => r.occurred_at.getTime()))).toISOString() : null,
        };
      }
      ctx.heartbeat();
      await ctx.sleep(Math.min(input.pollMs, left)); // rejects when the workflow cancels the claim (pause)
    }
  });
}
