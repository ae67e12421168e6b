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
import { eventCatalog, eventTypes, type EventType } from '../domain/contracts/catalog';
import type { Queryable } from '../db/transaction';

export type { Queryable };

export const outboxStatuses = ['pending', 'claimed', 'sending', 'sent', 'acked', 'dlq', 'failed'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];
export type DeadStatus = 'dlq' | 'failed';

/** Lanes of DESIGN.md §4: live events never wait behind a backlog. */
export const syncLanes = ['live', 'backfill'] as const;
export type SyncLane = (typeof syncLanes)[number];

/**
 * Claim order within a lane is priority DESC, then occurred_at (spec §7.3). Every producer takes
 * its priority from here.
 */
export const outboxPriority = {
  normal: 0,
  /** Feed intake goes ahead of the readings of the same time. */
  feedIntake: 1,
  /** The forwarder's monitoring events go out after everything else that is due. */
  monitoring: -1,
} as const;
export const monitoringPriority = outboxPriority.monitoring;

/**
 * Monitoring events the forwarder writes about itself (spec §8.6): the catalog's events for
 * internal-monitoring (domain/contracts/catalog.ts is where they are declared).
 */
export const monitoringEventTypes: readonly EventType[] = eventTypes.filter((t) => eventCatalog[t].consumers.includes('internal-monitoring'));

export function isMonitoringEvent(eventType: string): boolean {
  return (monitoringEventTypes as readonly string[]).includes(eventType);
}

/** Rows held by a batch and not yet settled: the only ones a fenced update may touch. */
const held = `('claimed', 'sending', 'sent')`;

export interface ClaimRequest {
  /** The claimant written to claimed_by: the forwarder passes the batch id. */
  instanceId: string;
  lane: SyncLane;
  batchSize: number;
  leaseSeconds: number;
  /** Rows created this recently belong to the live lane, older ones to the backfill lane. */
  liveWindowSeconds: number;
}

export interface ClaimedRow {
  id: string; // bigint as text: exact, and what the fenced updates take back
  tenant_id: string;
  event_id: string;
  event_type: string;
  priority: number;
  occurred_at: Date;
  created_at: Date;
  attempt_count: number;
}

/**
 * The first id whose created_at is at or after `cutoff`, found by binary search over the primary
 * key (about 20 index probes for a million rows) instead of a scan. Ids grow with insertion and
 * created_at is the inserting transaction's start, so the two are ordered the same way except
 * across transactions that overlap; such a row lands on the other side of the boundary for at
 * most as long as its transaction ran, and the lane predicates below still test created_at.
 */
const firstIdCreatedSince = `
WITH RECURSIVE s(lo, hi) AS (
  SELECT coalesce((SELECT min(id) FROM sync_outbox), 1),
         coalesce((SELECT max(id) FROM sync_outbox), 0) + 1
  UNION ALL
  SELECT CASE WHEN p.id IS NULL OR p.id >= s.hi OR p.created_at >= $1 THEN s.lo ELSE p.id + 1 END,
         CASE WHEN p.id IS NULL OR p.id >= s.hi THEN (s.lo + s.hi) / 2
              WHEN p.created_at >= $1 THEN p.id
              ELSE s.hi END
  FROM s LEFT JOIN LATERAL (
    SELECT o.id, o.created_at FROM sync_outbox o WHERE o.id >= (s.lo + s.hi) / 2 ORDER BY o.id LIMIT 1
  ) p ON true
  WHERE s.lo < s.hi
)
SELECT min(hi)::text AS id FROM s`;

export async function firstIdCreatedAtOrAfter(db: Queryable, cutoff: Date): Promise<string> {
  const { rows } = await db.query<{ id: string }>(firstIdCreatedSince, [cutoff]);
  return rows[0].id;
}

const claimable = `o.status IN ('pending', 'claimed')
    AND o.next_attempt_at <= now()
    AND (o.claimed_by IS NULL OR o.lease_expires_at < now())`;

/**
 * Spec §7.3 plus two things the spec's prose asks for: the batch holds one tenant's events (the
 * tenant of the first candidate in claim order, spec §2 step 5), and it belongs to one lane.
 *
 * The live lane is bounded by id (see firstIdCreatedAtOrAfter) so it reads only the rows of the
 * live window, however long the backlog behind them; the backfill lane walks sync_outbox_claim in
 * its order. Both keep the spec's order (priority DESC, occurred_at ASC) within the lane.
 *
 * The tenant's rows are looked for among the next `batchSize × tenantWindowFactor` rows in claim
 * order only: there is no (tenant, priority, occurred_at) index, and without the bound a tenant
 * with few rows behind a large backlog of another tenant would cost a scan of the whole backlog
 * per claim. With one tenant per edge (the usual farm) batches are full; with many interleaved
 * tenants they are smaller, and every tenant still goes out in claim order.
 */
