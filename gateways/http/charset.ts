/**
 * Request bodies of the FarmIQ HTTP APIs are JSON in UTF-8 (RFC 8259 §8.1). A `Content-Type` that
 * names any other charset (`application/json; charset=latin1`, `utf-16`, `utf8`) is answered
 * 415 `unsupported_charset` before anything reads the body; `charset=utf-8` in any case, quoted or
 * not, and no charset at all are accepted.
 *
 * body-parser alone is not enough: it accepts every `utf-*` charset (and decodes UTF-16 bodies),
 * and the error it throws for others reached the error handlers of several routers as a 500.
 */
import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors';

/** The charset parameter of a Content-Type header value, lower-cased; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const part of contentType.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    return value.toLowerCase();
  }
  return undefined;
}

/** True when the request declares no charset or UTF-8. */
export function acceptableCharset(req: Request): boolean {
  const charset = charsetOf(req.get('content-type'));
  return charset === undefined || charset === 'utf-8';
}

export function unsupportedCharset(req: Request): HttpError {
  const charset = charsetOf(req.get('content-type')) ?? '';
  const shown = JSON.stringify(charset.length > 40 ? `${charset.slice(0, 40)}…` : charset);
  return new HttpError(415, 'unsupported_charset', `request bodies must be UTF-8 JSON; charset ${shown} is not supported (send charset=utf-8 or none)`);
}

export interface Utf8OnlyOptions {
  /** Told about each refused request before the 415 goes out (quarantine, metrics); must not throw. */
  onRefused?: (req: Request, refusal: HttpError) => Promise<void> | void;
}

/** 415 unsupported_charset for a declared charset other than UTF-8; passes every other request on. */
export function utf8Only(opts: Utf8OnlyOptions = {}): RequestHandler {
  return async (req, _res, next) => {
    if (acceptableCharset(req)) return next();
    const refusal = unsupportedCharset(req);
    try {
      await opts.onRefused?.(req, refusal);
    } catch {
      // Recording is best effort; the caller still gets its 415.
    }
    next(refusal);
  };
}
