/**
 * `farmiq alarms`: the farm server's alarms through its operator API (EDGE_OPERATOR_API_URL, default
 * http://EDGE_HTTP_HOST:EDGE_HTTP_PORT, with the operator token in FARMIQ_OPERATOR_TOKEN; make one
 * with `farmiq operators add`). Through the API rather than the database because an acknowledgement
 * is a signal to the alarm's workflow, which records it and stops the ladder; it works with the
 * cloud away.
 *
 *   farmiq alarms list [--all] [--limit n]
 *   farmiq alarms show <alarmId>
 *   farmiq alarms ack <alarmId> [--by name] [--note text]
 */
import os from 'node:os';
import type { Command } from 'commander';
import type { Settings } from '../../config/settings';
import type { CliContext, CommandGroup } from '../context';
import { CliError, conflict, invalidInput, notFound } from '../errors';
import { table } from '../output';

interface AlarmJson {
  alarm_id: string;
  farm_id: string;
  barn_id: string | null;
  rule_id: string;
  severity: string;
  state: string;
  summary: string;
  raised_at: string;
  last_step: number | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  cleared_at: string | null;
}

interface HistoryJson {
  at: string;
  what: string;
  detail: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function operatorApiUrl(s: Pick<Settings, 'EDGE_OPERATOR_API_URL' | 'EDGE_HTTP_HOST' | 'EDGE_HTTP_PORT'>): string {
  return (s.EDGE_OPERATOR_API_URL || `http://${s.EDGE_HTTP_HOST}:${s.EDGE_HTTP_PORT}`).replace(/\/+$/, '');
}

/** One call to the operator API; its error body becomes the CLI's error with a matching code. */
async function call<T>(ctx: CliContext, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const s = ctx.settings();
  const base = operatorApiUrl(s);
  if (!s.FARMIQ_OPERATOR_TOKEN) throw invalidInput('set FARMIQ_OPERATOR_TOKEN to an operator token (make one with `farmiq operators add`)');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${s.FARMIQ_OPERATOR_TOKEN}`,
        'x-farmiq-client': 'cli',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new CliError('failed', `cannot reach the edge operator API at ${base} (is the edge HTTP gateway running?): ${(err as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (res.ok) return answer;
  const message = answer.error ? `${answer.error.message} (${answer.error.code})` : `the operator API answered ${res.status}`;
  if (res.status === 404) throw notFound(message);
  if (res.status === 409) throw conflict(message);
  if (res.status === 400) throw invalidInput(message);
  throw new CliError('failed', message);
}

function alarmId(raw: string): string {
  if (!uuid.test(raw)) throw invalidInput(`${raw} is not an alarm id (a UUID)`);
  return raw.toLowerCase();
}

const place = (a: AlarmJson) => `${a.farm_id}/${a.barn_id ?? '(farm)'}`;

function register(program: Command, ctx: CliContext): void {
  const alarms = program.command('alarms').description("the farm server's alarms: list, show, acknowledge (edge operator API)");

  alarms
    .command('list')
    .description('open alarms, newest first (--all: cleared ones too)')
    .option('--all', 'cleared alarms too')
    .option('--limit <n>', 'alarms to show (1-500)', '100')
    .action(async (o: { all?: boolean; limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidInput('--limit must be 1-500');
      const r = await call<{ alarms: AlarmJson[] }>(ctx, 'GET', `/api/v1/alarms?state=${o.all ? 'all' : 'open'}&limit=${limit}`);
      ctx.out.data(r.alarms, (list) =>
        table(
          list.map((a) => ({
            alarm_id: a.alarm_id,
            state: a.state,
            severity: a.severity,
            rule: a.rule_id,
            place: place(a),
            raised_at: a.raised_at,
            step: a.last_step,
            summary: a.summary,
          })),
          o.all ? 'no alarms' : 'no open alarms',
        ),
      );
    });

  alarms
    .command('show')
    .description('one alarm and its history')
    .argument('<alarmId>', 'the alarm id')
    .action(async (id: string) => {
      const r = await call<{ alarm: AlarmJson; history: HistoryJson[] }>(ctx, 'GET', `/api/v1/alarms/${alarmId(id)}`);
      ctx.out.data(r, (x) =>
        [
          `${x.alarm.alarm_id} ${x.alarm.state} ${x.alarm.severity} ${x.alarm.rule_id} at ${place(x.alarm)}`,
          x.alarm.summary,
          `raised ${x.alarm.raised_at}` +
            (x.alarm.acknowledged_at ? `; acknowledged ${x.alarm.acknowledged_at} by ${x.alarm.acknowledged_by}` : '') +
            (x.alarm.cleared_at ? `; cleared ${x.alarm.cleared_at}` : ''),
          '',
          table(x.history.map((h) => ({ at: h.at, what: h.what, detail: h.detail }))),
        ].join('\n'),
      );
    });

  alarms
    .command('ack')
    .description('acknowledge an alarm: its escalation stops (idempotent)')
    .argument('<alarmId>', 'the alarm id')
    .option('--by <name>', 'who acknowledges (default: user@host)')
    .option('--note <text>', 'a note kept with the acknowledgement')
    .action(async (id: string, o: { by?: string; note?: string }) => {
      const by = o.by ?? `${os.userInfo().username}@${os.hostname()}`;
      const r = await call<{ alarm_id: string; acknowledged: 'signalled' | 'before'; acknowledged_by?: string; acknowledged_at?: string }>(
        ctx,
        'POST',
        `/api/v1/alarms/${alarmId(id)}/acknowledge`,
        { by, ...(o.note ? { note: o.note } : {}) },
      );
      ctx.out.data(r, (x) =>
        x.acknowledged === 'before'
          ? `alarm ${x.alarm_id} was acknowledged before, by ${x.acknowledged_by} at ${x.acknowledged_at}`
          : `alarm ${x.alarm_id} acknowledged by ${by}`,
      );
    });
}

export const group: CommandGroup = { name: 'alarms', register };
