/**
 * The activities of the sync forwarder (spec §7, DESIGN.md §3 "Cloud sync"): claim a batch from
 * sync_outbox, send it to the cloud signed, settle each event by the cloud's answer, and the few
 * housekeeping steps around them. Built by a factory that closes over the edge pool and the cloud
 * client; workflows import these as types only.
 *
 * Envelopes never enter workflow history: a claim returns ids and counts, and the send activity
 * reads the envelopes itself, as stored, and sends those bytes.
 */
import type { Pool } from 'pg';
import { Context, log } from '@temporalio/activity';
import { apiError, cloudUnavailableStatuses, edgeBatchPaths, edgeBatchResponse, maxBatchBodyBytes, maxEventsPerBatch, type EventOutcome } from '../domain/sync/edge-batch';
import { signRequest } from '../domain/sync/request-signing';
import { retryDelayMs } from '../domain/sync/retry-policy';
import { farmEventSchema, type FarmEvent } from '../domain/contracts';
import { uuidV5 } from '../domain/ids';
import type { CloudClient } from '../edge/sync/cloud-client';
import type { EdgeIdentity } from '../edge/sync/edge-identity';
import { cloudBatchFailed, cloudMisconfigured, cloudUnavailable, invalidSyncRequest, syncNotConfigured } from '../edge/sync/failures';
import * as outbox from '../edge/sync/outbox';

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

function validClaim(i: ClaimSyncBatchInput): boolean {
  return (
    typeof i.batchId === 'string' && i.batchId.length > 0 && i.batchId.length <= 200 &&
    (i.lane === 'live' || i.lane === 'backfill') &&
    Number.isInteger(i.batchSize) && i.batchSize >= 1 && i.batchSize <= maxEventsPerBatch &&
    i.leaseSeconds > 0 && i.liveWindowSeconds > 0 && i.waitMs >= 0 && i.pollMs > 0
  );
}

/** device_id of the monitoring events: the edge id, made a valid topic segment. */
function edgeDeviceId(edgeId: string): string {
  return edgeId.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64) || 'edge';
}

