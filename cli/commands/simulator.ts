/**
 * `farmiq simulator`: the device simulator (docs/simulator.md) from the command line — provision a
 * farm description on this farm server, play N past days of it, run it live in the foreground, or
 * push a barn out of its normal climate while a live run goes on (`excursion add|list|clear`).
 * The long-running process `make up` starts for the demo is simulator/main.ts.
 */
import type { Command } from 'commander';
import pino from 'pino';
import type { Settings } from '../../config/settings';
import { climateMetrics, isClimateMetric } from '../../domain/climate/metrics';
import {
  addExcursion,
  clearExcursions,
  excursionsFileFor,
  excursionStatus,
  readExcursions,
  type ExcursionEntry,
  FarmNotProvisioned,
  loadFarmDescription,
  provisionConfiguredFarm,
  provisionedState,
  simulatorSettings,
  Simulator,
  type SimulationCounts,
} from '../../simulator';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput, notFound } from '../errors';
import { table } from '../output';

/** The simulator for the provisioned state; its log (warnings only) goes to stderr, never into --json. */
export function provisionedSimulator(s: Settings): Simulator {
  const sim = simulatorSettings(s);
  let state;
  try {
    state = provisionedState(loadFarmDescription(sim.farmFile), sim.stateFile);
  } catch (err) {
    throw err instanceof FarmNotProvisioned ? notFound(err.message) : err;
  }
  const log = pino({ level: 'warn', base: { component: 'simulator' } }, pino.destination(2));
  return new Simulator({ state, seed: sim.seed, mqttUrl: sim.mqttUrl, stationHttpBase: sim.stationUrl, log, excursionsFile: excursionsFileFor(sim.stateFile) });
}

/** One row per barn of what was sent. */
export function countRows(counts: SimulationCounts) {
  return Object.entries(counts).map(([barn, c]) => ({
    barn,
    readings: c.readings,
    broken: Object.values(c.broken).reduce((a, b) => a + b, 0),
    sessions: c.sessions,
    images: c.images,
    feed: c.feed,
    mortality: c.mortality,
    failures: c.failures,
  }));
}

/** Plays `days` past days with a progress bar (stderr, terminals only). */
export async function backfill(ctx: CliContext, days: number): Promise<SimulationCounts> {
  const simulator = provisionedSimulator(ctx.settings());
  let bar: ReturnType<CliContext['progress']> | undefined;
  let shown = 0;
  try {
    return await simulator.backfill({
      days,
      onProgress: ({ done, total }) => {
        bar ??= ctx.progress(`backfill ${days} days`, total);
        bar.tick(done - shown);
        shown = done;
      },
    });
  } finally {
    bar?.stop();
    await simulator.close();
  }
}

