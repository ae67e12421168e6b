/**
 * A farm server's downlink commands (operator+; the caller renders it only for them): what is
 * still waiting for the farm server, and when the others were applied (or why refused).
 */
import { useEdgeCommands, type CommandStatus, type EdgeCommand } from '../api/alarms';
import type { Role } from '../api/client';
import { ago, farmTime, words } from '../format';
import { ErrorNote } from './ErrorNote';

const typeWords: Record<string, string> = {
  'alarm.acknowledge': 'Alarm acknowledgement',
  'alarm_rule.upsert': 'Alarm rule change',
  'alarm_rule.delete': 'Alarm rule removed',
  'device.provision': 'Device added',
  'device.revoke': 'Device removed',
};

const statusWords: Record<CommandStatus, string> = {
  pending: 'waiting for the farm server',
  delivered: 'delivered, not applied yet',
  applied: 'applied',
  refused: 'refused',
};

const statusPill: Record<CommandStatus, string> = { pending: 'warn', delivered: 'warn', applied: 'calm', refused: 'alert' };

/** How many commands the page lists (the waiting ones always, then the latest done). */
const shown = 8;

const waiting = (c: EdgeCommand) => c.status === 'pending' || c.status === 'delivered';

/** `timeZone`: the farm's, so "applied today 14:05" is on the farm's clock. */
export function EdgeCommands({ edgeId, role, timeZone }: { edgeId: string; role: Role; timeZone?: string }) {
  const q = useEdgeCommands(edgeId, role);
  if (q.isPending) return <span className="muted">checking commands…</span>;
  if (q.isError) return <ErrorNote error={q.error} what="Commands could not be loaded" />;
  const all = [...q.data.items].sort((a, b) => b.seq - a.seq);
  const open = all.filter(waiting);
  const list = [...open, ...all.filter((c) => !waiting(c))].slice(0, Math.max(shown, open.length));
  return (
    <div className="edge-commands" data-testid="edge-commands" aria-label={`Commands for ${edgeId}`}>
      <p className="small">
        <strong>Commands from the dashboard:</strong>{' '}
        {all.length === 0 ? 'none sent yet' : open.length === 0 ? 'none waiting' : `${open.length} waiting for the farm server`}
      </p>
      {list.length > 0 && (
        <ul className="commands" aria-label={`Commands for ${edgeId}, newest first`}>
          {list.map((c) => (
            <li key={c.command_id} data-command={c.command_id} data-status={c.status}>
              <div className="command-what">
                <span className="muted">#{c.seq}</span> {typeWords[c.type] ?? words(c.type)}{' '}
                <span className={`pill ${statusPill[c.status]}`}>{statusWords[c.status]}</span>
                {c.status === 'refused' && c.result && <span className="muted small">({words(c.result)})</span>}
              </div>
              <div className="muted small">
                sent {ago(c.created_at)}
                {c.created_by ? ` by ${c.created_by}` : ''}
                {c.applied_at
                  ? ` · ${c.status === 'refused' ? 'refused' : 'applied'} ${farmTime(c.applied_at, timeZone)} (${ago(c.applied_at)})`
                  : c.delivered_at
                    ? ` · picked up ${ago(c.delivered_at)}`
                    : ''}
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
