/**
 * Every request carries an id (the caller's `x-request-id`, or a new one) in the response header
 * and in every log line about it, so an operator can follow one request through the logs.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';

/** What a caller's x-request-id may be; anything else is replaced by a new UUID. */
const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the one already chosen for it (the requestId middleware), else the caller's
 * header or a new UUID — recorded and echoed, so a router mounted without the middleware behaves the same.
 */
export function requestIdOf(req: Request, res: Response): string {
  const given = req.get('x-request-id');
  const id = (res.locals.requestId as string | undefined) ?? (given && acceptableRequestId.test(given) ? given : randomUUID());
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  return id;
}

export const requestId: RequestHandler = (req, res, next) => {
  requestIdOf(req, res);
  next();
};
