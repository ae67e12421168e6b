/**
 * Cloud ingestion of one edge batch (spec §2 step 7, §4 step 7, §7): authenticate, validate each
 * event, and in one statement — one transaction — insert the fresh `(tenant_id, event_id)` pairs
 * into ingestion_dedupe and their messages into ingestion_outbox. A dedupe row therefore never
 * exists without its outbox row, and the relay publishes every outbox row to RabbitMQ with
 * confirms: nothing is lost between dedupe and publish, and nothing is published twice on purpose
 * (a republish after a crash is absorbed by the consumers' own dedupe).
 *
 * Every event gets its own outcome, in request order: accepted, duplicate (seen before, in an
 * earlier batch or earlier in this one) or rejected with a stable reason. A broken event never
 * fails its batch; a broken request is refused as a whole with an IngestionError. An event the
 * contract accepts but the database refuses (SQLSTATE class 22/23/54) is narrowed out by halving
 * the insert and rejected alone as `storage_refused:<SQLSTATE>`; the rest still commits.
 *
 * The statement itself is in ingestion-outbox.ts, the one writer of both tables.
 */
import type { Pool } from 'pg';
import { isDatabaseUnavailable, refusalReason } from '../../db/errors';
import { narrowRefusals } from '../../db/narrow';
import { eventCatalog, syncableEventTypes, schemaViolation } from '../../domain/contracts';
import { edgeBatchRequest, parseEdgeStatus, signatureHeaders, type EdgeBatchResponse, type EventOutcome } from '../../domain/sync';
import type { Logger } from '../../platform/logger';
import { eventKey, parseCloudEvent, type CloudEvent } from '../cloud-event';
import { recordEdgeStatus } from '../edges';
import { ingestionMetrics } from '../metrics';
import { EdgeAuthenticator, type AuthenticatedEdge, type SignedRequest } from './edge-auth';
import { IngestionError, unavailable } from './errors';
import { storeFreshEvents } from './ingestion-outbox';

/** What ingestion needs of the relay: a hint that new rows are waiting. */
export interface OutboxNudge {
  nudge(): void;
}

export interface BatchRequest extends SignedRequest {
  requestId: string;
}

export interface BatchIngestionDeps {
  pool: Pool;
  log: Logger;
  relay?: OutboxNudge;
  /** For tests of stale timestamps; the real clock otherwise. */
  now?: () => Date;
}

interface Candidate {
  index: number;
  event: CloudEvent;
}

const syncable = new Set<string>(syncableEventTypes);

const utf8Bom = '\ufeff';

export class BatchIngestion {
  private readonly auth: EdgeAuthenticator;

  constructor(private readonly deps: BatchIngestionDeps) {
    this.auth = new EdgeAuthenticator({ pool: deps.pool, log: deps.log, now: deps.now });
  }

  /** Answers one request; throws IngestionError when the request as a whole is refused. */
  async ingest(req: BatchRequest): Promise<EdgeBatchResponse> {
    const started = process.hrtime.bigint();
    const edge = await this.auth.authenticate(req);
    const log = this.deps.log.child({ requestId: req.requestId, edgeId: edge.edgeId });

    let json: unknown;
    try {
      let text = req.body.toString('utf8');
      if (text.startsWith(utf8Bom)) text = text.slice(1);
      json = JSON.parse(text);
    } catch (err) {
      throw new IngestionError(400, 'invalid_json', `the body is not JSON: ${(err as Error).message}`);
    }
    const request = edgeBatchRequest.safeParse(json);
    if (!request.success) {
      const v = schemaViolation(request.error.issues);
      throw new IngestionError(400, v.reason as `schema_violation:${string}`, v.detail);
    }
    const { batch_id: batchId, edge_id: bodyEdgeId, events, edge_status: edgeStatus } = request.data;
    if (bodyEdgeId !== edge.edgeId) {
      throw new IngestionError(400, 'edge_mismatch', `edge_id ${JSON.stringify(bodyEdgeId)} in the body is not the signing edge ${edge.edgeId}`);
    }

    const { outcomes, candidates } = classify(events, edge);
    const refused = new Map<Candidate, string>();
    const fresh = await this.store(candidates, edge, req.requestId, refused);
    for (const c of candidates) {
      const ids = { event_id: c.event.event_id, tenant_id: c.event.tenant_id };
      const reason = refused.get(c);
      if (reason) outcomes[c.index] = { status: 'rejected', ...ids, reason };
      else outcomes[c.index] = { status: fresh.has(eventKey(c.event.tenant_id, c.event.event_id)) ? 'accepted' : 'duplicate', ...ids };
    }
    if (fresh.size > 0) this.deps.relay?.nudge();
    await this.keepEdgeStatus(log, batchId, edge, edgeStatus, req);

    const results = outcomes as EventOutcome[];
    this.report(log, batchId, events, results, candidates, started);
    return { batch_id: batchId, results };
  }

