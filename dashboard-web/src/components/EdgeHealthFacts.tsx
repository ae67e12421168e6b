/** One farm server's health, for operator+ (the caller renders it only for them). */
import { useEdgeHealth } from '../api/health';
import type { Role } from '../api/client';
import { ago, num } from '../format';
import { ErrorNote } from './ErrorNote';

export function EdgeHealthFacts({ edgeId, role }: { edgeId: string; role: Role }) {
  const q = useEdgeHealth(edgeId, role);
  if (q.isPending) return <span className="muted">checking health…</span>;
  if (q.isError) return <ErrorNote error={q.error} what="Health could not be loaded" />;
  const h = q.data;
  const b = h.backlog;
  return (
    <dl className="facts edge-health" aria-label={`Health of ${edgeId}`} data-testid="edge-health">
      <div>
        <dt>Events / min</dt>
        <dd>{num(h.events_per_minute, 1)}</dd>
      </div>
      <div>
        <dt>Batches, last hour</dt>
        <dd>{num(h.batches_last_hour, 0)}</dd>
      </div>
      <div>
        <dt>Backlog</dt>
        <dd>
          {b
            ? `${num(b.pending_events, 0)} pending${b.oldest_pending_at ? `, oldest ${ago(b.oldest_pending_at)}` : ''} (reported ${ago(b.reported_at)})`
            : 'not reported'}
        </dd>
      </div>
      <div>
        <dt>Last error</dt>
        <dd>{h.last_error ? `${h.last_error.code}: ${h.last_error.message} (${ago(h.last_error.at)})` : 'none'}</dd>
      </div>
    </dl>
  );
}
