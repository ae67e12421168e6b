/**
 * What the sync routers share: request parsing with machine-readable 400s, and the error codes of
 * the sync API (in the `{ "error": { "code", "message" } }` shape of errors.ts).
 */
import type { Request } from 'express';
import type { z } from 'zod';
import { HttpError, type ErrorCode } from '../errors';

/**
 * The sync API's own codes beside errors.ts's. Kept here so the sync routes own them; the cast is
 * only because ErrorCode is a closed union in errors.ts.
 */
export type SyncErrorCode = 'invalid_body' | 'temporal_unavailable' | 'forwarder_not_running' | 'forwarder_not_answering';

export function syncHttpError(status: number, code: ErrorCode | SyncErrorCode, message: string, field?: string): HttpError {
  return new HttpError(status, code as ErrorCode, message, field);
}

function firstIssue(error: z.ZodError): { field: string; what: string } {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') return { field: issue.keys[0], what: 'is not a known field' };
  return { field: issue.path.map(String).join('.') || '(body)', what: issue.message };
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  const { field, what } = firstIssue(parsed.error);
  throw syncHttpError(400, 'invalid_query', `query parameter ${field}: ${what}`, field);
}

export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const parsed = schema.safeParse(req.body ?? {});
  if (parsed.success) return parsed.data;
  const { field, what } = firstIssue(parsed.error);
  throw syncHttpError(400, 'invalid_body', `body field ${field}: ${what}`, field);
}

/** An outbox row id in a path or body: a positive bigint, as text. */
export const outboxIdPattern = /^[1-9][0-9]{0,18}$/;
