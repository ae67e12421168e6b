/**
 * One entry for every benchmark:  npm run bench -- <name> [options]
 * Benchmarks need the local services (`make services`); they create their own databases/brokers.
 */
import { Command } from 'commander';
import { settings } from '../config/settings';
import { benchAlarms } from './alarms';
import { benchDashboard } from './dashboard';
import { benchHostile } from './hostile';
import { benchIngest } from './ingest';
import { benchInsights } from './insights';
import { benchSync } from './sync';
import { benchWeighVision } from './weighvision';

const program = new Command().name('bench');

/** `--env KEY=VALUE` options as settings: the value is everything after the first `=`. */
function envPairs(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

program
  .command('alarms')
  .description(
    'alarms: reading commit → alarm raised p50/p95 under a steady reading stream, the edge worker with 1,000 alarms open, the downlink round trip; against an empty workflow start',
  )
  .option('--rate <n>', 'steady readings per second', Number, 2000)
  .option('--seconds <n>', 'how long the steady stream runs (two over-limit readings per second meanwhile)', Number, 40)
  .option('--open-alarms <n>', 'alarms opened at once', Number, 1000)
  .option('--hold-seconds <n>', 'how long the open alarms are held while the worker is watched', Number, 60)
  .option('--round-trips <n>', 'acknowledgements sent through the downlink, one at a time', Number, 40)
  .action(async (o: { rate: number; seconds: number; openAlarms: number; holdSeconds: number; roundTrips: number }) => {
    await benchAlarms(o);
  });

program
  .command('ingest')
  .description('edge ingest: raw MQTT, raw Postgres and end-to-end bridge rates, latency and ratio')
  .option('--count <n>', 'messages per measurement', Number, 50_000)
  .option('--rounds <n>', 'rounds (medians are reported)', Number, 3)
  .action(async (o: { count: number; rounds: number }) => {
    await benchIngest({ count: o.count, rounds: o.rounds, databaseUrl: settings().EDGE_DATABASE_URL });
  });

program
  .command('hostile')
  .description(
    'hostile soak: a steady valid stream through the real broker and bridge while one device sends every kind of hostile message; losses, unrecorded rejects, latency against the same stream alone',
  )
  .option('--rate <n>', 'valid readings per second', Number, 2000)
  .option('--soak-seconds <n>', 'how long the soak runs', Number, 60)
  .option('--baseline-seconds <n>', 'how long the valid stream runs alone first (the latency floor)', Number, 20)
  .option('--hostile <n>', 'hostile messages sent during the soak', Number, 12_000)
  .action(async (o: { rate: number; soakSeconds: number; baselineSeconds: number; hostile: number }) => {
    await benchHostile({
      databaseUrl: settings().EDGE_DATABASE_URL,
      rate: o.rate,
      soakSeconds: o.soakSeconds,
      baselineSeconds: o.baselineSeconds,
      hostileCount: o.hostile,
    });
  });

program
  .command('insights')
  .description('insight generation: 90-day aggregation alone, and insights/generate end to end (HTTP + Temporal), p50/p95')
  .option('--runs <n>', 'end-to-end requests measured', Number, 40)
  .option('--aggregation-runs <n>', 'aggregation runs measured', Number, 30)
  .option('--floor-runs <n>', 'no-work floor requests measured', Number, 20)
  .option('--reseed', 'rebuild the bench database even if a matching seed exists', false)
  .option('--no-minute-rollups', 'seed only the 1h rollups (faster; the aggregation reads only those)')
  .action(async (o: { runs: number; aggregationRuns: number; floorRuns: number; reseed: boolean; minuteRollups: boolean }) => {
    await benchInsights(o);
  });

program
  .command('sync')
  .description('edge→cloud sync: drain an edge outbox backlog into cloud telemetry_raw through every real process; events/s vs raw Postgres insert rate')
  .option('--events <n>', 'outbox events in the backlog', Number, 200_000)
  .option('--tenants <n>', 'tenants the events are spread over', Number, 4)
  .option('--batch-size <n>', 'SYNC_BATCH_SIZE of the edge worker (default: its own default)')
  .option('--in-flight <n>', 'SYNC_MAX_IN_FLIGHT of the edge worker (default: its own default)')
  .option('--env <KEY=VALUE...>', 'more settings for every process of the run (e.g. CLOUD_RELAY_CONCURRENCY=4)', [])
  .option('--timeout <s>', 'give up after this many seconds of draining', Number, 900)
  .action(async (o: { events: number; tenants: number; batchSize?: string; inFlight?: string; env: string[]; timeout: number }) => {
    const extra = envPairs(o.env);
    const edgeEnv: Record<string, string> = { ...extra };
    if (o.batchSize) edgeEnv.SYNC_BATCH_SIZE = o.batchSize;
    if (o.inFlight) edgeEnv.SYNC_MAX_IN_FLIGHT = o.inFlight;
    await benchSync({ events: o.events, tenants: o.tenants, edgeEnv, cloudEnv: extra, consumersEnv: extra, timeoutSeconds: o.timeout });
  });

program
  .command('dashboard')
  .description(
    "dashboard: the demo farm with its history through `make up`; p50/p95 of the barn page's API calls and a 42-day climate series against an empty authenticated route, the page's time to a drawn chart in headless Chromium, the compressed script bundle",
  )
  .option('--runs <n>', 'measured rounds of every API call', Number, 100)
  .option('--warmup <n>', 'rounds before those, not counted', Number, 10)
  .option('--loads <n>', 'cold page loads in headless Chromium (one more first, not counted)', Number, 20)
  .option('--history-days <n>', 'FARMIQ_DEMO_HISTORY_DAYS of the demo stack', Number, 90)
  .option('--catch-up-timeout <s>', 'give up when the cloud has not caught up with the farm server after this many seconds', Number, 900)
  .action(async (o: { runs: number; warmup: number; loads: number; historyDays: number; catchUpTimeout: number }) => {
    await benchDashboard(o);
  });

program
  .command('weighvision')
  .description(
    'WeighVision: sessions/s with 3 images each through every real edge process, finalize→final row p50/p95, ms per image, and the Temporal engine limit in the same run',
  )
  .option('--sessions <n>', 'sessions measured (whole flow and engine limit each)', Number, 300)
  .option('--stations <n>', "simulated stations weighing at once (also the engine limit's concurrency)", Number, 6)
  .option('--inference-runs <n>', 'sequential model runs timed for the per-image figure', Number, 300)
  .option('--poll-ms <n>', 'how often the session rows are polled (latency is taken from their updated_at)', Number, 20)
  .option('--env <KEY=VALUE...>', 'more settings for the spawned edge worker, bridge and edge HTTP (e.g. BRIDGE_COMMIT_CONCURRENCY=1)', [])
  .option('--timeout <s>', 'give up this many seconds after the last session was sent', Number, 300)
  .action(async (o: { sessions: number; stations: number; inferenceRuns: number; pollMs: number; env: string[]; timeout: number }) => {
    const env = envPairs(o.env);
    await benchWeighVision({ sessions: o.sessions, stations: o.stations, inferenceRuns: o.inferenceRuns, pollMs: o.pollMs, env, timeoutSeconds: o.timeout });
  });

program.parseAsync().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