function claimSql(lanePredicate: string): string {
  return `
WITH head AS (
  SELECT o.tenant_id
  FROM sync_outbox o
  WHERE ${claimable}
    AND ${lanePredicate}
  ORDER BY o.priority DESC, o.occurred_at ASC
  LIMIT 1
  FOR UPDATE SKIP LOCKED
),
candidates AS (
  SELECT w.id
  FROM (
    SELECT o.id, o.tenant_id
    FROM sync_outbox o
    WHERE ${claimable}
      AND ${lanePredicate}
    ORDER BY o.priority DESC, o.occurred_at ASC
    LIMIT $6
    FOR UPDATE SKIP LOCKED
  ) w
  WHERE w.tenant_id = (SELECT tenant_id FROM head)
  LIMIT $2
)
UPDATE sync_outbox o
SET status = 'claimed',
    claimed_by = $1,
    claimed_at = now(),
    lease_expires_at = now() + make_interval(secs => $3)
FROM candidates c
WHERE o.id = c.id
RETURNING o.id::text AS id, o.tenant_id, o.event_id, o.event_type, o.priority, o.occurred_at, o.created_at, o.attempt_count`;
}

// Monitoring events (priority < 0) never take the live lane: created fresh after every batch, they
// would otherwise go out at once, each pair as its own batch, ahead of the backlog they report on
// (half of all batches during a drain; bench/sync.ts). The backfill lane sends them after
// everything else that is due, many to a batch, or at once when nothing else is.
const lanePredicates: Record<SyncLane, (cutoff: string, fromId: string) => string> = {
  live: (cutoff, fromId) => `o.id >= ${fromId}::bigint AND o.created_at >= ${cutoff} AND o.priority > ${monitoringPriority}`,
  backfill: (cutoff, fromId) => `(o.created_at < ${cutoff} OR o.priority <= ${monitoringPriority}) AND ${fromId}::bigint IS NULL`,
};
const claimLive = claimSql(lanePredicates.live('$4', '$5'));
const claimBackfill = claimSql(lanePredicates.backfill('$4', '$5'));

export const tenantWindowFactor = 10;

interface LaneBounds {
  cutoff: Date;
  /** The live lane's first id (null for the backfill lane). */
  fromId: string | null;
  /** How many rows in claim order the claim looks at. */
  window: number;
}

async function laneBounds(db: Queryable, req: ClaimRequest): Promise<LaneBounds> {
  const { rows: clock } = await db.query<{ cutoff: Date }>(`SELECT now() - make_interval(secs => $1) AS cutoff`, [req.liveWindowSeconds]);
  const cutoff = clock[0].cutoff;
  const window = Math.min(req.batchSize * tenantWindowFactor, 10_000);
  return { cutoff, fromId: req.lane === 'live' ? await firstIdCreatedAtOrAfter(db, cutoff) : null, window };
}

/** Claims up to batchSize due rows of one tenant in one lane, leased for leaseSeconds. */
export async function claimBatch(db: Queryable, req: ClaimRequest): Promise<ClaimedRow[]> {
  const b = await laneBounds(db, req);
  const { rows } = await db.query<ClaimedRow>(req.lane === 'live' ? claimLive : claimBackfill, [
    req.instanceId,
    req.batchSize,
    req.leaseSeconds,
    b.cutoff,
    b.fromId,
    b.window,
  ]);
  return sortClaimed(rows);
}

// ---- Narrowing a claim the database refused (activities/sync/forwarder.ts claimSyncBatch) ----

export interface ClaimCandidate {
  id: string;
  tenant_id: string;
}

const candidatesSql: Record<SyncLane, string> = {
  live: candidates(lanePredicates.live('$1', '$2')),
  backfill: candidates(lanePredicates.backfill('$1', '$2')),
};

function candidates(lanePredicate: string): string {
  return `
SELECT o.id::text AS id, o.tenant_id
FROM sync_outbox o
WHERE ${claimable}
  AND ${lanePredicate}
ORDER BY o.priority DESC, o.occurred_at ASC
LIMIT $3`;
}

