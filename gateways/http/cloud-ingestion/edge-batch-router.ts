/**
 * POST /api/v1/edge/batch (and its alias /api/v1/ingestion/batch): edges deliver their synced
 * events here (spec §7, domain/sync/edge-batch.ts). The body is read raw — the signature covers its
 * exact bytes — and authenticated before it is parsed; cloud/ingestion/ does the rest.
 *
 *   200 { batch_id, results: [{ status: accepted | duplicate | rejected, event_id, tenant_id, reason? }] }
 *   400 invalid_json | schema_violation:<path> | edge_mismatch | invalid_body
 *   401 missing_signature | unknown_edge | stale_timestamp | bad_signature | replayed_nonce
 *   413 payload_too_large        415 unsupported_charset (a charset other than UTF-8)
 *   503 unavailable (retry later; the edge spends no attempts)
 */
import express, { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Pool } from 'pg';
import { edgeBatchPaths, maxBatchBodyBytes, signatureHeaders } from '../../../domain/sync';
import type { Logger } from '../../../platform/logger';
import { BatchIngestion, type OutboxNudge } from '../../../cloud/ingestion/batch-ingestion';
import { IngestionError } from '../../../cloud/ingestion/errors';
import { ingestionMetrics } from '../../../cloud/metrics';
import { acceptableCharset, unsupportedCharset } from '../charset';
import { sendError, type ErrorAnswer } from '../errors';
import { requestIdOf } from '../request-id';

export interface EdgeBatchRouterDeps {
  pool: Pool;
  /** Told after each commit that new outbox rows wait (the relay's sweep finds them anyway). */
  relay?: OutboxNudge;
  log: Logger;
  /** Clock for signature timestamps; tests only. */
  now?: () => Date;
}

/** Counted, then answered in the one error body (errors.ts) with this API's codes. */
function refuse(res: Response, err: ErrorAnswer): void {
  ingestionMetrics.requests.inc({ status: String(err.status), code: err.code.split(':')[0] });
  sendError(res, err);
}

// What body-parser throws (its `type`), as the codes of this API.
function bodyError(err: { type?: string; status?: number; message?: string }): IngestionError | undefined {
  if (err.type === 'entity.too.large') {
    return new IngestionError(413, 'payload_too_large', `a batch body may be at most ${maxBatchBodyBytes} bytes`);
  }
  if (typeof err.type === 'string') return new IngestionError(400, 'invalid_body', `the request body could not be read: ${err.message ?? err.type}`);
  return undefined;
}

export function createEdgeBatchRouter({ pool, relay, log, now }: EdgeBatchRouterDeps): Router {
  const ingestion = new BatchIngestion({ pool, relay, log, now });
  const rawBody = express.raw({ type: () => true, limit: maxBatchBodyBytes });
  const router = Router();

  // The signature covers the bytes, and the bytes must be UTF-8 JSON: another charset is refused
  // before the body is read.
  const utf8Body: RequestHandler = (req, res, next) => {
    if (acceptableCharset(req)) return next();
    const refusal = unsupportedCharset(req);
    const requestId = requestIdOf(req, res);
    log.info({ requestId, code: refusal.code, edgeId: req.get(signatureHeaders.edgeId) }, `edge batch refused: ${refusal.message}`);
    refuse(res, { status: refusal.status, code: refusal.code, message: refusal.message });
  };

  for (const path of edgeBatchPaths) {
    router.post(path, utf8Body, rawBody, async (req, res) => {
      const requestId = requestIdOf(req, res);
      try {
        const response = await ingestion.ingest({
          requestId,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          header: (name) => req.get(name),
        });
        ingestionMetrics.requests.inc({ status: '200', code: 'ok' });
        res.status(200).json(response);
      } catch (err) {
        if (err instanceof IngestionError) {
          if (err.status >= 500) log.warn({ requestId, code: err.code }, err.message);
          else log.info({ requestId, code: err.code, edgeId: req.get(signatureHeaders.edgeId) }, `edge batch refused: ${err.message}`);
          refuse(res, err);
          return;
        }
        log.error({ requestId, err: (err as Error).message, stack: (err as Error).stack }, 'edge batch failed');
        refuse(res, { status: 500, code: 'internal_error', message: 'the batch failed; the error is logged with this request id' });
      }
    });
  }

  const onBodyError: ErrorRequestHandler = (err, req, res, next) => {
    const mapped = bodyError(err as { type?: string });
    if (!mapped) return next(err);
    requestIdOf(req, res);
    log.info({ requestId: res.locals.requestId, code: mapped.code }, `edge batch refused: ${mapped.message}`);
    refuse(res, mapped);
  };
  router.use(onBodyError);
  return router;
}
