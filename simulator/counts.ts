/** What the simulator sent, per barn and kind: its log line and the API's answer (the CLI prints it). */
import type { PhotoCase } from './images';
import { brokenKinds, type BrokenKind } from './plan';

export interface BarnCounts {
  readings: number;
  /** Reading slots a sensor skipped (nothing sent). */
  dropouts: number;
  /** Broken readings sent, by the reason the farm server records for them. */
  broken: Record<string, number>;
  /** Weighing sessions the station ran to the end (created, readings, photos, finalized). */
  sessions: number;
  /** Of those, what stood on the scale: one animal, one half on, two at once. */
  sessionCases: Record<PhotoCase, number>;
  /** Scale readings published in those sessions. */
  weightReadings: number;
  images: number;
  feed: number;
  mortality: number;
  /** Messages or sessions that could not be sent (each logged with its reason). */
  failures: number;
}

export type SimulationCounts = Record<string, BarnCounts>;

export function emptyBarnCounts(): BarnCounts {
  return {
    readings: 0,
    dropouts: 0,
    broken: {},
    sessions: 0,
    sessionCases: { normal: 0, half_on: 0, two_animals: 0 },
    weightReadings: 0,
    images: 0,
    feed: 0,
    mortality: 0,
    failures: 0,
  };
}

export function countBroken(c: BarnCounts, kind: BrokenKind): void {
  const reason = brokenKinds[kind];
  c.broken[reason] = (c.broken[reason] ?? 0) + 1;
}

export function totalBroken(c: BarnCounts): number {
  return Object.values(c.broken).reduce((a, b) => a + b, 0);
}