export function parseDays(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 365) throw invalidInput(`--days must be a whole number of days from 1 to 365, got ${JSON.stringify(value)}`);
  return n;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`--seconds must be a whole number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

export interface ExcursionAddOptions {
  barn: string;
  metric?: string;
  add?: number;
  to?: number;
  sensorSilent?: boolean;
  minutes: number;
  rampSeconds?: number;
  startsInSeconds?: number;
}

/**
 * Adds an excursion to the excursions file next to the simulator's state file, for a barn of the
 * farm description; a live simulator on that state file plays it from its next tick.
 */
export function excursionAdd(s: Settings, o: ExcursionAddOptions, now = new Date()): { excursion: ExcursionEntry; file: string; replacedBroken?: string } {
  const sim = simulatorSettings(s);
  const farm = loadFarmDescription(sim.farmFile);
  if (!farm.barns.some((b) => b.barn_id === o.barn)) {
    throw invalidInput(`no barn ${o.barn} in the farm description ${sim.farmFile} (barns: ${farm.barns.map((b) => b.barn_id).join(', ')})`);
  }
  if (o.sensorSilent && o.metric !== undefined) throw invalidInput('give --metric or --sensor-silent, not both');
  if (!o.sensorSilent && o.metric === undefined) throw invalidInput('give --metric temperature|humidity|co2|nh3 (with --add or --to), or --sensor-silent');
  if (o.metric !== undefined && !isClimateMetric(o.metric))
    throw invalidInput(`--metric must be one of ${climateMetrics.join(', ')}, got ${JSON.stringify(o.metric)}`);
  if (!o.sensorSilent && (o.add === undefined) === (o.to === undefined)) throw invalidInput('give exactly one of --add and --to');
  if (o.sensorSilent && (o.add !== undefined || o.to !== undefined || o.rampSeconds !== undefined))
    throw invalidInput('--sensor-silent takes no --add, --to or --ramp-seconds');
  const file = excursionsFileFor(sim.stateFile);
  const r = addExcursion(
    file,
    {
      barn_id: o.barn,
      minutes: o.minutes,
      ...(o.sensorSilent
        ? { sensor_silent: true as const }
        : { metric: o.metric, add: o.add, to: o.to, ...(o.rampSeconds !== undefined ? { ramp_seconds: o.rampSeconds } : {}) }),
      startsAt: new Date(now.getTime() + (o.startsInSeconds ?? 0) * 1000),
    },
    now,
  );
  return { ...r, file };
}

const stamp = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
}

/** What the excursion does, in words: `temperature +8`, `co2 to 4000`, `sensors silent`. */
export function excursionChange(e: ExcursionEntry): string {
  if (e.sensor_silent) return 'sensors silent';
  const change = e.add !== undefined ? `${e.add >= 0 ? '+' : ''}${e.add}` : `to ${e.to}`;
  return `${e.metric} ${change}${e.ramp_seconds ? ` (ramp ${span(e.ramp_seconds * 1000)})` : ''}`;
}

function statusText(e: ExcursionEntry, now: Date): string {
  const st = excursionStatus(e, now);
  if (st === 'waiting') return `waiting, starts in ${span(Date.parse(e.starts_at) - now.getTime())}`;
  if (st === 'active') return `active, ${span(Date.parse(e.ends_at) - now.getTime())} left`;
  return 'ended';
}

/** One row per excursion of the file, for a person. */
export function excursionRows(entries: readonly ExcursionEntry[], now = new Date()) {
  return entries.map((e) => ({
    id: e.id,
    barn: e.barn_id,
    change: excursionChange(e),
    from: stamp(e.starts_at),
    until: stamp(e.ends_at),
    status: statusText(e, now),
  }));
}

/** The file's excursions with their status now (the --json listing). */
export function excursionList(s: Settings, now = new Date()): (ExcursionEntry & { status: string })[] {
  const file = excursionsFileFor(simulatorSettings(s).stateFile);
  return readExcursions(file).map((e) => ({ ...e, status: excursionStatus(e, now) }));
}

function parseNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw invalidInput(`${flag} must be a number, got ${JSON.stringify(value)}`);
    return n;
  };
}

function parseWhole(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw invalidInput(`${flag} must be a whole number of seconds, got ${JSON.stringify(value)}`);
    return n;
  };
}

function registerExcursions(simulator: Command, ctx: CliContext): void {
  const excursion = simulator
    .command('excursion')
    .description('push a barn out of its normal climate while the live simulator runs (picked up without a restart)');

  excursion
    .command('add')
    .description(
      'move one metric of a barn (or silence its climate sensors) for N minutes, e.g. --barn barn-1 --metric temperature --add 8 --minutes 30 [--ramp-seconds 60], or --barn barn-1 --sensor-silent --minutes 10',
    )
    .requiredOption('--barn <id>', 'barn of the farm description')
    .option('--metric <metric>', 'temperature, humidity, co2 or nh3')
    .option('--add <n>', 'change the metric by this much (°C, %, ppm; negative lowers it)', parseNumber('--add'))
    .option('--to <n>', 'move the metric to this value', parseNumber('--to'))
    .option('--ramp-seconds <n>', 'reach the change over this many seconds (default at once)', parseWhole('--ramp-seconds'))
    .option('--sensor-silent', "the barn's climate sensors publish nothing")
    .requiredOption('--minutes <n>', 'how long it lasts', parseNumber('--minutes'))
    .option('--starts-in-seconds <n>', 'start later than now', parseWhole('--starts-in-seconds'))
    .action((o: ExcursionAddOptions) => {
      const r = excursionAdd(ctx.settings(), o);
      if (r.replacedBroken) ctx.out.note(`the excursions file did not parse and was replaced (${r.replacedBroken})`);
      ctx.out.data(
        { ...r.excursion, file: r.file },
        (x) =>
          `${x.id}: ${x.barn_id} ${excursionChange(x)} from ${stamp(x.starts_at)} until ${stamp(x.ends_at)}; a running live simulator plays it from its next tick`,
      );
    });

  excursion
    .command('list')
    .description('the excursions added, with their status')
    .action(() => {
      ctx.out.data(excursionList(ctx.settings()), (rows) => table(excursionRows(rows), '(no excursions)'));
    });

  excursion
    .command('clear')
    .description('remove the excursions (all, or of one barn, or one by id); the barn is back to normal from the next tick')
    .option('--barn <id>', 'only this barn')
    .option('--id <id>', 'only this excursion')
    .action((o: { barn?: string; id?: string }) => {
      const file = excursionsFileFor(simulatorSettings(ctx.settings()).stateFile);
      const r = clearExcursions(file, { barnId: o.barn, id: o.id });
      if (r.replacedBroken) ctx.out.note(`the excursions file did not parse and was replaced (${r.replacedBroken})`);
      if (o.id && r.removed.length === 0) throw notFound(`no excursion ${o.id}`);
      ctx.out.data({ removed: r.removed.map((e) => e.id) }, (x) => (x.removed.length ? `removed ${x.removed.join(', ')}` : 'no excursions to remove'));
    });
}

function register(program: Command, ctx: CliContext): void {
  const simulator = program.command('simulator').description('the device simulator: a farm description played through the real broker and station API');

  simulator
    .command('provision')
    .description("place the description's flocks and give each device its broker credentials (SIMULATOR_FARM_FILE, default demo/farm.json)")
    .action(async () => {
      const r = await ctx.edge((pool) => provisionConfiguredFarm(pool, ctx.settings()));
      const out = { farm_id: r.farm.farm_id, devices_provisioned: r.devicesProvisioned, flocks_placed: r.flocksPlaced, state_file: r.stateFile };
      ctx.out.data(out, (x) => `farm ${x.farm_id}: ${x.devices_provisioned} devices provisioned, ${x.flocks_placed} flocks placed (state ${x.state_file})`);
    });

  simulator
    .command('backfill')
    .description('play N past days of the farm, time-compressed, through the same path as live devices')
    .requiredOption('--days <n>', 'days before today (UTC) to play', parseDays)
    .action(async (o: { days: number }) => {
      const counts = await backfill(ctx, o.days);
      ctx.out.data(countRows(counts), (rows) => table(rows));
    });

  simulator
    .command('run')
    .description('play the farm live in the foreground until Ctrl-C (or --seconds)')
    .option('--seconds <n>', 'stop after this many seconds', parseSeconds)
    .action(async (o: { seconds?: number }) => {
      const sim = provisionedSimulator(ctx.settings());
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      try {
        const counts = await sim.run({ signal: stop.signal, until: o.seconds ? new Date(Date.now() + o.seconds * 1000) : undefined });
        ctx.out.data(countRows(counts), (rows) => table(rows));
      } finally {
        await sim.close();
      }
    });

  registerExcursions(simulator, ctx);
}

export const group: CommandGroup = { name: 'simulator', register };
