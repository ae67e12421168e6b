/**
 * The device simulator: plays the actions of a window (plan.ts) through the farm server exactly
 * as the devices would — telemetry, feed and mortality over MQTT with each device's credentials,
 * weighing sessions through the station client — and counts what it sent per barn and kind.
 *
 *   run()       the farm live: every tick, the actions due since the last tick, on the live cadence,
 *               with the description's climate excursions and those of the excursions file
 *               (excursions.ts, re-read when it changes, so `excursion add` needs no restart)
 *   backfill()  N past days on the backfill cadence, as fast as the farm server takes them, up to
 *               the moment the live run took over (handover.ts); the event ids derive from
 *               farm/barn/device/time, so playing the same days again adds nothing
 */
import type { Logger } from '../platform/logger';
import { pause } from '../platform/backoff';
import { countBroken, emptyBarnCounts, type SimulationCounts } from './counts';
import { DeviceLinks } from './device-links';
import { declaredExcursions, ExcursionsWatcher } from './excursions';
import type { FarmState } from './farm-state';
import { backfillEnd, handoverFileFor, liveStart, readHandover, writeHandover } from './handover';
import { messageOf } from './messages';
import { planWindow, type Action } from './plan';
import { StationClient } from './station';

export interface SimulatorOptions {
  state: FarmState;
  seed: number;
  mqttUrl: string;
  /** The edge's station listener (media uploads), e.g. http://127.0.0.1:8081. */
  stationHttpBase: string;
  log: Logger;
  /** Sessions played at once (each is a workflow and a few inferences on the farm server). */
  sessionConcurrency?: number;
  /** Device messages awaiting their PUBACK at once. */
  publishWindow?: number;
  /** The excursions file a live run follows (excursionsFileFor(stateFile)); none: only the description's. */
  excursionsFile?: string;
  /**
   * Where the history and the live run meet (handoverFileFor(stateFile)); default beside the
   * excursions file, where a provisioned farm's run-time files live; none: no handover kept.
   */
  handoverFile?: string;
}

export interface Progress {
  done: number;
  total: number;
}

export interface BackfillOptions {
  days: number;
  /**
   * The end of the window (exclusive); default the moment the live run took over (so no hole
   * and no overlap between the two, and re-runs are identical), else now.
   */
  until?: Date;
  onProgress?: (p: Progress) => void;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Stop at this time (default: until the signal). */
  until?: Date;
  tickMs?: number;
}

export function startOfUtcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

export class Simulator {
  private readonly links: DeviceLinks;
  private readonly station: StationClient;
  /** Everything sent since the simulator started. */
  readonly totals: SimulationCounts;
  lastError?: { at: Date; message: string };

  constructor(private readonly opts: SimulatorOptions) {
    this.links = new DeviceLinks(opts.mqttUrl, opts.state);
    this.station = new StationClient(this.links, opts.state, opts.stationHttpBase, opts.seed);
    this.totals = this.emptyCounts();
  }

  private emptyCounts(): SimulationCounts {
    return Object.fromEntries(this.opts.state.farm.barns.map((b) => [b.barn_id, emptyBarnCounts()]));
  }

  /** Plays the actions; counts into `counts` and the totals (failures too: it does not throw). Sessions run beside the device messages. */
  async play(actions: Action[], counts: SimulationCounts = this.emptyCounts(), onProgress?: (p: Progress) => void): Promise<SimulationCounts> {
    const total = actions.length;
    let done = 0;
    const tick = () => {
      done++;
      if (onProgress && (done % 50 === 0 || done === total)) onProgress({ done, total });
    };
    const both = (barnId: string, f: (c: SimulationCounts[string]) => void) => {
      f(counts[barnId]);
      if (counts !== this.totals) f(this.totals[barnId]);
    };
    const sessions = actions.filter((a): a is Extract<Action, { kind: 'session' }> => a.kind === 'session');
    const sessionWork = this.runPool(
      sessions,
      this.opts.sessionConcurrency ?? 3,
      async (a) => {
        const images = await this.station.weigh(a);
        if (images !== 'closed') {
          both(a.barnId, (c) => {
            c.sessions++;
            c.sessionCases[a.weighing.photoCase]++;
            c.weightReadings += a.weighing.readings.length;
            c.images += images;
          });
        }
      },
      counts,
      tick,
    );
    const others = actions.filter((a): a is Exclude<Action, { kind: 'session' }> => a.kind !== 'session');
    const messageWork = this.runPool(
      others,
      this.opts.publishWindow ?? 200,
      async (a) => {
        if (a.kind === 'dropout') {
          both(a.barnId, (c) => c.dropouts++);
        } else {
          const m = messageOf(this.opts.state.farm, a);
          await this.links.publish(a.barnId, a.deviceId, m.topic, m.body);
          both(a.barnId, (c) => {
            if (a.kind === 'reading') c.readings++;
            else if (a.kind === 'broken') countBroken(c, a.broken);
            else if (a.kind === 'feed') c.feed++;
            else c.mortality++;
          });
        }
      },
      counts,
      tick,
    );
    await Promise.all([sessionWork, messageWork]);
    return counts;
  }