/** The rows a claim would look at, in claim order, of every tenant; nothing is locked or changed. */
export async function claimCandidates(db: Queryable, req: ClaimRequest): Promise<ClaimCandidate[]> {
  const b = await laneBounds(db, req);
  const { rows } = await db.query<ClaimCandidate>(candidatesSql[req.lane], [b.cutoff, b.fromId, b.window]);
  return rows;
}

/** Claims one row if it is still claimable (another claimant may have taken it meanwhile). */
export async function claimRow(db: Queryable, req: ClaimRequest, id: string): Promise<ClaimedRow | undefined> {
  const { rows } = await db.query<ClaimedRow>(
    `UPDATE sync_outbox o
     SET status = 'claimed', claimed_by = $2, claimed_at = now(), lease_expires_at = now() + make_interval(secs => $3)
     WHERE o.id = $1::bigint AND ${claimable}
     RETURNING o.id::text AS id, o.tenant_id, o.event_id, o.event_type, o.priority, o.occurred_at, o.created_at, o.attempt_count`,
    [id, req.instanceId, req.leaseSeconds],
  );
  return rows[0];
}

/**
 * → failed, for a claimable row the database refuses to claim: out of every later claim's way,
 * with the reason, until an operator requeues it. `claimant` is kept in claimed_by to say who
 * found it.
 */
export async function quarantineUnclaimed(db: Queryable, id: string, claimant: string, reason: string): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox o SET status = 'failed', claimed_by = $2, last_error = $3, lease_expires_at = NULL
     WHERE o.id = $1::bigint AND ${claimable}`,
    [id, claimant, reason],
  );
  return r.rowCount ?? 0;
}

/** UPDATE … RETURNING gives no order; the batch goes out in claim order. */
export function sortClaimed(rows: ClaimedRow[]): ClaimedRow[] {
  return rows.sort((a, b) => b.priority - a.priority || a.occurred_at.getTime() - b.occurred_at.getTime() || Number(BigInt(a.id) - BigInt(b.id)));
}

export interface HeldRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  /** The envelope exactly as stored, as JSON text (never re-serialized on the way out). */
  envelope: string;
  status: OutboxStatus;
  attempt_count: number;
}

/** The rows of a batch that this owner still has, in any state (the caller sorts out which are held). */
export async function loadOwnedRows(db: Queryable, owner: string, ids: readonly string[]): Promise<HeldRow[]> {
  const { rows } = await db.query<HeldRow>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, envelope::text AS envelope, status, attempt_count
     FROM sync_outbox WHERE id = ANY($1::bigint[]) AND claimed_by = $2`,
    [ids, owner],
  );
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

export function isHeld(status: OutboxStatus): boolean {
  return status === 'claimed' || status === 'sending' || status === 'sent';
}

/** claimed → sending, right before the request; the lease must outlast the request. */
export async function markSending(db: Queryable, owner: string, ids: readonly string[], leaseSeconds: number): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'sending', lease_expires_at = now() + make_interval(secs => $3)
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner, leaseSeconds],
  );
  return r.rowCount ?? 0;
}

/** sending → sent: the cloud answered 2xx; the per-event outcomes are applied next. */
export async function markSent(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'sent', sent_at = now()
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner],
  );
  return r.rowCount ?? 0;
}

/** → acked: the cloud accepted the event or already had it. */
export async function markAcked(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'acked', acked_at = now(), sent_at = coalesce(sent_at, now()), lease_expires_at = NULL
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner],
  );
  return r.rowCount ?? 0;
}

/** → failed, at once and for good: the cloud rejected the event, for this reason. */
export async function markFailed(db: Queryable, owner: string, rejected: readonly { id: string; reason: string }[]): Promise<number> {
  if (rejected.length === 0) return 0;
  const r = await db.query(
    `UPDATE sync_outbox o SET status = 'failed', last_error = u.reason, sent_at = coalesce(o.sent_at, now()), lease_expires_at = NULL
     FROM unnest($1::bigint[], $2::text[]) AS u(id, reason)
     WHERE o.id = u.id AND o.claimed_by = $3 AND o.status IN ${held}`,
    [rejected.map((x) => x.id), rejected.map((x) => x.reason), owner],
  );
  return r.rowCount ?? 0;
}

export interface AttemptFailure {
  /** Attempts made so far, this one included. */
  attempt: number;
  error: string;
  nextAttemptAt: Date;
  /** Kept past the next attempt, so nobody else claims the rows while they wait for it. */
  leaseUntil: Date;
}

