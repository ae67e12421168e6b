/**
 * The activities of the sync forwarder (spec §7, DESIGN.md §3 "Cloud sync"): claim a batch from
 * sync_outbox, send it to the cloud signed, settle each event by the cloud's answer, and the few
 * housekeeping steps around them. Built by a factory that closes over the edge pool and the cloud
 * client; workflows import these as types only.
 *
 * Envelopes never enter workflow history: a claim returns ids and counts, and the send activity
 * reads the envelopes itself, as stored, and sends those bytes.
 *
 * Failures (activities/failures.ts): a transient database failure is thrown as it is and retried
 * by the preset. A statement the edge database refuses for a data reason is narrowed to the rows
 * it refuses (the rest goes on at once); such a row is quarantined — `failed`, with
 * `storage_refused:<SQLSTATE>` in last_error, where the DLQ API lists it and an operator can
 * requeue it — so it never blocks a lane. A claim that no row accepts (the claim itself is
 * refused, not a row) and any refusal left over end the activity as a non-retryable DataRefused.
 * Text from the cloud (rejection reasons, error bodies) is made storable before it is written.
 */
import type { Pool } from 'pg';
import { Context, log } from '@temporalio/activity';
import {
  apiError,
  cloudUnavailableStatuses,
  edgeBatchPaths,
  edgeBatchResponse,
  maxBatchBodyBytes,
  maxEventsPerBatch,
  type EventOutcome,
} from '../../domain/sync/edge-batch';
import { signRequest } from '../../domain/sync/request-signing';
import { retryDelayMs } from '../../domain/sync/retry-policy';
import { farmEventSchema, type FarmEvent } from '../../domain/contracts';
import { uuidV5 } from '../../domain/ids';
import type { CloudClient } from '../../sync/cloud-client';
import type { EdgeIdentity } from '../../sync/edge-identity';
import { isDataRefusal, refusalReason } from '../../db/errors';
import { inSavepoint, inTransaction } from '../../db/transaction';
import { isStorableText, toStorableText } from '../../domain/contracts/storable';
import { cloudBatchFailed, cloudMisconfigured, cloudUnavailable, invalidSyncRequest, syncNotConfigured } from '../../sync/sync-failures';
import * as outbox from '../../sync/outbox';
import { narrowRefusals } from '../../db/narrow';
import { dataRefused, refusalNote, refusalsAreFinal } from '../failures';

export interface SyncActivityDeps {
  pool: Pool;
  edgeId: string;
  cloud: CloudClient;
  identity: { current(): EdgeIdentity };
  /** The cloud client's request timeout: a batch's lease must outlast its request. */
  requestTimeoutMs: number;
  /** How often waitForCloud asks GET /health. */
  probeEveryMs?: number;
}

export interface SyncConfigurationCheck {
  configured: boolean;
  reason?: string;
  keyId?: string;
  cloudUrl: string;
}

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

export interface WaitForCloudInput {
  maxWaitMs: number;
}

export interface WaitForCloudResult {
  reachable: boolean;
  waitedMs: number;
  probes: number;
  lastReason?: string;
}

/**
 * Runs an activity while heartbeating every second (the SDK throttles what reaches the server), so
 * that when the worker dies mid-activity Temporal retries it after the activity's heartbeatTimeout
 * rather than its whole startToCloseTimeout.
 */
function heartbeating<A extends unknown[], R>(activity: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 1000);
    try {
      return await activity(...args);
    } finally {
      clearInterval(beat);
    }
  };
}

/** Where a batch goes on the cloud. */
export const edgeBatchRoute = edgeBatchPaths[0];

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

/** device_id of the monitoring events: the edge id, made a valid topic segment. */
function edgeDeviceId(edgeId: string): string {
  return edgeId.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64) || 'edge';
}

function monitoringEvents(
  edgeId: string,
  batchId: string,
  tenantId: string,
  attempt: number,
  delivered: number,
  counts: { accepted: number; duplicate: number; rejected: number },
): FarmEvent[] {
  const ts = new Date().toISOString();
  const base = { schema_version: '1.0', trace_id: batchId.slice(0, 128), tenant_id: tenantId, device_id: edgeDeviceId(edgeId), ts };
  const events: FarmEvent[] = [
    {
      ...base,
      event_id: uuidV5(`sync.batch.sent|${edgeId}|${batchId}|${attempt}`),
      event_type: 'sync.batch.sent',
      payload: { edge_id: edgeId, batch_id: batchId, event_count: delivered, attempt },
    },
    {
      ...base,
      event_id: uuidV5(`sync.batch.acked|${edgeId}|${batchId}`),
      event_type: 'sync.batch.acked',
      payload: { edge_id: edgeId, batch_id: batchId, accepted: counts.accepted, duplicate: counts.duplicate, rejected: counts.rejected },
    },
  ];
  return events.filter((e) => farmEventSchema.safeParse(e).success);
}

