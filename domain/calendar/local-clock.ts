/**
 * An instant as a farm-local day and the share of that day already gone, for partial placement
 * and depopulation days. The share is local clock time / 24 h, so on a daylight-saving day it is off
 * by at most 1/24 of that one day.
 */

export interface LocalClock {
  day: string;
  /** 0 at local midnight, approaching 1 just before the next. */
  elapsedShare: number;
}

export function localClock(instant: string, timeZone: string): LocalClock {
  const ms = Date.parse(instant);
  if (!Number.isFinite(ms)) throw new RangeError(`not an instant: ${JSON.stringify(instant)}`);
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  const seconds = Number(part('hour')) * 3600 + Number(part('minute')) * 60 + Number(part('second')) + (ms % 1000) / 1000;
  return { day: `${part('year')}-${part('month')}-${part('day')}`, elapsedShare: seconds / 86_400 };
}

/** True for a zone name this Node's Intl knows (IANA names such as Asia/Bangkok, and UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
