/**
 * One entry for every benchmark:  npm run bench -- <name> [options]
 * Benchmarks need the local services (`make services`); they create their own databases/brokers.
 */
import { Command } from 'commander';
import { settings } from '../config/settings';
import { benchIngest } from './ingest';

const program = new Command().name('bench');

program
  .command('ingest')
  .description('edge ingest: raw MQTT, raw Postgres and end-to-end bridge rates, latency and ratio')
  .option('--count <n>', 'messages per measurement', Number, 50_000)
  .option('--rounds <n>', 'rounds (medians are reported)', Number, 3)
  .action(async (o: { count: number; rounds: number }) => {
    await benchIngest({ count: o.count, rounds: o.rounds, databaseUrl: settings().EDGE_DATABASE_URL });
  });

program.parseAsync().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