/** The error code and sentence of a non-2xx cloud answer, as far as it follows the contract. */
function errorOf(body: Buffer): { code: string; message: string } {
  try {
    const parsed = apiError.safeParse(JSON.parse(body.toString('utf8')));
    if (parsed.success) return parsed.data.error;
  } catch {
    // not JSON
  }
  return { code: 'unknown', message: body.toString('utf8').slice(0, 200) };
}

export function createSyncActivities(deps: SyncActivityDeps) {
  const { pool, edgeId, cloud, identity } = deps;
  const probeEveryMs = deps.probeEveryMs ?? 1500;

  function shortfall(step: string, batchId: string, expected: number, changed: number): void {
    if (changed < expected)
      log.warn('sync batch no longer holds every row (its lease ran out and another batch claimed them)', { step, batchId, expected, changed });
  }

  function logRefused(message: string, step: string, batchId: string, refused: readonly { item: string; err: unknown }[]): void {
    if (refused.length === 0) return;
    log.error(message, {
      step,
      batchId,
      ids: refused.map((r) => r.item).slice(0, 20),
      refused: refused.length,
      reason: refusalReason(refused[0].err),
      err: (refused[0].err as Error).message,
    });
  }

  /** Gives rows back; a row the database refuses to give back keeps its lease until it runs out. */
  async function release(step: string, owner: string, ids: readonly string[]): Promise<number> {
    const n = await narrowRefusals(ids, (part) => outbox.releaseClaims(pool, owner, part));
    logRefused('the edge database refused to give outbox rows back; they wait for their lease to run out', step, owner, n.refused);
    return n.changed;
  }

  type Guard = <T>(work: () => Promise<T>) => Promise<T>;
  const direct: Guard = (work) => work();

  /**
   * Held rows the database refused to move on: → failed with `storage_refused:<SQLSTATE>` (fenced
   * like markFailed). A row that refuses even that is left as it is (its lease runs out). Inside a
   * transaction, `guard` puts each row in a savepoint.
   */
  async function quarantineHeld(
    db: outbox.Queryable,
    step: string,
    owner: string,
    refused: readonly { item: string; err: unknown }[],
    what: string,
    guard: Guard = direct,
  ): Promise<number> {
    let quarantined = 0;
    const stuck: { item: string; err: unknown }[] = [];
    for (const r of refused) {
      try {
        quarantined += await guard(() => outbox.markFailed(db, owner, [{ id: r.item, reason: refusalNote(r.err, what) }]));
      } catch (err) {
        if (!isDataRefusal(err)) throw err;
        stuck.push({ item: r.item, err });
      }
    }
    logRefused(`the edge database refused these events (${what}); quarantined as failed with the reason`, step, owner, refused);
    logRefused('the edge database refused even to quarantine these events; left as they are until their lease runs out', step, owner, stuck);
    return quarantined;
  }

  /**
   * A claim the database refused, narrowed: the candidates are claimed one by one in claim order,
   * the batch taking the tenant of the first row accepted. A row refused while another row
   * accepted the same claim is at fault itself and is quarantined (failed, storage_refused), so
   * it never heads the lane again; the rest of the batch goes out as usual. When no row accepts
   * the claim, the claim itself is refused, no row is blamed and nothing changes: DataRefused.
   */
  async function claimNarrowed(req: outbox.ClaimRequest): Promise<outbox.ClaimedRow[]> {
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

  async function claimOrNarrow(req: outbox.ClaimRequest): Promise<outbox.ClaimedRow[]> {
    try {
      return await outbox.claimBatch(pool, req);
    } catch (err) {
      if (!isDataRefusal(err)) throw err;
      return claimNarrowed(req);
    }
  }

  return {
    async checkSyncConfiguration(): Promise<SyncConfigurationCheck> {
      const id = identity.current();
      return id.configured
        ? { configured: true, keyId: id.signer.keyId, cloudUrl: cloud.baseUrl }
        : { configured: false, reason: id.reason, cloudUrl: cloud.baseUrl };
    },

    async releaseExpiredSyncLeases(): Promise<{ released: number }> {
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
    },

    async claimSyncBatch(input: ClaimSyncBatchInput): Promise<ClaimedSyncBatch> {
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
          const rows = await claimOrNarrow(req);
          const left = deadline - Date.now();
          if (rows.length > 0 || left <= 0) {
            return {
              batchId: input.batchId,
              lane: input.lane,
              ids: rows.map((r) => r.id),
              tenantId: rows[0]?.tenant_id ?? null,
              priorAttempts: rows.reduce((n, r) => Math.max(n, r.attempt_count), 0),
              monitoringOnly: rows.length > 0 && rows.every((r) => r.event_type.startsWith('sync.batch.')),
              oldestOccurredAt: rows.length ? new Date(Math.min(...rows.map((r) => r.occurred_at.getTime()))).toISOString() : null,
            };
          }
          ctx.heartbeat();
          await ctx.sleep(Math.min(input.pollMs, left)); // rejects when the workflow cancels the claim (pause)
        }
      });
    },

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
    sendSyncBatch: heartbeating((input: SendSyncBatchInput): Promise<SentSyncBatch> =>
      refusalsAreFinal('sendSyncBatch', async () => {
        if (!input.batchId || input.ids.length === 0 || input.ids.length > maxEventsPerBatch || !(input.leaseSeconds > 0)) {
          throw invalidSyncRequest(`sendSyncBatch: invalid input for batch ${input.batchId} (${input.ids.length} ids)`);
        }
        const attempt = input.priorAttempts + Context.current().info.attempt;
        const owner = input.batchId;
        const id = identity.current();
        if (!id.configured) {
          await release('sendSyncBatch', owner, input.ids);
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
        const head = `{"batch_id":${JSON.stringify(owner)},"edge_id":${JSON.stringify(edgeId)},"events":[`;
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
        const failAttempt = async (message: string, status?: number): Promise<never> => {
          const delayMs = retryDelayMs(attempt);
          try {
            const error = toStorableText(message.slice(0, 2000));
            const recorded = await narrowRefusals(ids, (part) =>
              outbox.recordAttemptFailure(pool, owner, part, {
                attempt,
                error,
                nextAttemptAt: new Date(Date.now() + delayMs),
                leaseUntil: new Date(Date.now() + delayMs + input.leaseSeconds * 1000),
              }),
            );
            shortfall('recordAttemptFailure', owner, ids.length - recorded.refused.length, recorded.changed);
            logRefused(
              'the edge database refused to record a failed attempt on these rows; they keep their lease',
              'recordAttemptFailure',
              owner,
              recorded.refused,
            );
          } catch (err) {
            log.error('could not record a failed sync attempt on the outbox rows', { batchId: owner, attempt, err: (err as Error).message });
          }
          throw cloudBatchFailed(attempt, message, { status, delayMs });
        };
        /** Not an attempt: the rows go back at once, untouched (the workflow's release is the backstop). */
        const giveBack = async (): Promise<void> => {
          await release('sendSyncBatch', owner, ids).catch((err: Error) => {
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
          await release('sendSyncBatch', owner, shed).catch(() => undefined);
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
        let results: EventOutcome[];
        try {
          const parsed = edgeBatchResponse.safeParse(JSON.parse(exchange.body.toString('utf8')));
          if (!parsed.success) return failAttempt(`invalid_response: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, status);
          if (parsed.data.batch_id !== owner) return failAttempt(`invalid_response: answered for batch ${parsed.data.batch_id}`, status);
          if (parsed.data.results.length !== sending.length)
            return failAttempt(`invalid_response: ${parsed.data.results.length} results for ${sending.length} events`, status);
          results = parsed.data.results;
        } catch (err) {
          return failAttempt(`invalid_response: ${(err as Error).message.slice(0, 200)}`, status);
        }
        const mismatch = results.findIndex((r, i) => r.event_id !== undefined && r.event_id !== sending[i].event_id);
        if (mismatch >= 0)
          return failAttempt(`invalid_response: result ${mismatch} is for event ${results[mismatch].event_id}, not ${sending[mismatch].event_id}`, status);

        /** Each sent row with the cloud's verdict: a reason when it was rejected. */
        const outcomes: { id: string; rejectedFor?: string }[] = [];
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
        const monitoring = () => {
          const events = monitoringEvents(edgeId, owner, sending[0].tenant_id, attempt, sending.length, result);
          return events.map((e) => ({
            tenant_id: e.tenant_id,
            event_id: e.event_id,
            event_type: e.event_type,
            envelope: e,
            trace_id: e.trace_id,
            occurred_at: e.ts,
            priority: outbox.monitoringPriority,
          }));
        };
        const settle = (db: outbox.Queryable, part: readonly { id: string; rejectedFor?: string }[]) => async () => {
          const acked = await outbox.markAcked(
            db,
            owner,
            part.filter((o) => o.rejectedFor === undefined).map((o) => o.id),
          );
          const failed = await outbox.markFailed(
            db,
            owner,
            part.filter((o) => o.rejectedFor !== undefined).map((o) => ({ id: o.id, reason: o.rejectedFor! })),
          );
          result.acked += acked;
          result.failed += failed;
          return acked + failed;
        };
        const before = { acked: result.acked, failed: result.failed };
        try {
          await inTransaction(pool, async (db) => {
            await settle(db, outcomes)();
            if (withMonitoring) result.monitoringEvents = await outbox.appendEvents(db, monitoring());
          });
        } catch (err) {
          if (!isDataRefusal(err)) throw err;
          // Narrowed: every row's outcome in a savepoint of one transaction, so the refused rows
          // are found, quarantined, and everything else commits together.
          Object.assign(result, before, { monitoringEvents: 0 });
          await inTransaction(pool, async (db) => {
            const guard: Guard = (work) => inSavepoint(db, work);
            const n = await narrowRefusals(outcomes, (part) => guard(settle(db, part)));
            const refusedIds = n.refused.map((r) => ({ item: r.item.id, err: r.err }));
            noteQuarantined(
              await quarantineHeld(db, 'settle', owner, refusedIds, "the edge database refused to record the cloud's answer for this event", guard),
            );
            if (withMonitoring) {
              try {
                result.monitoringEvents = await guard(() => outbox.appendEvents(db, monitoring()));
              } catch (appendErr) {
                if (!isDataRefusal(appendErr)) throw appendErr;
                log.error('the edge database refused the monitoring events of a batch; not recorded', { batchId: owner, reason: refusalReason(appendErr) });
              }
            }
          });
        }
        shortfall('settle', owner, sending.length, result.acked + result.failed);
        if (rejected.length > 0)
          log.warn('cloud rejected events; marked failed with the reason', { batchId: owner, rejected: rejected.length, firstReason: rejected[0].rejectedFor });
        return result;
      }),
    ),

    async moveSyncBatchToDlq(input: { batchId: string; ids: string[]; lastError: string }): Promise<{ moved: number; quarantined?: number }> {
      return refusalsAreFinal('moveSyncBatchToDlq', async () => {
        const lastError = toStorableText(input.lastError.slice(0, 4000));
        const n = await narrowRefusals(input.ids, (part) => outbox.moveToDlq(pool, input.batchId, part, lastError));
        const quarantined = await quarantineHeld(
          pool,
          'moveSyncBatchToDlq',
          input.batchId,
          n.refused,
          'the edge database refused to move this event to the DLQ',
        );
        shortfall('moveToDlq', input.batchId, input.ids.length, n.changed + quarantined);
        log.error('sync batch moved to the dead letter queue after its last attempt', { batchId: input.batchId, moved: n.changed, quarantined, lastError });
        return quarantined > 0 ? { moved: n.changed, quarantined } : { moved: n.changed };
      });
    },

    async releaseSyncBatch(input: { batchId: string; ids: string[] }): Promise<{ released: number }> {
      return refusalsAreFinal('releaseSyncBatch', async () => ({ released: await release('releaseSyncBatch', input.batchId, input.ids) }));
    },

    /** Asks GET /health every probeEveryMs and returns as soon as the cloud answers 2xx, or at maxWaitMs. */
    async waitForCloud({ maxWaitMs }: WaitForCloudInput): Promise<WaitForCloudResult> {
      const ctx = Context.current();
      const started = Date.now();
      let probes = 0;
      for (;;) {
        const probe = await cloud.probe();
        probes++;
        const waitedMs = Date.now() - started;
        if (probe.reachable) return { reachable: true, waitedMs, probes };
        const left = maxWaitMs - waitedMs;
        if (left <= 0) return { reachable: false, waitedMs, probes, lastReason: probe.reason };
        ctx.heartbeat({ probes, lastReason: probe.reason });
        await ctx.sleep(Math.min(probeEveryMs, left));
      }
    },
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
