/**
 * Why an edge batch request was refused as a whole. Each code is stable and machine-readable
 * (the edge forwarder branches on it; never rename one, only add): 401s for authentication, 4xx
 * for a request that can never succeed, 503 `unavailable` for "try again later" — the forwarder
 * backs off on 503 without spending its events' attempts (DESIGN §4, offline-first). The HTTP
 * gateway answers one in the common error body `{ error: { code, message } }`
 * (gateways/http/errors.ts sendError).
 */
import type { SignatureProblem } from '../../domain/sync';

export type IngestionErrorCode =
  | 'unknown_edge'
  | SignatureProblem
  | 'replayed_nonce'
  | 'payload_too_large'
  | 'invalid_body'
  | 'invalid_json'
  | `schema_violation:${string}`
  | 'edge_mismatch'
  | 'unavailable';

export class IngestionError extends Error {
  constructor(
    readonly status: number,
    readonly code: IngestionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IngestionError';
  }
}

export function unauthorized(code: 'unknown_edge' | SignatureProblem | 'replayed_nonce', message: string): IngestionError {
  return new IngestionError(401, code, message);
}

export function unavailable(message = 'the cloud database is not reachable; retry shortly'): IngestionError {
  return new IngestionError(503, 'unavailable', message);
}