/** A failed attempt: the rows stay with the batch, back in `claimed`, until their retry. */
export async function recordAttemptFailure(db: Queryable, owner: string, ids: readonly string[], f: AttemptFailure): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox
     SET status = 'claimed', attempt_count = $3, last_error = $4, next_attempt_at = $5, lease_expires_at = $6
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner, f.attempt, f.error, f.nextAttemptAt, f.leaseUntil],
  );
  return r.rowCount ?? 0;
}

/** → dlq: the retries are spent; an operator inspects and requeues. */
export async function moveToDlq(db: Queryable, owner: string, ids: readonly string[], lastError: string): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'dlq', last_error = $3, lease_expires_at = NULL
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner, lastError],
  );
  return r.rowCount ?? 0;
}

/**
 * → pending, attempts untouched: the batch is given back without having been tried (the cloud
 * was unreachable, the forwarder paused or is rolling over to a new run). next_attempt_at is kept,
 * so a batch that was waiting for a retry still waits for it.
 */
export async function releaseClaims(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
     WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status IN ${held}`,
    [ids, owner],
  );
  return r.rowCount ?? 0;
}

/**
 * Rows left in `sending` or `sent` by a batch that will never come back (its workflow was
 * terminated, or reset) go back to pending once their lease is over. The §7.3 claim covers
 * `claimed` rows with an expired lease but not these. Not indexed (they should not exist), so the
 * forwarder runs it once when it starts, not on every claim.
 */
export async function releaseExpiredLeases(db: Queryable, ids?: readonly string[]): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
     WHERE status IN ('sending', 'sent') AND lease_expires_at < now() AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
    [ids ?? null],
  );
  return r.rowCount ?? 0;
}

/** The rows releaseExpiredLeases would release (to narrow a release the database refused). */
export async function expiredLeaseIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM sync_outbox WHERE status IN ('sending', 'sent') AND lease_expires_at < now() ORDER BY id`,
  );
  return rows.map((r) => r.id);
}

// ------------------------------------------------------------------------------------------------
// Appending (every producer)
// ------------------------------------------------------------------------------------------------

/**
 * The columns a producer fills, in this order. The rest take their defaults: pending, no attempts,
 * due now, created_at now() (the transaction's start, which the live lane reads).
 */
export const outboxColumns = ['tenant_id', 'event_id', 'event_type', 'envelope', 'trace_id', 'occurred_at', 'priority'] as const;

/**
 * `INSERT INTO sync_outbox (<outboxColumns>) <source>`, for a producer whose append is part of one
 * larger statement (a CTE of the ingest batch; an insert that appends only when its own row is
 * new). `source` is a SELECT yielding outboxColumns in that order. `backdated`: the SELECT yields
 * created_at after them (a bench or test seeding a backlog that is already old).
 */
export function outboxInsert(source: string, opts: { backdated?: boolean } = {}): string {
  const columns = opts.backdated ? [...outboxColumns, 'created_at'] : outboxColumns;
  return `INSERT INTO sync_outbox (${columns.join(', ')})\n${source.trim()}`;
}

export interface NewOutboxEvent {
  tenant_id: string;
  event_id: string;
  event_type: string;
  /** The envelope; stored as its JSON. */
  envelope: unknown;
  trace_id: string;
  occurred_at: string;
  priority: number;
}

/** Appends the events (one statement); returns how many. */
export async function appendEvents(db: Queryable, events: readonly NewOutboxEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const r = await db.query(
    outboxInsert(`SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::smallint[])`),
    [
      events.map((e) => e.tenant_id),
      events.map((e) => e.event_id),
      events.map((e) => e.event_type),
      events.map((e) => JSON.stringify(e.envelope)),
      events.map((e) => e.trace_id),
      events.map((e) => e.occurred_at),
      events.map((e) => e.priority),
    ],
  );
  return r.rowCount ?? 0;
}

// ------------------------------------------------------------------------------------------------
// Dead events: list, inspect, requeue (operators, through the edge HTTP API or scripts/sync-dlq.ts)
// ------------------------------------------------------------------------------------------------

export interface DeadRowSummary {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  status: DeadStatus;
  attempt_count: number;
  last_error: string | null;
  occurred_at: Date;
  created_at: Date;
  claimed_by: string | null;
}

