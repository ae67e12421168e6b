/**
 * The wire contract of edge→cloud sync (spec §7): one signed HTTPS POST per batch to
 * /api/v1/edge/batch (alias /api/v1/ingestion/batch), answered event by event.
 */
import { z } from 'zod';
import { eventTime, text } from '../contracts/storable';

export const edgeBatchPaths = ['/api/v1/edge/batch', '/api/v1/ingestion/batch'] as const;

/** Largest batch the cloud accepts; the forwarder claims at most this many events at once. */
export const maxEventsPerBatch = 1000;
export const maxBatchBodyBytes = 8 * 1024 * 1024;

/** The edge counts its backlog up to this many rows: a count at the cap means at least that many. */
export const backlogCountCap = 100_000;

/**
 * The edge's own backlog when it built the batch (its sync_outbox rows still waiting to be sent),
 * so the cloud can show it (GET /api/v1/edges/:edgeId/health). Inside the signed body.
 */
export const edgeStatusReport = z.strictObject({
  pending_events: z.number().int().min(0).max(backlogCountCap),
  /** When the oldest waiting event happened; null when nothing waits. */
  oldest_pending_at: eventTime.nullable(),
});
export type EdgeStatusReport = z.infer<typeof edgeStatusReport>;

export const edgeBatchRequest = z.object({
  batch_id: text(1, 200),
  edge_id: text(1, 128),
  /** Each event is validated on its own: one bad event is rejected, the rest still go through. */
  events: z.array(z.unknown()).min(1).max(maxEventsPerBatch),
  /**
   * Optional (older edges do not send it) and checked on its own with parseEdgeStatus: a broken
   * status is ignored, never a reason to refuse the batch's events.
   */
  edge_status: z.unknown().optional(),
});
export type EdgeBatchRequest = z.infer<typeof edgeBatchRequest>;

/** The batch's edge status, or why it was ignored (`absent` for an edge that sends none). */
export function parseEdgeStatus(raw: unknown): { ok: true; status: EdgeStatusReport } | { ok: false; reason: string } {
  if (raw === undefined) return { ok: false, reason: 'absent' };
  const parsed = edgeStatusReport.safeParse(raw);
  if (parsed.success) return { ok: true, status: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: `${issue.path.join('.') || 'edge_status'}: ${issue.message}` };
}

export const eventOutcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('accepted'), event_id: z.string(), tenant_id: z.string() }),
  z.object({ status: z.literal('duplicate'), event_id: z.string(), tenant_id: z.string() }),
  z.object({
    status: z.literal('rejected'),
    /** Missing when the event is too broken to have one. */
    event_id: z.string().optional(),
    tenant_id: z.string().optional(),
    /** A stable code: schema_violation:<path>, tenant_not_authorized, not_syncable, … */
    reason: z.string(),
  }),
]);
export type EventOutcome = z.infer<typeof eventOutcome>;

export const edgeBatchResponse = z.object({
  batch_id: z.string(),
  /** One outcome per request event, in request order. */
  results: z.array(eventOutcome),
});
export type EdgeBatchResponse = z.infer<typeof edgeBatchResponse>;

/** The error body of every non-2xx answer of the cloud APIs. */
export const apiError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/**
 * Statuses that say "the cloud is not there right now", not "your events are wrong": the
 * forwarder backs off without spending the events' attempts (DESIGN.md §4, offline-first).
 */
export const cloudUnavailableStatuses: readonly number[] = [408, 425, 429, 502, 503, 504];
