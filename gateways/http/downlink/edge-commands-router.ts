/**
 * POST /api/v1/edge/commands: a farm server's pull of its downlink commands (domain/downlink/
 * commands.ts, docs/downlink.md). Authenticated exactly like a sync batch (cloud/ingestion/
 * edge-auth.ts: Ed25519 signature over the raw bytes, fresh timestamp, unused nonce) before the
 * body is parsed; the body's edge_id must be the signing edge. The outcomes it carries are recorded
 * first, then the commands after `after_seq` without an outcome are answered; with none and
 * wait_seconds > 0 the request is held until one is queued (./command-waiters.ts).
 *
 *   200 { commands: EdgeCommand[], outcomes_recorded }
 *   400 invalid_json | schema_violation:<path> | edge_mismatch | invalid_body
 *   401 missing_signature | unknown_edge | stale_timestamp | bad_signature | replayed_nonce
 *   413 payload_too_large        415 unsupported_charset
 *   503 unavailable (the database, or too many pulls waiting; retry later)
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Pool } from 'pg';
import { commandsPullRequest, edgeCommandsPath, type CommandsPullResponse } from '../../../domain/downlink/commands';
import { signatureHeaders } from '../../../domain/sync';
import { isDatabaseUnavailable } from '../../../db/errors';
import type { Logger } from '../../../platform/logger';
import { hasOpenCommands, pullCommands, recordOutcomes } from '../../../cloud/downlink/command-queue';
import { EdgeAuthenticator, type AuthenticatedEdge } from '../../../cloud/ingestion/edge-auth';
import { IngestionError, unavailable } from '../../../cloud/ingestion/errors';
import { acceptableCharset, unsupportedCharset } from '../charset';
import { sendError } from '../errors';
import { requestIdOf } from '../request-id';
import { CommandWaiters, TooManyWaiting } from './command-waiters';

/** A pull carries at most 1000 outcomes of a few hundred bytes each. */
export const maxPullBodyBytes = 1024 * 1024;

export interface EdgeCommandsRouterDeps {
  /** Owner pool: the edge is authenticated, the statements name it. */
  pool: Pool;
  log: Logger;
  /** Pulls held at once (DOWNLINK_MAX_WAITING_PULLS). */
  maxWaiting?: number;
  /** Clock for signature timestamps; tests only. */
  now?: () => Date;
  /** How often a held pull checks without a notification; tests only. */
  recheckMs?: number;
}

export type EdgeCommandsRouter = Router & { waiters: CommandWaiters; close(): Promise<void> };

function bodyError(err: { type?: string; message?: string }): IngestionError | undefined {
  if (err.type === 'entity.too.large') return new IngestionError(413, 'payload_too_large', `a pull body may be at most ${maxPullBodyBytes} bytes`);
  if (typeof err.type === 'string') return new IngestionError(400, 'invalid_body', `the request body could not be read: ${err.message ?? err.type}`);
  return undefined;
}

function parseBody(body: Buffer, edge: AuthenticatedEdge) {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new IngestionError(400, 'invalid_json', 'the body is not JSON');
  }
  const parsed = commandsPullRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.') || 'body';
    throw new IngestionError(400, `schema_violation:${where}`, `${where}: ${issue.message}`);
  }
  if (parsed.data.edge_id !== edge.edgeId) {
    throw new IngestionError(400, 'edge_mismatch', `the body names edge ${parsed.data.edge_id}, the signature edge ${edge.edgeId}`);
  }
  return parsed.data;
}

async function database<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw unavailable();
    throw err;
  }
}

export function createEdgeCommandsRouter({ pool, log, maxWaiting = 1000, now, recheckMs }: EdgeCommandsRouterDeps): EdgeCommandsRouter {
  const auth = new EdgeAuthenticator({ pool, log, now });
  const waiters = new CommandWaiters({ pool, log, maxHeld: maxWaiting, recheckMs });
  const router = Router();

  const utf8Body: RequestHandler = (req, res, next) => {
    if (acceptableCharset(req)) return next();
    const refusal = unsupportedCharset(req);
    requestIdOf(req, res);
    sendError(res, { status: refusal.status, code: refusal.code, message: refusal.message });
  };

  async function pull(req: Request, res: Response): Promise<CommandsPullResponse> {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const edge = await auth.authenticate({ method: req.method, path: req.originalUrl.split('?')[0], body, header: (name) => req.get(name) });
    const request = parseBody(body, edge);
    const recorded = await database(() => recordOutcomes(pool, edge.edgeId, request.outcomes));
    let commands = await database(() => pullCommands(pool, edge, request.after_seq));
    if (commands.length === 0 && request.wait_seconds > 0) {
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      try {
        await waiters.wait(edge.edgeId, request.wait_seconds * 1000, () => database(() => hasOpenCommands(pool, edge, request.after_seq)), gone.signal);
      } catch (err) {
        if (err instanceof TooManyWaiting) throw unavailable(`too many farm servers are waiting for commands; retry shortly (${err.message})`);
        throw err;
      }
      if (!gone.signal.aborted) commands = await database(() => pullCommands(pool, edge, request.after_seq));
    }
    return { commands, outcomes_recorded: recorded };
  }

  router.post(edgeCommandsPath, utf8Body, express.raw({ type: () => true, limit: maxPullBodyBytes }), async (req, res) => {
    const requestId = requestIdOf(req, res);
    try {
      const answer = await pull(req, res);
      if (!res.writableEnded && !res.destroyed) res.status(200).json(answer);
    } catch (err) {
      if (err instanceof IngestionError) {
        log.info({ requestId, code: err.code, edgeId: req.get(signatureHeaders.edgeId) }, `edge command pull refused: ${err.message}`);
        sendError(res, err);
        return;
      }
      log.error({ requestId, err: (err as Error).message, stack: (err as Error).stack }, 'edge command pull failed');
      sendError(res, { status: 500, code: 'internal_error', message: 'the pull failed; the error is logged with this request id' });
    }
  });

  const onBodyError: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== edgeCommandsPath) return next(err);
    const mapped = bodyError(err as { type?: string });
    if (!mapped) return next(err);
    requestIdOf(req, res);
    sendError(res, mapped);
  };
  router.use(onBodyError);
  return Object.assign(router, { waiters, close: () => waiters.close() });
}