/**
 * Newest first, keyset-paginated by id (sync_outbox_dead is exactly (status, id)). The ORDER BY
 * names the column: a bare `id` is the text output column, and 99 would sort before 100.
 */
export async function listDead(db: Queryable, q: { status: DeadStatus; limit: number; before?: string }): Promise<DeadRowSummary[]> {
  const { rows } = await db.query<DeadRowSummary>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, status, attempt_count, last_error, occurred_at, created_at, claimed_by
     FROM sync_outbox
     WHERE status = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
     ORDER BY sync_outbox.id DESC
     LIMIT $3`,
    [q.status, q.before ?? null, q.limit],
  );
  return rows;
}

export interface OutboxRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  envelope: unknown;
  trace_id: string | null;
  occurred_at: Date;
  priority: number;
  status: OutboxStatus;
  attempt_count: number;
  next_attempt_at: Date;
  claimed_by: string | null;
  claimed_at: Date | null;
  lease_expires_at: Date | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  acked_at: Date | null;
}

export async function getRow(db: Queryable, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT id::text AS id, tenant_id, event_id, event_type, envelope, trace_id, occurred_at, priority, status, attempt_count,
            next_attempt_at, claimed_by, claimed_at, lease_expires_at, last_error, created_at, sent_at, acked_at
     FROM sync_outbox WHERE id = $1::bigint`,
    [id],
  );
  return rows[0];
}

export interface RequeueResult {
  requeued: { id: string; from: DeadStatus }[];
  /** Present but not dead (already pending again, acked, …): left exactly as they were. */
  unchanged: { id: string; status: OutboxStatus }[];
  notFound: string[];
}

/**
 * dlq|failed → pending with a fresh budget of attempts, due now. The last error is kept, prefixed
 * with a note of the requeue, so the history of an event stays readable. Idempotent: a row that is
 * not dead any more is reported and left alone.
 */
export async function requeueDead(db: Queryable, ids: readonly string[], note: string): Promise<RequeueResult> {
  const { rows: changed } = await db.query<{ id: string; previous: DeadStatus }>(
    `WITH target AS (
       SELECT id, status FROM sync_outbox WHERE id = ANY($1::bigint[]) AND status IN ('dlq', 'failed') FOR UPDATE
     )
     UPDATE sync_outbox o
     SET status = 'pending', attempt_count = 0, next_attempt_at = now(), claimed_by = NULL, claimed_at = NULL,
         lease_expires_at = NULL,
         last_error = left(format('[%s from %s after %s attempts] %s', $2::text, t.status, o.attempt_count, coalesce(o.last_error, '')), 4000)
     FROM target t
     WHERE o.id = t.id
     RETURNING o.id::text AS id, t.status AS previous`,
    [ids, note],
  );
  const requeued = new Set(changed.map((r) => r.id));
  const rest = ids.filter((id) => !requeued.has(id));
  const { rows: others } = rest.length
    ? await db.query<{ id: string; status: OutboxStatus }>(`SELECT id::text AS id, status FROM sync_outbox WHERE id = ANY($1::bigint[])`, [rest])
    : { rows: [] };
  const present = new Map(others.map((r) => [r.id, r.status]));
  return {
    requeued: changed.map((r) => ({ id: r.id, from: r.previous })).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))),
    unchanged: rest.filter((id) => present.has(id)).map((id) => ({ id, status: present.get(id)! })),
    notFound: rest.filter((id) => !present.has(id)),
  };
}

/** Every row of one dead status back to pending (see requeueDead); returns how many. */
export async function requeueAllDead(db: Queryable, status: DeadStatus, note: string): Promise<number> {
  const r = await db.query(
    `UPDATE sync_outbox o
     SET status = 'pending', attempt_count = 0, next_attempt_at = now(), claimed_by = NULL, claimed_at = NULL,
         lease_expires_at = NULL,
         last_error = left(format('[%s from %s after %s attempts] %s', $2::text, o.status, o.attempt_count, coalesce(o.last_error, '')), 4000)
     WHERE o.status = $1`,
    [status, note],
  );
  return r.rowCount ?? 0;
}

// ------------------------------------------------------------------------------------------------
// Retention
// ------------------------------------------------------------------------------------------------

/**
 * Deletes up to `chunk` acked rows acked more than olderThanHours ago, oldest first; returns how
 * many. Only `acked` rows are ever deleted. acked_at >= created_at, so every candidate lies below
 * the id boundary of the cutoff: the scan stays inside the old part of the table.
 */