  /** Runs `work` over the items in order, at most `width` at a time; a failed item is counted and logged, the rest go on. */
  private async runPool<T extends Action>(
    items: T[],
    width: number,
    work: (item: T) => Promise<void>,
    counts: SimulationCounts,
    done: () => void,
  ): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await work(item);
        } catch (err) {
          const message = (err as Error).message;
          this.lastError = { at: new Date(), message };
          counts[item.barnId].failures++;
          if (counts !== this.totals) this.totals[item.barnId].failures++;
          this.opts.log.warn(
            { barn: item.barnId, device: item.deviceId, kind: item.kind, at: item.at.toISOString(), err: message },
            'a simulated device could not send',
          );
        } finally {
          done();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  }

  /** N past days of the farm on the backfill cadence; returns what this backfill sent. */
  async backfill(o: BackfillOptions): Promise<SimulationCounts> {
    const handover = this.handoverFile();
    const until = o.until ?? backfillEnd(handover ? readHandover(handover, this.opts.state.farm) : undefined, new Date());
    const from = new Date(until.getTime() - o.days * 86_400_000);
    const actions = planWindow(this.opts.state, this.opts.seed, this.opts.state.farm.backfill, from, until);
    this.opts.log.info({ from: from.toISOString(), until: until.toISOString(), actions: actions.length }, 'backfill starting');
    const counts = await this.play(actions, this.emptyCounts(), o.onProgress);
    this.opts.log.info({ from: from.toISOString(), until: until.toISOString(), counts }, 'backfill sent');
    if (handover) writeHandover(handover, this.opts.state.farm, { backfill_until: until.toISOString() });
    return counts;
  }

  /** The farm live until `until` or the signal; returns what this run sent. */
  async run(o: RunOptions = {}): Promise<SimulationCounts> {
    const counts = this.emptyCounts();
    const handover = this.handoverFile();
    let cursor = liveStart(handover ? readHandover(handover, this.opts.state.farm) : undefined, new Date());
    // Written before the first await: once run() was called, a backfill ends where this run begins.
    if (handover) writeHandover(handover, this.opts.state.farm, { live_since: cursor.toISOString() });
    const declared = declaredExcursions(this.opts.state.farm.excursions, cursor);
    const added = this.opts.excursionsFile ? new ExcursionsWatcher(this.opts.excursionsFile, this.opts.log) : undefined;
    const inFlight = new Set<Promise<unknown>>();
    for (;;) {
      // The file is looked at before the clock is read: an excursion added before this tick's `now` is in it.
      const excursions = [...declared, ...(added?.current() ?? [])];
      const now = new Date();
      const to = o.until && o.until < now ? o.until : now;
      const actions = planWindow(this.opts.state, this.opts.seed, this.opts.state.farm.live, cursor, to, excursions);
      cursor = to;
      if (actions.length > 0) {
        // A slow session must not hold the clock: each tick's work runs beside the next tick's.
        const p = this.play(actions, counts);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if ((o.until && to >= o.until) || o.signal?.aborted) break;
      const wait = Math.min(o.tickMs ?? 1000, o.until ? Math.max(0, o.until.getTime() - Date.now()) : Infinity);
      if (!(await pause(wait, o.signal)) && o.signal?.aborted) break;
    }
    await Promise.all([...inFlight]);
    this.opts.log.info({ counts }, 'simulation run sent');
    return counts;
  }

  private handoverFile(): string | undefined {
    return this.opts.handoverFile ?? (this.opts.excursionsFile ? handoverFileFor(this.opts.excursionsFile) : undefined);
  }

  healthy(): boolean {
    return this.links.connected();
  }

  async close(): Promise<void> {
    await this.links.close();
  }
}
