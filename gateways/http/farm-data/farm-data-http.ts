/**
 * What the farm-data routes share: path parameters, the time window of a query (from < to, at most
 * so many days, a default when absent), the read models' refusals as HTTP errors, and snake_case
 * for the answers.
 *
 *   400 invalid_window   from is not before to                (field from)
 *   400 window_too_long  the window is longer than the route allows (field to)
 *   400 invalid_query    a parameter is malformed, or the cursor is not one this API returned
 *   404 not_found        the farm, barn, flock or edge is not the tenant's
 */
import { z } from 'zod';
import { topicSegment } from '../../../domain/contracts/envelope';
import { FarmDataNotFound } from '../../../cloud/farm-data/read-scope';
import { InvalidWeighingsCursor } from '../../../cloud/farm-data/weighings';
import { HttpError } from '../errors';

export const farmParams = z.strictObject({ farmId: topicSegment });
export const barnParams = z.strictObject({ farmId: topicSegment, barnId: topicSegment });

export const iso = z.iso.datetime({ offset: true });
export const day = z.iso.date();

export const windowQuery = {
  from: iso.optional().meta({ description: 'start of the window (inclusive), ISO 8601' }),
  to: iso.optional().meta({ description: 'end of the window (exclusive), ISO 8601; default now' }),
};

const dayMs = 86_400_000;

/** The window asked for: `to` defaults to now, `from` to `defaultMs` before `to`. */
export function windowOf(q: { from?: string; to?: string }, now: Date, rule: { defaultMs: number; maxDays: number }): { from: Date; to: Date } {
  const to = q.to !== undefined ? new Date(q.to) : now;
  const from = q.from !== undefined ? new Date(q.from) : new Date(to.getTime() - rule.defaultMs);
  if (!(from < to)) throw new HttpError(400, 'invalid_window', 'from must be before to', 'from');
  if (to.getTime() - from.getTime() > rule.maxDays * dayMs) {
    throw new HttpError(400, 'window_too_long', `a window may span at most ${rule.maxDays} days`, 'to');
  }
  return { from, to };
}

/** Runs a read and answers its refusals as HTTP. */
export async function answered<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof FarmDataNotFound) throw new HttpError(404, 'not_found', err.message);
    if (err instanceof InvalidWeighingsCursor) throw new HttpError(400, 'invalid_query', err.message, 'cursor');
    throw err;
  }
}

type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;

/** The JSON form of a read model: camelCase keys in snake_case (digits stay: within10Pct → within10_pct), Dates as ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: Json<T[K]> }
    : T extends object
      ? { [K in keyof T as K extends string ? Snake<K> : K]: Json<T[K]> }
      : T;

export function json<T>(value: T): Json<T> {
  const walk = (v: unknown): unknown => {
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), walk(x)]));
    }
    return v;
  };
  return walk(value) as Json<T>;
}
