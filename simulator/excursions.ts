/**
 * The excursions file (docs/simulator.md "Climate excursions"): climate excursions added while a
 * live simulator runs (`farmiq simulator excursion add|list|clear`), kept next to the state file.
 * Written whole to a temporary file and renamed, so the running simulator never reads half of
 * it; the simulator looks at the file's identity (inode, mtime, size) on each tick and reads it
 * again only when it changed. A file that does not parse is reported once and ignored: the farm
 * plays on normally, it never stops the simulator.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../platform/logger';
import { checkExcursion, excursionFields, type DeclaredExcursion } from './farm-description';
import type { Excursion } from './models/excursion';

const entry = z
  .object({
    id: z.string().regex(/^[a-z0-9-]{1,40}$/),
    ...excursionFields,
    starts_at: z.iso.datetime({ offset: true }),
    ends_at: z.iso.datetime({ offset: true }),
    created_at: z.iso.datetime({ offset: true }),
  })
  .strict()
  .superRefine(checkExcursion)
  .refine((e) => Date.parse(e.ends_at) > Date.parse(e.starts_at), { message: 'ends_at must be after starts_at', path: ['ends_at'] });

const fileSchema = z.object({ excursions: z.array(entry).max(1000) }).strict();

export type ExcursionEntry = z.infer<typeof entry>;

/** What `add` takes: the excursion without its id and times, starting now (or `startsAt`). */
export type NewExcursion = Omit<DeclaredExcursion, 'starts_after_s'> & { startsAt?: Date };

/** Where a live simulator with this state file looks for excursions. */
export const excursionsFileFor = (stateFile: string) => path.join(path.dirname(stateFile), 'excursions.json');

/** The excursion the model plays. */
export function toExcursion(e: Omit<DeclaredExcursion, 'starts_after_s'>, startMs: number): Excursion {
  const window = { barnId: e.barn_id, startMs, endMs: startMs + Math.round(e.minutes * 60_000) };
  if (e.sensor_silent) return { ...window, kind: 'sensor_silent' };
  return { ...window, kind: 'shift', metric: e.metric!, rampSeconds: e.ramp_seconds ?? 0, change: e.add !== undefined ? { add: e.add } : { to: e.to! } };
}

/** A description's excursions, for a live run that started at `runStart`. */
export function declaredExcursions(declared: readonly DeclaredExcursion[], runStart: Date): Excursion[] {
  return declared.map((e) => toExcursion(e, runStart.getTime() + e.starts_after_s * 1000));
}

export const entryExcursion = (e: ExcursionEntry): Excursion => toExcursion(e, Date.parse(e.starts_at));

/** Reads the file; none when it is not there; throws, naming the file and the path, when it does not parse. */
export function readExcursions(file: string): ExcursionEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`excursions file ${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) throw new Error(`excursions file ${file} is not valid: ${r.error.issues.map((i) => `${i.path.join('.') || '$'}: ${i.message}`).join('; ')}`);
  return r.data.excursions;
}

/** Writes the whole file: a temporary file beside it, then a rename. */
export function writeExcursions(file: string, excursions: readonly ExcursionEntry[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ excursions }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export type ExcursionStatus = 'waiting' | 'active' | 'ended';

export function excursionStatus(e: ExcursionEntry, now = new Date()): ExcursionStatus {
  const t = now.getTime();
  return t < Date.parse(e.starts_at) ? 'waiting' : t < Date.parse(e.ends_at) ? 'active' : 'ended';
}

/**
 * Adds an excursion and drops those that have ended (a file that does not parse is replaced, its
 * excursions were being ignored anyway: the caller is told by `replacedBroken`).
 */
export function addExcursion(file: string, input: NewExcursion, now = new Date()): { excursion: ExcursionEntry; replacedBroken?: string } {
  let current: ExcursionEntry[];
  let replacedBroken: string | undefined;
  try {
    current = readExcursions(file);
  } catch (err) {
    current = [];
    replacedBroken = (err as Error).message;
  }
  const { startsAt, ...spec } = input;
  const start = startsAt ?? now;
  const excursion = entry.parse({
    ...spec,
    id: `exc-${randomBytes(3).toString('hex')}`,
    starts_at: start.toISOString(),
    ends_at: new Date(start.getTime() + Math.round(spec.minutes * 60_000)).toISOString(),
    created_at: now.toISOString(),
  });
  writeExcursions(file, [...current.filter((e) => excursionStatus(e, now) !== 'ended'), excursion]);
  return { excursion, ...(replacedBroken ? { replacedBroken } : {}) };
}

/**
 * Removes every excursion, or those of one barn, or the one with this id; returns the ones removed.
 * Clearing everything also replaces a file that does not parse (`replacedBroken` says what it was).
 */
export function clearExcursions(file: string, which: { barnId?: string; id?: string } = {}): { removed: ExcursionEntry[]; replacedBroken?: string } {
  let current: ExcursionEntry[];
  try {
    current = readExcursions(file);
  } catch (err) {
    if (which.barnId !== undefined || which.id !== undefined) throw err;
    writeExcursions(file, []);
    return { removed: [], replacedBroken: (err as Error).message };
  }
  const goes = (e: ExcursionEntry) => (which.barnId === undefined || e.barn_id === which.barnId) && (which.id === undefined || e.id === which.id);
  const removed = current.filter(goes);
  if (removed.length > 0)
    writeExcursions(
      file,
      current.filter((e) => !goes(e)),
    );
  return { removed };
}

/**
 * The running simulator's view of the file: `current()` on each tick costs one stat; the file is
 * parsed again only when it was replaced or changed.
 */
export class ExcursionsWatcher {
  private identity = '';
  private excursions: Excursion[] = [];

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  current(): Excursion[] {
    let identity: string;
    try {
      const st = fs.statSync(this.file);
      identity = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      identity = 'absent';
    }
    if (identity === this.identity) return this.excursions;
    this.identity = identity;
    try {
      const entries = identity === 'absent' ? [] : readExcursions(this.file);
      this.excursions = entries.map(entryExcursion);
      if (entries.length > 0) this.log.info({ file: this.file, excursions: entries.map((e) => e.id) }, 'excursions file read');
    } catch (err) {
      this.excursions = [];
      this.log.warn({ file: this.file, err: (err as Error).message }, 'excursions file ignored');
    }
    return this.excursions;
  }
}