export async function pruneAcked(db: Queryable, olderThanHours: number, chunk: number): Promise<number> {
  const { cutoff, below } = await pruneBounds(db, olderThanHours);
  const r = await db.query(
    `DELETE FROM sync_outbox WHERE id IN (
       SELECT id FROM sync_outbox
       WHERE id < $1::bigint AND status = 'acked' AND acked_at < $2
       ORDER BY id
       LIMIT $3
     )`,
    [below, cutoff, chunk],
  );
  return r.rowCount ?? 0;
}

async function pruneBounds(db: Queryable, olderThanHours: number): Promise<{ cutoff: Date; below: string }> {
  const { rows: clock } = await db.query<{ cutoff: Date }>(`SELECT now() - make_interval(secs => $1) AS cutoff`, [olderThanHours * 3600]);
  const cutoff = clock[0].cutoff;
  return { cutoff, below: await firstIdCreatedAtOrAfter(db, cutoff) };
}

/** The ids pruneAcked would delete (to narrow a delete the database refused). */
export async function prunableIds(db: Queryable, olderThanHours: number, chunk: number): Promise<string[]> {
  const { cutoff, below } = await pruneBounds(db, olderThanHours);
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM sync_outbox WHERE id < $1::bigint AND status = 'acked' AND acked_at < $2 ORDER BY id LIMIT $3`,
    [below, cutoff, chunk],
  );
  return rows.map((r) => r.id);
}

/** Deletes these rows if they are still acked. */
export async function deleteAcked(db: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db.query(`DELETE FROM sync_outbox WHERE id = ANY($1::bigint[]) AND status = 'acked'`, [ids]);
  return r.rowCount ?? 0;
}

// ------------------------------------------------------------------------------------------------
// Figures for GET /api/v1/sync/status
// ------------------------------------------------------------------------------------------------

export interface OutboxFigures {
  byStatus: Record<OutboxStatus, number>;
  oldestPending: { id: string; createdAt: Date; occurredAt: Date } | null;
  ackedLastMinute: number;
  lastAckedAt: Date | null;
  /** The most recent event to go dead (dlq or failed), with its reason. */
  lastDead: { id: string; status: DeadStatus; lastError: string | null; eventType: string } | null;
}

/**
 * One pass over the table for the counts (there is no index on acked rows, and an operator asking
 * for the status is rare), plus two index lookups. The caller bounds it with a statement timeout.
 */
export async function outboxFigures(db: Queryable): Promise<OutboxFigures> {
  const { rows: counts } = await db.query<Record<OutboxStatus, string> & { acked_last_minute: string; last_acked_at: Date | null }>(
    `SELECT ${outboxStatuses.map((s) => `count(*) FILTER (WHERE status = '${s}') AS ${s}`).join(', ')},
            count(*) FILTER (WHERE status = 'acked' AND acked_at >= now() - interval '1 minute') AS acked_last_minute,
            max(acked_at) AS last_acked_at
     FROM sync_outbox`,
  );
  const c = counts[0];
  const byStatus = Object.fromEntries(outboxStatuses.map((s) => [s, Number(c[s])])) as Record<OutboxStatus, number>;
  const { rows: oldest } = await db.query<{ id: string; created_at: Date; occurred_at: Date }>(
    `SELECT id::text AS id, created_at, occurred_at FROM sync_outbox WHERE status IN ('pending', 'claimed') ORDER BY created_at, sync_outbox.id LIMIT 1`,
  );
  const { rows: dead } = await db.query<{ id: string; status: DeadStatus; last_error: string | null; event_type: string }>(
    `SELECT * FROM (
       (SELECT id::text AS id, status, last_error, event_type, id AS n FROM sync_outbox WHERE status = 'dlq' ORDER BY n DESC LIMIT 1)
       UNION ALL
       (SELECT id::text AS id, status, last_error, event_type, id AS n FROM sync_outbox WHERE status = 'failed' ORDER BY n DESC LIMIT 1)
     ) d ORDER BY n DESC LIMIT 1`,
  );
  return {
    byStatus,
    oldestPending: oldest[0] ? { id: oldest[0].id, createdAt: oldest[0].created_at, occurredAt: oldest[0].occurred_at } : null,
    ackedLastMinute: Number(c.acked_last_minute),
    lastAckedAt: c.last_acked_at,
    lastDead: dead[0] ? { id: dead[0].id, status: dead[0].status, lastError: dead[0].last_error, eventType: dead[0].event_type } : null,
  };
}