function monitoringEvents(edgeId: string, batchId: string, tenantId: string, attempt: number, delivered: number, counts: { accepted: number; duplicate: number; rejected: number }): FarmEvent[] {
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

  async function inTransaction<T>(work: (db: outbox.Queryable) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  function shortfall(step: string, batchId: string, expected: number, changed: number): void {
    if (changed < expected) log.warn('sync batch no longer holds every row (its lease ran out and another batch claimed them)', { step, batchId, expected, changed });
  }

  return {
    async checkSyncConfiguration(): Promise<SyncConfigurationCheck> {
      const id = identity.current();
      return id.configured ? { configured: true, keyId: id.signer.keyId, cloudUrl: cloud.baseUrl } : { configured: false, reason: id.reason, cloudUrl: cloud.baseUrl };
    },

    async releaseExpiredSyncLeases(): Promise<{ released: number }> {
      const released = await outbox.releaseExpiredLeases(pool);
      if (released > 0) log.warn('released outbox rows left in flight by an earlier forwarder', { edgeId, released });
      return { released };
    },

    async claimSyncBatch(input: ClaimSyncBatchInput): Promise<ClaimedSyncBatch> {
      if (!validClaim(input)) throw invalidSyncRequest(`claimSyncBatch: invalid input ${JSON.stringify(input)}`);
      const ctx = Context.current();
      const deadline = Date.now() + input.waitMs;
      for (;;) {
        const rows = await outbox.claimBatch(pool, {
          instanceId: input.batchId,
          lane: input.lane,
          batchSize: input.batchSize,
          leaseSeconds: input.leaseSeconds,
          liveWindowSeconds: input.liveWindowSeconds,
        });
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
    },

    /**
     * Sends one batch, signed, and settles every event by the cloud's answer.
     *
     * The attempt number is the batch's prior attempts (the highest attempt_count among its rows,
     * left by earlier batches that failed on them) plus Temporal's attempt, so an event gets 10
     * attempts in all however often it was given back in between. A batch's rows share that count.
     */
    sendSyncBatch: heartbeating(async (input: SendSyncBatchInput): Promise<SentSyncBatch> => {
      if (!input.batchId || input.ids.length === 0 || input.ids.length > maxEventsPerBatch || !(input.leaseSeconds > 0)) {
        throw invalidSyncRequest(`sendSyncBatch: invalid input for batch ${input.batchId} (${input.ids.length} ids)`);
      }
      const attempt = input.priorAttempts + Context.current().info.attempt;
      const owner = input.batchId;
      const id = identity.current();
      if (!id.configured) {
        await outbox.releaseClaims(pool, owner, input.ids);
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
      const sending = held.slice(0, fits);
      const deferred = held.slice(fits);
      if (deferred.length > 0) {
        result.deferred = await outbox.releaseClaims(pool, owner, deferred.map((r) => r.id));
        log.warn('sync batch larger than the cloud body limit; the rest goes in a later batch', { batchId: owner, sending: sending.length, deferred: deferred.length });
      }
      const ids = sending.map((r) => r.id);
      const body = Buffer.from(`${head}${sending.map((r) => r.envelope).join(',')}]}`, 'utf8');

      shortfall('markSending', owner, ids.length, await outbox.markSending(pool, owner, ids, deps.requestTimeoutMs / 1000 + input.leaseSeconds));
      const path = cloud.pathOf(edgeBatchRoute);
      const exchange = await cloud.post(edgeBatchRoute, body, () => ({ ...signRequest(id.signer, 'POST', path, body), 'x-request-id': owner }));

      /** A failed attempt: recorded on the rows (best effort), then retried by Temporal. */
      const failAttempt = async (message: string, status?: number): Promise<never> => {
        const delayMs = retryDelayMs(attempt);
        try {
          shortfall('recordAttemptFailure', owner, ids.length, await outbox.recordAttemptFailure(pool, owner, ids, {
            attempt,
            error: message.slice(0, 2000),
            nextAttemptAt: new Date(Date.now() + delayMs),
            leaseUntil: new Date(Date.now() + delayMs + input.leaseSeconds * 1000),
          }));
        } catch (err) {
          log.error('could not record a failed sync attempt on the outbox rows', { batchId: owner, attempt, err: (err as Error).message });
        }
        throw cloudBatchFailed(attempt, message, { status, delayMs });
      };
      /** Not an attempt: the rows go back at once, untouched (the workflow's release is the backstop). */
      const giveBack = async (): Promise<void> => {
        await outbox.releaseClaims(pool, owner, ids).catch((err: Error) => log.warn('could not give a sync batch back; its lease will run out', { batchId: owner, err: err.message }));
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
        const why = status === 404 || status === 405 ? `no batch endpoint at ${cloud.baseUrl}${path}` : `the cloud refuses edge ${edgeId} (key ${id.signer.keyId})`;
        throw cloudMisconfigured(status, e.code, `${why}: ${status} ${e.code}: ${e.message}`);
      }
      if (status === 413 && ids.length > 1) {
        // The cloud's body limit is lower than ours: the batch sheds its second half (to a later
        // batch) and the retry sends the first.
        const shed = ids.slice(Math.ceil(ids.length / 2));
        await outbox.releaseClaims(pool, owner, shed).catch(() => undefined);
        ids.splice(Math.ceil(ids.length / 2));
      }
      if (status < 200 || status >= 300) {
        const e = errorOf(exchange.body);
        return failAttempt(`cloud answered ${status} ${e.code}: ${e.message}`, status);
      }

      // Delivered. The per-event answer is applied next; until then the rows say `sent`.
      await outbox.markSent(pool, owner, ids);
      let results: EventOutcome[];
      try {
        const parsed = edgeBatchResponse.safeParse(JSON.parse(exchange.body.toString('utf8')));
        if (!parsed.success) return failAttempt(`invalid_response: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, status);
        if (parsed.data.batch_id !== owner) return failAttempt(`invalid_response: answered for batch ${parsed.data.batch_id}`, status);
        if (parsed.data.results.length !== sending.length) return failAttempt(`invalid_response: ${parsed.data.results.length} results for ${sending.length} events`, status);
        results = parsed.data.results;
      } catch (err) {
        return failAttempt(`invalid_response: ${(err as Error).message.slice(0, 200)}`, status);
      }
      const mismatch = results.findIndex((r, i) => r.event_id !== undefined && r.event_id !== sending[i].event_id);
      if (mismatch >= 0) return failAttempt(`invalid_response: result ${mismatch} is for event ${results[mismatch].event_id}, not ${sending[mismatch].event_id}`, status);

      const ackIds: string[] = [];
      const rejected: { id: string; reason: string }[] = [];
      results.forEach((r, i) => {
        if (r.status === 'accepted') result.accepted++;
        if (r.status === 'duplicate') result.duplicate++;
        if (r.status === 'rejected') rejected.push({ id: sending[i].id, reason: r.reason.slice(0, 2000) });
        else ackIds.push(sending[i].id);
      });
      result.rejected = rejected.length;
      result.delivered = sending.length;

      const withMonitoring = !sending.every((r) => r.event_type.startsWith('sync.batch.'));
      await inTransaction(async (db) => {
        result.acked = await outbox.markAcked(db, owner, ackIds);
        result.failed = await outbox.markFailed(db, owner, rejected);
        if (withMonitoring) {
          const events = monitoringEvents(edgeId, owner, sending[0].tenant_id, attempt, sending.length, result);
          result.monitoringEvents = await outbox.appendEvents(
            db,
            events.map((e) => ({ tenant_id: e.tenant_id, event_id: e.event_id, event_type: e.event_type, envelope: e, trace_id: e.trace_id, occurred_at: e.ts, priority: outbox.monitoringPriority })),
          );
        }
      });
      shortfall('settle', owner, sending.length, result.acked + result.failed);
      if (rejected.length > 0) log.warn('cloud rejected events; marked failed with the reason', { batchId: owner, rejected: rejected.length, firstReason: rejected[0].reason });
      return result;
    }),

    async moveSyncBatchToDlq(input: { batchId: string; ids: string[]; lastError: string }): Promise<{ moved: number }> {
      const moved = await outbox.moveToDlq(pool, input.batchId, input.ids, input.lastError.slice(0, 4000));
      shortfall('moveToDlq', input.batchId, input.ids.length, moved);
      log.error('sync batch moved to the dead letter queue after its last attempt', { batchId: input.batchId, moved, lastError: input.lastError });
      return { moved };
    },

    async releaseSyncBatch(input: { batchId: string; ids: string[] }): Promise<{ released: number }> {
      return { released: await outbox.releaseClaims(pool, input.batchId, input.ids) };
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