  /** Inserts the candidates; those the database refuses end up in `refused` with their reason. */
  /** Inserts the candidates; those the database refuses (db/narrow.ts) end up in `refused` with their reason. */
  private async store(candidates: Candidate[], edge: AuthenticatedEdge, requestId: string, refused: Map<Candidate, string>): Promise<Set<string>> {
    const fresh = new Set<string>();
    const insert = async (part: readonly Candidate[]) => {
      const events = part.map(({ event: e }) => ({
        tenantId: e.tenant_id,
        eventId: e.event_id,
        eventType: e.event_type,
        routingKey: eventCatalog[e.event_type].routingKey,
        envelope: JSON.stringify(e),
        traceId: e.trace_id,
      }));
      const rows = await storeFreshEvents(this.deps.pool, events, edge.edgeId, requestId);
      for (const r of rows) fresh.add(eventKey(r.tenant_id, r.event_id));
      return rows.length;
    };
    try {
      const { refused: refusals } = await narrowRefusals(candidates, insert);
      for (const { item, err } of refusals) {
        refused.set(item, refusalReason(err));
        this.deps.log.warn({ requestId, eventId: item.event.event_id, err: (err as Error).message }, 'the database refused an edge event');
      }
      return fresh;
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw unavailable();
      throw err;
    }
  }

  /**
   * The backlog the edge reported, kept for the edge's health (cloud/edges.ts). After the events:
   * a broken or unstorable report is logged and dropped, and never costs the batch its events.
   */
  private async keepEdgeStatus(log: Logger, batchId: string, edge: AuthenticatedEdge, raw: unknown, req: BatchRequest): Promise<void> {
    const parsed = parseEdgeStatus(raw);
    if (!parsed.ok) {
      if (parsed.reason !== 'absent') log.warn({ batchId, reason: parsed.reason }, 'edge status ignored');
      return;
    }
    // Authenticated already, so the timestamp is the signed one, within the clock skew.
    const reportedAt = new Date(Number(req.header(signatureHeaders.timestamp)) * 1000);
    const { pending_events: pendingEvents, oldest_pending_at: oldest } = parsed.status;
    await recordEdgeStatus(this.deps.pool, edge.edgeId, { pendingEvents, oldestPendingAt: oldest === null ? null : new Date(oldest), reportedAt }).catch(
      (err: unknown) => log.warn({ batchId, err: (err as Error).message }, 'could not keep the edge status'),
    );
  }

  private report(log: Logger, batchId: string, events: unknown[], results: EventOutcome[], candidates: Candidate[], started: bigint): void {
    const counts = { accepted: 0, duplicate: 0, rejected: 0 };
    const rejectedBy = new Map<string, number>();
    results.forEach((r, i) => {
      counts[r.status]++;
      if (r.status === 'rejected') {
        const code = r.reason.split(':')[0];
        rejectedBy.set(code, (rejectedBy.get(code) ?? 0) + 1);
        const raw = events[i] as { trace_id?: unknown } | null;
        log.warn(
          {
            batchId,
            index: i,
            eventId: r.event_id,
            tenantId: r.tenant_id,
            traceId: typeof raw?.trace_id === 'string' ? raw.trace_id : undefined,
            reason: r.reason,
          },
          'edge event rejected',
        );
      }
    });
    if (log.isLevelEnabled('debug')) {
      for (const c of candidates) {
        log.debug(
          { batchId, eventId: c.event.event_id, tenantId: c.event.tenant_id, traceId: c.event.trace_id, outcome: results[c.index].status },
          'edge event',
        );
      }
    }
    if (counts.accepted) ingestionMetrics.events.inc({ outcome: 'accepted', reason: '' }, counts.accepted);
    if (counts.duplicate) ingestionMetrics.events.inc({ outcome: 'duplicate', reason: '' }, counts.duplicate);
    for (const [reason, n] of rejectedBy) ingestionMetrics.events.inc({ outcome: 'rejected', reason }, n);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    ingestionMetrics.seconds.observe(seconds);
    log.info({ batchId, events: results.length, ...counts, ms: Math.round(seconds * 1000) }, 'edge batch ingested');
  }
}

/** Outcomes of the events that need no database, and the rest as candidates for the insert. */
export function classify(events: unknown[], edge: AuthenticatedEdge): { outcomes: (EventOutcome | undefined)[]; candidates: Candidate[] } {
  const outcomes: (EventOutcome | undefined)[] = new Array<EventOutcome | undefined>(events.length);
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  events.forEach((raw, index) => {
    const parsed = parseCloudEvent(raw);
    if (!parsed.ok) {
      outcomes[index] = { status: 'rejected', event_id: parsed.eventId, tenant_id: parsed.tenantId, reason: parsed.reason };
      return;
    }
    const { event } = parsed;
    const ids = { event_id: event.event_id, tenant_id: event.tenant_id };
    if (!syncable.has(event.event_type)) {
      outcomes[index] = { status: 'rejected', ...ids, reason: 'not_syncable' };
    } else if (!edge.tenants.has(event.tenant_id.toLowerCase())) {
      outcomes[index] = { status: 'rejected', ...ids, reason: 'tenant_not_authorized' };
    } else {
      const key = eventKey(event.tenant_id, event.event_id);
      if (seen.has(key)) {
        outcomes[index] = { status: 'duplicate', ...ids };
      } else {
        seen.add(key);
        candidates.push({ index, event });
      }
    }
  });
  return { outcomes, candidates };
}
