/**
 * Where the played history ends and the live run begins, kept beside the farm state (mode 0600)
 * so the two meet with no hole and no overlap: `make up` starts the live run first and plays the
 * history after, so the history plays up to the moment the live run took over; a live run started
 * after a backfill continues from the backfill's end. Both windows are half-open ([from, to)), so
 * a time is played by one of them only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const handoverSchema = z.object({
  tenant_id: z.string(),
  farm_id: z.string(),
  /** When the latest live run took over (its first window starts here). */
  live_since: z.iso.datetime().optional(),
  /** Where the latest backfill ended (exclusive). */
  backfill_until: z.iso.datetime().optional(),
});

export type Handover = z.infer<typeof handoverSchema>;

/** A live run continues from a backfill's end only this close behind it; an older gap was the farm being off. */
export const liveCatchUpSeconds = 3600;

export const handoverFileFor = (stateFile: string) => path.join(path.dirname(stateFile), 'handover.json');

/** The handover of this farm, if one was written (another farm's, or an unreadable file, counts as none). */
export function readHandover(file: string, farm: { tenant_id: string; farm_id: string }): Handover | undefined {
  if (!fs.existsSync(file)) return undefined;
  let parsed;
  try {
    parsed = handoverSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
  if (!parsed.success || parsed.data.tenant_id !== farm.tenant_id || parsed.data.farm_id !== farm.farm_id) return undefined;
  return parsed.data;
}

/** Merges `change` into the farm's handover; written to a temporary file and renamed. */
export function writeHandover(file: string, farm: { tenant_id: string; farm_id: string }, change: Pick<Handover, 'live_since' | 'backfill_until'>): void {
  const next: Handover = { ...(readHandover(file, farm) ?? {}), tenant_id: farm.tenant_id, farm_id: farm.farm_id, ...change };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(next)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Where a backfill ends when not told: the live run's start, else now. */
export function backfillEnd(h: Handover | undefined, now: Date): Date {
  return h?.live_since ? new Date(h.live_since) : now;
}

/**
 * Where a live run starts: the end of a backfill played after the last live run started and at
 * most liveCatchUpSeconds ago (the run catches up the few minutes between), else now.
 */
export function liveStart(h: Handover | undefined, now: Date): Date {
  if (!h?.backfill_until) return now;
  const until = Date.parse(h.backfill_until);
  if (h.live_since && Date.parse(h.live_since) >= until) return now;
  return until <= now.getTime() && now.getTime() - until <= liveCatchUpSeconds * 1000 ? new Date(until) : now;
}
