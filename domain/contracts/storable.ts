/**
 * What Postgres can hold, checked before it is asked to (DESIGN.md §5: a micro-batch the database
 * refuses for a data reason must never be retried as a whole). Every string, number and time in
 * a contract goes through one of these, so a device cannot send what the database would refuse.
 */
import { z } from 'zod';

/**
 * Text Postgres stores as sent: no NUL (text and jsonb refuse U+0000), no other control
 * characters but tab and line breaks, and no lone UTF-16 surrogates (JSON may escape them, but
 * they are not Unicode text; jsonb refuses them and text would silently store U+FFFD instead).
 */
// eslint-disable-next-line no-control-regex -- control characters (but tab and line breaks) are exactly what this finds.
const controlCharacter = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const loneSurrogates = new RegExp(loneSurrogate.source, 'g');

export function isStorableText(value: string): boolean {
  return !controlCharacter.test(value) && !loneSurrogate.test(value);
}

/** The same text with what Postgres refuses replaced by U+FFFD (for quarantine records and logs). */
export function toStorableText(value: string): string {
  return value.replace(loneSurrogates, '\ufffd').replaceAll('\u0000', '\ufffd');
}

export const storableTextMessage = 'must be text without NUL, control characters or unpaired surrogates';

export function text(min: number, max: number) {
  return z.string().min(min).max(max).refine(isStorableText, storableTextMessage);
}

/**
 * Event times FarmIQ stores: ISO 8601 with an offset, from 2000 to before 2100. Postgres holds far
 * more, but year 0 (which ISO allows) it refuses, and a reading from 1970 or 2999 is a device
 * clock fault that would open rollup windows nobody ever closes.
 */
export const earliestEventTime = Date.parse('2000-01-01T00:00:00Z');
export const latestEventTime = Date.parse('2100-01-01T00:00:00Z');

export const eventTime = z.iso.datetime({ offset: true }).refine((v) => {
  const t = Date.parse(v);
  return t >= earliestEventTime && t < latestEventTime;
}, 'must be a time from 2000-01-01 to before 2100-01-01');

/**
 * A measured value. Bounded well inside float8 so rollup sums (value × millions of readings)
 * can never overflow; no sensor FarmIQ reads comes near a billion.
 */
export const measurement = z
  .number()
  .refine(Number.isFinite, 'must be a finite number')
  .refine((v) => Math.abs(v) <= 1e9, 'must be between -1e9 and 1e9');

/** Postgres `integer`. */
export const int32 = z.number().int().max(2_147_483_647).min(-2_147_483_648);

/**
 * A quantity stored in a numeric(p,3) column with a CHECK (> 0): below 0.0005 it would round to
 * 0.000 and break the check, so the smallest accepted value is one unit of the third decimal.
 */
export function positiveQuantity(max: number) {
  return z.number().min(0.001).max(max);
}
