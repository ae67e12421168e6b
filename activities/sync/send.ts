/**
 * sendSyncBatch: sends one claimed batch to the cloud, signed, and settles every event by the
 * cloud's answer. The envelopes are read here, as stored, and those bytes are sent: they never
 * enter workflow history.
 */
import { Context, log } from '@temporalio/activity';
import {
  backlogCountCap,
  cloudUnavailableStatuses,
  edgeBatchPaths,
  maxBatchBodyBytes,
  maxEventsPerBatch,
  type EdgeStatusReport,
} from '../../domain/sync/edge-batch';
import { signRequest } from '../../domain/sync/request-signing';
import { toStorableText } from '../../domain/contracts/storable';
import { narrowRefusals } from '../../db/narrow';
import { cloudMisconfigured, cloudUnavailable, invalidSyncRequest, syncNotConfigured } from '../../sync/sync-failures';
import * as outbox from '../../sync/outbox';
import { refusalsAreFinal } from '../failures';
import { errorOf, resultsOf } from './cloud-answer';
import type { SyncActivityDeps } from './deps';
import { failBatchAttempt } from './failed-attempt';
import { logRefused, quarantineHeld, shortfall } from './held-rows';
import { monitoringOutboxEvents } from './monitoring';
import { release } from './release';
import { settleBatch, type Verdict } from './settle';

export interface SendSyncBatchInput {
  batchId: string;
  lane: outbox.SyncLane;
  ids: string[];
  priorAttempts: number;
  leaseSeconds: number;
}

export interface SentSyncBatch {
  /** This batch's attempt number over its whole life (prior attempts + Temporal's attempt). */
  attempt: number;
  /** Events in the request. */
  delivered: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  /** Rows actually moved to acked / failed (fewer than the outcomes if a lease was lost meanwhile). */
  acked: number;
  failed: number;
  /** Ids no longer held by this batch (another claimant took them after the lease ran out). */
  notHeld: number;
  /** Ids this batch had already settled (a retry after the outcomes were committed). */
  alreadySettled: number;
  /**
   * Rows the edge database refused to move on (to sending, or to the cloud's outcome), marked
   * failed with storage_refused:<SQLSTATE> instead; counted in `failed` too. Absent when none.
   */
  quarantined?: number;
  /** Rows given back unsent because the request would have outgrown the cloud's body limit. */
  deferred: number;
  monitoringEvents: number;
}

/**
 * The edge's backlog for the batch's edge_status; this batch's own rows count while still claimed.
 * Best effort: without it the batch still goes, as from an edge that reports none.
 */
async function edgeStatus(pool: SyncActivityDeps['pool'], owner: string): Promise<EdgeStatusReport | undefined> {
  try {
    const backlog = await outbox.outboxBacklog(pool, backlogCountCap);
    return { pending_events: backlog.pending, oldest_pending_at: backlog.oldestPendingAt?.toISOString() ?? null };
  } catch (err) {
    log.warn('could not count the sync backlog; the batch goes without it', { batchId: owner, err: (err as Error).message });
    return undefined;
  }
}

/** Where a batch goes on the cloud. */
export const edgeBatchRoute = edgeBatchPaths[0];

/**
 * Sends one batch, signed, and settles every event by the cloud's answer.
 *
 * The attempt number is the batch's prior attempts (the highest attempt_count among its rows,
 * left by earlier batches that failed on them) plus Temporal's attempt, so an event gets 10
 * attempts in all however often it was given back in between. A batch's rows share that count.
 *
 * A row the database refuses to mark sending is quarantined and not sent; one it refuses to
 * settle by the cloud's answer is quarantined in the same transaction as the others' outcomes.
 */
