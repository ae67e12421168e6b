/**
 * The one module that writes sync_outbox (spec §7.2 states, §7.3 claim/lease): one job per
 * function, no Temporal, no HTTP. Every producer appends through it (appendEvents, or outboxInsert
 * inside a producer's own single statement: the ingest batch, the WeighVision session); the
 * forwarder's activities, the edge HTTP API and the DLQ CLI move rows on through it.
 *
 *   pending ─claim─▶ claimed ─▶ sending ─▶ sent ─▶ acked            (the cloud accepted it or had it)
 *      ▲                │  ▲         │        └──▶ failed           (the cloud rejected it, with the reason)
 *      │                │  └─attempt failed (waits for its retry, still held)
 *      └──release───────┘            └──────────▶ dlq               (10 attempts failed, last error kept)
 *      └──requeue (operator) ◀── dlq | failed
 *
 * Ownership: `claimed_by` holds the claimant, and the forwarder claims every batch under its own
 * batch id, so "owner" and "batch" are the same thing. Every update after the claim is fenced with
 * `claimed_by = $owner` and a non-terminal status: a forwarder whose lease expired and whose rows
 * another batch claimed meanwhile changes nothing (the functions return the rows actually changed;
 * callers log a shortfall). Terminal rows keep `claimed_by` so an operator can tell which batch
 * delivered (or failed) an event.
 */
// One job per file under sync/outbox/; importers name only this index, so those files can move freely.
import type { Queryable } from '../db/transaction';

export type { Queryable };

export { outboxStatuses, type DeadStatus, type OutboxStatus } from './outbox/statuses';
export { isMonitoringEvent, monitoringEventTypes, monitoringPriority, outboxPriority } from './outbox/priority';
export { appendEvents, outboxColumns, outboxEvent, outboxInsert, type NewOutboxEvent } from './outbox/append';
export { firstIdCreatedAtOrAfter } from './outbox/id-boundary';
export { syncLanes, tenantWindowFactor, type ClaimRequest, type SyncLane } from './outbox/lanes';
export { claimBatch, sortClaimed, type ClaimedRow } from './outbox/claim';
export { claimCandidates, claimRow, quarantineUnclaimed, type ClaimCandidate } from './outbox/claim-narrowing';
export { isHeld, loadOwnedRows, type HeldRow } from './outbox/held';
export { markAcked, markFailed, markSending, markSent, moveToDlq, recordAttemptFailure, releaseClaims, type AttemptFailure } from './outbox/delivery';
export { expiredLeaseIds, releaseExpiredLeases } from './outbox/expired-leases';
export { getRow, listDead, requeueAllDead, requeueDead, type DeadRowSummary, type OutboxRow, type RequeueResult } from './outbox/dead-events';
export { deleteAcked, prunableIds, pruneAcked } from './outbox/retention';
export { outboxBacklog, outboxFigures, type OutboxBacklog, type OutboxFigures } from './outbox/figures';
