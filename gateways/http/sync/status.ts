/**
 * Sync status and control on the edge HTTP API (docs/sync.md):
 *
 *   GET  /api/v1/sync/status      the forwarder's own status (query) + the outbox's figures (DB)
 *   POST /api/v1/sync/pause       { reason? }  stop claiming; batches in flight finish
 *   POST /api/v1/sync/resume
 *   POST /api/v1/sync/retry-now   end any backoff now (the cloud is back, a key was installed)
 *
 * The status answers 200 whenever the database does: with Temporal down it still reports the
 * outbox and says why the forwarder part is missing. The control calls are Temporal signals, kept
 * by the server even while the edge worker is down; they answer 202 with the status read back.
 */
import express, { Router, type RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { inTransaction } from '../../../db/transaction';
import { text } from '../../../domain/contracts/storable';
import { outboxFigures, type OutboxFigures } from '../../../sync/outbox';
import type { SyncStatus } from '../../../sync/sync-contract';
import { requestErrorOf } from '../errors';
import { operatorOf } from '../operator-auth';
import { SyncControlError, type SyncForwarderControl } from './control';
import { parseBody, parseQuery, syncHttpError } from './sync-http';

/** Seconds the outbox figures may take (one scan of the table) before the status answers without them. */
const figuresTimeoutMs = 5000;

const noQuery = z.object({}).strict();
const pauseBody = z.object({ reason: text(1, 500).optional(), by: text(1, 200).optional() }).strict();
const emptyBody = z.object({}).strict();

const parseJson = express.json({ limit: '16kb' });

/**
 * JSON bodies up to 16 KiB (a charset other than UTF-8 is already 415 in front of the operator app's
 * routers: edge-app.ts, utf8Only). An unknown content encoding is 415, a body over the limit 413;
 * any other body that is not JSON is a 400 invalid_body — never a 500.
 */
export const syncJsonBody: RequestHandler = (req, res, next) => {
  parseJson(req, res, (err?: unknown) => {
    if (!err) return next();
    const known = requestErrorOf(err);
    if (known && known.code !== 'invalid_json' && known.code !== 'invalid_request') return next(known);
    next(syncHttpError(400, 'invalid_body', `the body is not acceptable JSON: ${(err as Error).message}`));
  });
};

function figures(pool: Pool): Promise<OutboxFigures> {
  return inTransaction(pool, outboxFigures, { readOnly: true, statementTimeout: `${figuresTimeoutMs}ms` });
}

function describeFigures(f: OutboxFigures, now: Date) {
  const backlog = f.byStatus.pending + f.byStatus.claimed + f.byStatus.sending + f.byStatus.sent;
  return {
    by_status: f.byStatus,
    backlog,
    oldest_pending: f.oldestPending
      ? {
          id: f.oldestPending.id,
          created_at: f.oldestPending.createdAt.toISOString(),
          occurred_at: f.oldestPending.occurredAt.toISOString(),
          age_seconds: Math.max(0, Math.round((now.getTime() - f.oldestPending.createdAt.getTime()) / 1000)),
        }
      : null,
    acked_last_minute: f.ackedLastMinute,
    acked_per_second: Math.round((f.ackedLastMinute / 60) * 100) / 100,
    last_acked_at: f.lastAckedAt?.toISOString() ?? null,
    last_dead: f.lastDead ? { id: f.lastDead.id, status: f.lastDead.status, event_type: f.lastDead.eventType, last_error: f.lastDead.lastError } : null,
  };
}

function problemOf(err: unknown): { code: string; message: string } {
  if (err instanceof SyncControlError) return { code: err.code, message: err.message };
  return { code: 'internal_error', message: (err as Error).message };
}

export function syncStatusRouter({ pool, control, edgeId }: { pool: Pool; control: SyncForwarderControl; edgeId: string }): Router {
  const router = Router();

  router.get('/status', async (req, res) => {
    parseQuery(noQuery, req);
    const now = new Date();
    const [forwarder, outbox] = await Promise.allSettled([control.status(), figures(pool)]);
    const status: SyncStatus | undefined = forwarder.status === 'fulfilled' ? forwarder.value : undefined;
    const db = outbox.status === 'fulfilled' ? describeFigures(outbox.value, now) : undefined;
    if (!status && !db) throw outbox.status === 'rejected' ? outbox.reason : new Error('no status');
    res.json({
      edge_id: edgeId,
      generated_at: now.toISOString(),
      state: status?.state ?? 'unknown',
      last_success_at: status?.lastSuccess?.at ?? db?.last_acked_at ?? null,
      last_error: status?.lastError ?? (db?.last_dead ? { type: `outbox_${db.last_dead.status}`, message: db.last_dead.last_error } : null),
      forwarder: status
        ? { workflow_id: control.workflowId, reachable: true, status }
        : { workflow_id: control.workflowId, reachable: false, error: problemOf(forwarder.status === 'rejected' ? forwarder.reason : undefined) },
      outbox: db ?? { error: problemOf(outbox.status === 'rejected' ? outbox.reason : undefined) },
    });
  });

  /** Sends a signal and answers 202 with the status read back (when the forwarder answers in time). */
  const signalRoute =
    (name: string, send: (body: unknown, operator: string | undefined) => Promise<void>, body: z.ZodType): RequestHandler =>
    async (req, res) => {
      parseQuery(noQuery, req);
      const parsed = parseBody(body, req);
      try {
        await send(parsed, operatorOf(res)?.name);
      } catch (err) {
        if (err instanceof SyncControlError) {
          throw syncHttpError(err.code === 'forwarder_not_running' ? 409 : 503, err.code, err.message);
        }
        throw err;
      }
      let state: SyncStatus | undefined;
      try {
        state = await control.status();
      } catch {
        // Signalled; the edge worker is down or slow. The signal waits for it on the server.
      }
      res.status(202).json({ signal: name, workflow_id: control.workflowId, status: state ?? null });
    };

  // `by` names the authenticated operator; a `by` in the body is kept beside it, never instead of it.
  const pausedBy = (given: string | undefined, operator: string | undefined) =>
    operator === undefined ? (given ?? 'edge-http') : given === undefined || given === operator ? operator : `${given} (operator ${operator})`;
  router.post(
    '/pause',
    syncJsonBody,
    signalRoute(
      'pause',
      (b, operator) => control.pause({ ...(b as z.infer<typeof pauseBody>), by: pausedBy((b as z.infer<typeof pauseBody>).by, operator) }),
      pauseBody,
    ),
  );
  router.post(
    '/resume',
    syncJsonBody,
    signalRoute('resume', () => control.resume(), emptyBody),
  );
  router.post(
    '/retry-now',
    syncJsonBody,
    signalRoute('connectivityRestored', () => control.retryNow(), emptyBody),
  );

  return router;
}