export function sendSyncBatch(deps: SyncActivityDeps, input: SendSyncBatchInput): Promise<SentSyncBatch> {
  const { pool, edgeId, cloud, identity } = deps;
  return refusalsAreFinal('sendSyncBatch', async () => {
    if (!input.batchId || input.ids.length === 0 || input.ids.length > maxEventsPerBatch || !(input.leaseSeconds > 0)) {
      throw invalidSyncRequest(`sendSyncBatch: invalid input for batch ${input.batchId} (${input.ids.length} ids)`);
    }
    const attempt = input.priorAttempts + Context.current().info.attempt;
    const owner = input.batchId;
    const id = identity.current();
    if (!id.configured) {
      await release(pool, 'sendSyncBatch', owner, input.ids);
      throw syncNotConfigured(id.reason);
    }

    const owned = await outbox.loadOwnedRows(pool, owner, input.ids);
    const held = owned.filter((r) => outbox.isHeld(r.status));
    const result: SentSyncBatch = {
      attempt,
      delivered: 0,
      accepted: 0,
      duplicate: 0,
      rejected: 0,
      acked: 0,
      failed: 0,
      notHeld: input.ids.length - owned.length,
      alreadySettled: owned.length - held.length,
      deferred: 0,
      monitoringEvents: 0,
    };
    const noteQuarantined = (n: number) => {
      if (n === 0) return;
      result.quarantined = (result.quarantined ?? 0) + n;
      result.failed += n;
    };
    if (result.notHeld > 0) log.warn('sync batch lost some rows to another claimant before sending', { batchId: owner, notHeld: result.notHeld });
    if (held.length === 0) return result;

    // The request must stay under the cloud's body limit: send the longest prefix that fits and
    // give the rest back (device messages are at most 64 KiB, so this is a safety net).
    const backlog = await edgeStatus(pool, owner);
    const head = `{"batch_id":${JSON.stringify(owner)},"edge_id":${JSON.stringify(edgeId)},${backlog ? `"edge_status":${JSON.stringify(backlog)},` : ''}"events":[`;
    let size = Buffer.byteLength(head) + 2;
    let fits = 0;
    for (const row of held) {
      const add = Buffer.byteLength(row.envelope) + (fits > 0 ? 1 : 0);
      if (fits > 0 && size + add > maxBatchBodyBytes) break;
      size += add;
      fits++;
    }
    let sending = held.slice(0, fits);
    const deferred = held.slice(fits);
    if (deferred.length > 0) {
      result.deferred = await release(
        pool,
        'sendSyncBatch',
        owner,
        deferred.map((r) => r.id),
      );
      log.warn('sync batch larger than the cloud body limit; the rest goes in a later batch', {
        batchId: owner,
        sending: sending.length,
        deferred: deferred.length,
      });
    }

    const toSending = await narrowRefusals(
      sending.map((r) => r.id),
      (part) => outbox.markSending(pool, owner, part, deps.requestTimeoutMs / 1000 + input.leaseSeconds),
    );
    shortfall('markSending', owner, sending.length - toSending.refused.length, toSending.changed);
    if (toSending.refused.length > 0) {
      noteQuarantined(await quarantineHeld(pool, 'markSending', owner, toSending.refused, 'the edge database refused to mark this event sending'));
      const out = new Set(toSending.refused.map((r) => r.item));
      sending = sending.filter((r) => !out.has(r.id));
      if (sending.length === 0) return result;
    }
    const ids = sending.map((r) => r.id);
    const body = Buffer.from(`${head}${sending.map((r) => r.envelope).join(',')}]}`, 'utf8');

    const path = cloud.pathOf(edgeBatchRoute);
    const exchange = await cloud.post(edgeBatchRoute, body, () => ({ ...signRequest(id.signer, 'POST', path, body), 'x-request-id': owner }));

    /** A failed attempt: recorded on the rows (best effort), then retried by Temporal. */
    const failAttempt = (message: string, status?: number): Promise<never> =>
      failBatchAttempt(pool, { owner, ids, attempt, leaseSeconds: input.leaseSeconds }, message, status);
    /** Not an attempt: the rows go back at once, untouched (the workflow's release is the backstop). */
    const giveBack = async (): Promise<void> => {
      await release(pool, 'sendSyncBatch', owner, ids).catch((err: Error) => {
        log.warn('could not give a sync batch back; its lease will run out', { batchId: owner, err: err.message });
      });
    };

    if (exchange.kind === 'unreachable') {
      await giveBack();
      throw cloudUnavailable(`cloud unreachable at ${cloud.baseUrl}: ${exchange.reason}`);
    }
    if (exchange.kind === 'broken') return failAttempt(exchange.reason);

    const { status } = exchange;
    if (cloudUnavailableStatuses.includes(status)) {
      await giveBack();
      const e = errorOf(exchange.body);
      throw cloudUnavailable(`cloud answered ${status} ${e.code}: ${e.message}`, status);
    }
    if (status === 401 || status === 403 || status === 404 || status === 405 || (status === 400 && errorOf(exchange.body).code === 'edge_mismatch')) {
      // A person must act (key, edge id, URL): no event is at fault, so none is dead-lettered.
      await giveBack();
      const e = errorOf(exchange.body);
      const why =
        status === 404 || status === 405 ? `no batch endpoint at ${cloud.baseUrl}${path}` : `the cloud refuses edge ${edgeId} (key ${id.signer.keyId})`;
      throw cloudMisconfigured(status, e.code, `${why}: ${status} ${e.code}: ${e.message}`);
    }
    if (status === 413 && ids.length > 1) {
      // The cloud's body limit is lower than ours: the batch sheds its second half (to a later
      // batch) and the retry sends the first.
      const shed = ids.slice(Math.ceil(ids.length / 2));
      await release(pool, 'sendSyncBatch', owner, shed).catch(() => undefined);
      ids.splice(Math.ceil(ids.length / 2));
    }
    if (status < 200 || status >= 300) {
      const e = errorOf(exchange.body);
      return failAttempt(`cloud answered ${status} ${e.code}: ${e.message}`, status);
    }

    // Delivered. The per-event answer is applied next; until then the rows say `sent` (a row the
    // database refuses to mark sent stays `sending`; the settle below decides it).
    const toSent = await narrowRefusals(ids, (part) => outbox.markSent(pool, owner, part));
    logRefused('the edge database refused to mark these rows sent; the settle decides them', 'markSent', owner, toSent.refused);
    const answer = resultsOf(exchange.body, owner, sending);
    if ('invalid' in answer) return failAttempt(answer.invalid, status);
    const { results } = answer;

    /** Each sent row with the cloud's verdict: a reason when it was rejected. */
    const outcomes: Verdict[] = [];
    results.forEach((r, i) => {
      if (r.status === 'accepted') result.accepted++;
      if (r.status === 'duplicate') result.duplicate++;
      // The cloud's words are stored as they came, minus what Postgres cannot hold.
      outcomes.push(r.status === 'rejected' ? { id: sending[i].id, rejectedFor: toStorableText(r.reason.slice(0, 2000)) } : { id: sending[i].id });
    });
    const rejected = outcomes.filter((o) => o.rejectedFor !== undefined);
    result.rejected = rejected.length;
    result.delivered = sending.length;

    const withMonitoring = !sending.every((r) => outbox.isMonitoringEvent(r.event_type));
    const monitoring = () => monitoringOutboxEvents(edgeId, owner, sending[0].tenant_id, attempt, sending.length, result);
    const settled = await settleBatch(pool, owner, outcomes, withMonitoring ? monitoring : null);
    result.acked += settled.acked;
    result.failed += settled.failed;
    noteQuarantined(settled.quarantined);
    result.monitoringEvents = settled.monitoringEvents;
    shortfall('settle', owner, sending.length, result.acked + result.failed);
    if (rejected.length > 0)
      log.warn('cloud rejected events; marked failed with the reason', { batchId: owner, rejected: rejected.length, firstReason: rejected[0].rejectedFor });
    return result;
  });
}
