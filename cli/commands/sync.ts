/**
 * `farmiq sync`: the edge → cloud outbox straight from the edge database (works with the edge HTTP
 * gateway and Temporal both down; sync/outbox.ts is the only writer of sync_outbox).
 *
 * Dead events: `dlq` rows spent their attempts (last error kept), `failed` rows were rejected by
 * the cloud (reason kept). Requeue puts rows back to pending with a fresh budget of attempts; it is
 * idempotent. The same actions over HTTP are on the operator listener with an operator token.
 */
import os from 'node:os';
import { Option, type Command } from 'commander';
import { getRow, listDead, outboxFigures, requeueDead, type DeadStatus } from '../../sync/outbox';
import type { CliContext, CommandGroup } from '../context';
import { invalidInput, notFound } from '../errors';
import { table } from '../output';

const statusOption = () => new Option('--status <status>', 'dlq (attempts spent) or failed (rejected by the cloud)').choices(['dlq', 'failed']).default('dlq');
const idPattern = /^[1-9][0-9]{0,18}$/;
/** Rows per requeue statement of --all: small enough to hold few locks, big enough to be quick. */
export const requeueChunk = 500;

function oneLine(text: string | null, max = 100): string {
  const t = (text ?? '').replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function requeueNote(): string {
  return `requeued ${new Date().toISOString()} by ${os.userInfo().username}@${os.hostname()} (farmiq sync dlq)`;
}

function register(program: Command, ctx: CliContext): void {
  const sync = program.command('sync').description('edge → cloud sync: outbox status and dead events (edge database)');

  sync
    .command('status')
    .description('outbox rows by status, the oldest waiting event, the last dead one')
    .action(async () => {
      const s = ctx.settings();
      const f = await ctx.edge((pool) => outboxFigures(pool));
      const status = {
        edge_id: s.EDGE_ID,
        signing_key_configured: Boolean(s.EDGE_SIGNING_KEY_FILE),
        by_status: f.byStatus,
        oldest_pending: f.oldestPending && { id: f.oldestPending.id, created_at: f.oldestPending.createdAt, occurred_at: f.oldestPending.occurredAt },
        acked_last_minute: f.ackedLastMinute,
        last_acked_at: f.lastAckedAt,
        last_dead: f.lastDead && { id: f.lastDead.id, status: f.lastDead.status, event_type: f.lastDead.eventType, last_error: f.lastDead.lastError },
      };
      ctx.out.data(status, (x) =>
        [
          `edge ${x.edge_id}${x.signing_key_configured ? '' : ' (no EDGE_SIGNING_KEY_FILE: sync is not configured)'}`,
          `outbox: ${Object.entries(x.by_status)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `oldest waiting: ${x.oldest_pending ? `#${x.oldest_pending.id} from ${x.oldest_pending.created_at.toISOString()}` : 'none'}`,
          `acked in the last minute: ${x.acked_last_minute}; last ack ${x.last_acked_at?.toISOString() ?? 'never'}`,
          `last dead: ${x.last_dead ? `#${x.last_dead.id} ${x.last_dead.event_type} (${x.last_dead.status}): ${oneLine(x.last_dead.last_error)}` : 'none'}`,
        ].join('\n'),
      );
    });

  const dlq = sync.command('dlq').description('dead sync events: list, show, requeue');

  dlq
    .command('list')
    .description('dead events, newest first')
    .addOption(statusOption())
    .option('--limit <n>', 'rows to show (1-500)', '50')
    .option('--before <id>', 'only rows with a smaller id (the next page)')
    .action(async (o: { status: DeadStatus; limit: string; before?: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidInput('--limit must be 1-500');
      if (o.before && !idPattern.test(o.before)) throw invalidInput('--before must be an outbox row id');
      const rows = await ctx.edge((pool) => listDead(pool, { status: o.status, limit, before: o.before }));
      ctx.out.data(rows, (r) => {
        const text = table(
          r.map((x) => ({ id: x.id, event_type: x.event_type, attempts: x.attempt_count, created_at: x.created_at, last_error: oneLine(x.last_error) })),
          `no ${o.status} events`,
        );
        return r.length === limit ? `${text}\n… more with --before ${r[r.length - 1].id}` : text;
      });
    });

  dlq
    .command('show')
    .description('one outbox row with its envelope, last error and attempts')
    .argument('<id>', 'outbox row id')
    .action(async (id: string) => {
      if (!idPattern.test(id)) throw invalidInput(`${id} is not an outbox row id`);
      const row = await ctx.edge((pool) => getRow(pool, id));
      if (!row) throw notFound(`no outbox row ${id}`);
      ctx.out.data(row, (r) => JSON.stringify(r, null, 2));
    });

  dlq
    .command('requeue')
    .description('back to pending with a fresh budget of attempts (idempotent)')
    .argument('[ids...]', 'outbox row ids')
    .option('--all', 'every row of --status (with a progress bar)')
    .addOption(statusOption())
    .action(async (ids: string[], o: { all?: boolean; status: DeadStatus }) => {
      const note = requeueNote();
      if (o.all) {
        if (ids.length > 0) throw invalidInput('give ids or --all, not both');
        const requeued = await ctx.edge(async (pool) => {
          const total = (await outboxFigures(pool)).byStatus[o.status];
          const bar = ctx.progress(`requeue ${o.status}`, total);
          let n = 0;
          try {
            // Newest first, a chunk at a time: requeued rows leave the status, so the next listing is the next chunk.
            for (;;) {
              const chunk = await listDead(pool, { status: o.status, limit: requeueChunk });
              if (chunk.length === 0) break;
              const r = await requeueDead(
                pool,
                chunk.map((x) => x.id),
                note,
              );
              n += r.requeued.length;
              bar.tick(r.requeued.length);
              if (r.requeued.length === 0) break; // nothing moved: another process holds them
            }
          } finally {
            bar.stop();
          }
          return n;
        });
        ctx.out.data({ status: o.status, requeued }, (r) => `requeued ${r.requeued} ${r.status} events`);
        return;
      }
      if (ids.length === 0) throw invalidInput('give the ids to requeue, or --all [--status dlq|failed]');
      const bad = ids.find((id) => !idPattern.test(id));
      if (bad) throw invalidInput(`${bad} is not an outbox row id`);
      const r = await ctx.edge((pool) => requeueDead(pool, [...new Set(ids)], note));
      if (r.requeued.length === 0 && r.unchanged.length === 0) throw notFound(`no outbox row ${r.notFound.join(', ')}`);
      ctx.out.data({ requeued: r.requeued, unchanged: r.unchanged, not_found: r.notFound }, (x) =>
        [
          ...x.requeued.map((y) => `requeued  ${y.id} (was ${y.from})`),
          ...x.unchanged.map((y) => `unchanged ${y.id} (is ${y.status}, not dead)`),
          ...x.not_found.map((id) => `not found ${id}`),
        ].join('\n'),
      );
    });
}

export const group: CommandGroup = { name: 'sync', register };
