/**
 * `farmiq simulator`: the device simulator (docs/simulator.md) from the command line — provision a
 * farm description on this farm server, play N past days of it, or run it live in the foreground.
 * The long-running process `make up` starts for the demo is simulator/main.ts.
 */
import type { Command } from 'commander';
import pino from 'pino';
import type { Settings } from '../../config/settings';
import {
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
  return new Simulator({ state, seed: sim.seed, mqttUrl: sim.mqttUrl, stationHttpBase: sim.stationUrl, log });
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
}

export const group: CommandGroup = { name: 'simulator', register };
