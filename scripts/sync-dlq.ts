/**
 * Dead sync events from the command line, straight against the edge database (works with the
 * edge HTTP gateway and Temporal both down):
 *
 *   npx tsx scripts/sync-dlq.ts list [--status dlq|failed] [--limit 50] [--before <id>] [--json]
 *   npx tsx scripts/sync-dlq.ts show <id>
 *   npx tsx scripts/sync-dlq.ts requeue <id...>
 *   npx tsx scripts/sync-dlq.ts requeue --all --status dlq
 *
 * `dlq` rows failed their 10 attempts (last error kept); `failed` rows were rejected by the cloud
 * (reason kept). Requeue puts rows back to pending with a fresh budget of attempts; it is
 * idempotent. The database is EDGE_DATABASE_URL (or --url).
 *
 * It calls no HTTP route, so it needs no operator token: whoever can read the farm server's config
 * (the database password) is already more than an operator. The same actions over HTTP are on the
 * operator listener (EDGE_HTTP_HOST:EDGE_HTTP_PORT) with `Authorization: Bearer <operator token>`
 * (scripts/operator-credentials.ts add).
 */
import os from 'node:os';
import { Command, Option } from 'commander';
import type { Pool } from 'pg';
import { settings } from '../config/settings';
import { createPool } from '../db/pool';
import { getRow, listDead, requeueAllDead, requeueDead, type DeadStatus } from '../sync/outbox';

const statusOption = () => new Option('--status <status>', 'dlq (attempts spent) or failed (rejected by the cloud)').choices(['dlq', 'failed']).default('dlq');
const idPattern = /^[1-9][0-9]{0,18}$/;

async function withPool<T>(url: string | undefined, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url ?? settings().EDGE_DATABASE_URL, { applicationName: 'farmiq-sync-dlq', max: 2 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

function oneLine(text: string | null, max = 100): string {
  const t = (text ?? '').replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function program(out: (line: string) => void = console.log): Command {
  const cli = new Command()
    .name('sync-dlq')
    .description('List, inspect and requeue dead edge→cloud sync events (sync_outbox rows in dlq or failed).')
    .option('--url <url>', 'edge database URL (default: EDGE_DATABASE_URL)');
  const url = () => cli.opts<{ url?: string }>().url;

  cli
    .command('list')
    .description('dead events, newest first')
    .addOption(statusOption())
    .option('--limit <n>', 'rows to show (1-500)', '50')
    .option('--before <id>', 'only rows with a smaller id (the next page)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { status: DeadStatus; limit: string; before?: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new Error('--limit must be 1-500');
      if (opts.before && !idPattern.test(opts.before)) throw new Error('--before must be an outbox row id');
      const rows = await withPool(url(), (pool) => listDead(pool, { status: opts.status, limit, before: opts.before }));
      if (opts.json) {
        for (const r of rows) out(JSON.stringify(r));
        return;
      }
      if (rows.length === 0) {
        out(`no ${opts.status} events`);
        return;
      }
      out(['id', 'event_type', 'attempts', 'created_at', 'last_error'].join('\t'));
      for (const r of rows) out([r.id, r.event_type, r.attempt_count, r.created_at.toISOString(), oneLine(r.last_error)].join('\t'));
      if (rows.length === limit) out(`… more with --before ${rows[rows.length - 1].id}`);
    });

  cli
    .command('show')
    .description('one outbox row with its envelope, last error and attempts')
    .argument('<id>', 'outbox row id')
    .action(async (id: string) => {
      if (!idPattern.test(id)) throw new Error(`${id} is not an outbox row id`);
      const row = await withPool(url(), (pool) => getRow(pool, id));
      if (!row) throw new Error(`no outbox row ${id}`);
      out(JSON.stringify(row, null, 2));
    });

  cli
    .command('requeue')
    .description('back to pending with a fresh budget of attempts (idempotent)')
    .argument('[ids...]', 'outbox row ids')
    .option('--all', 'every row of --status')
    .addOption(statusOption())
    .action(async (ids: string[], opts: { all?: boolean; status: DeadStatus }) => {
      const note = `requeued ${new Date().toISOString()} by ${os.userInfo().username}@${os.hostname()} (sync-dlq)`;
      if (opts.all) {
        if (ids.length > 0) throw new Error('give ids or --all, not both');
        const n = await withPool(url(), (pool) => requeueAllDead(pool, opts.status, note));
        out(`requeued ${n} ${opts.status} events`);
        return;
      }
      if (ids.length === 0) throw new Error('give the ids to requeue, or --all --status dlq|failed');
      const bad = ids.find((id) => !idPattern.test(id));
      if (bad) throw new Error(`${bad} is not an outbox row id`);
      const r = await withPool(url(), (pool) => requeueDead(pool, [...new Set(ids)], note));
      for (const x of r.requeued) out(`requeued  ${x.id} (was ${x.from})`);
      for (const x of r.unchanged) out(`unchanged ${x.id} (is ${x.status}, not dead)`);
      for (const id of r.notFound) out(`not found ${id}`);
    });

  return cli;
}

if (require.main === module) {
  program()
    .parseAsync()
    .catch((err: Error) => {
      console.error(`sync-dlq: ${err.message}`);
      process.exit(1);
    });
}
