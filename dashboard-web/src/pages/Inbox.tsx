/** The in-app inbox (polled every minute while visible: api/queries.ts useInbox); operators mark read. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, hasRole } from '../api/client';
import { useInbox } from '../api/queries';
import { useMe } from '../auth/session';
import { ErrorNote, Loading } from '../components/ErrorNote';
import { when } from '../format';

export function InboxPage() {
  const me = useMe();
  const q = useInbox();
  const queries = useQueryClient();
  const done = () => queries.invalidateQueries({ queryKey: ['inbox'] });
  const readOne = useMutation({ mutationFn: (id: string) => api(`/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' }), onSuccess: done });
  const readAll = useMutation({ mutationFn: () => api('/notifications/read-all', { method: 'POST' }), onSuccess: done });
  const canMark = hasRole(me.role, 'operator');

  return (
    <>
      <div className="page-head row">
        <div>
          <h1>Inbox</h1>
          <p className="muted">{q.data ? `${q.data.unread_count} unread` : ''} · checked every minute while this page is open</p>
        </div>
        {canMark && (q.data?.unread_count ?? 0) > 0 && (
          <button type="button" className="ghost" onClick={() => readAll.mutate()} disabled={readAll.isPending}>
            Mark all read
          </button>
        )}
      </div>
      <ErrorNote error={readOne.error ?? readAll.error} what="Marking failed" />
      {q.isPending ? (
        <Loading what="the inbox" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="The inbox could not be loaded" />
      ) : q.data.items.length === 0 ? (
        <p className="card muted">Nothing here: no alerts, no insights waiting.</p>
      ) : (
        <ul className="inbox" aria-label="Notifications">
          {q.data.items.map((n) => (
            <li key={n.id} className={`card note ${n.read_at ? 'read' : 'unread'}`} data-notification={n.id} data-read={n.read_at ? 'yes' : 'no'}>
              <div className="note-head">
                <h2>
                  {!n.read_at && <span className="dot unread-dot" aria-label="unread" />}
                  {n.title}
                </h2>
                <span className="muted small">{when(n.created_at)}</span>
              </div>
              <p>{n.body}</p>
              {canMark && !n.read_at && (
                <button type="button" className="ghost small" onClick={() => readOne.mutate(n.id)} disabled={readOne.isPending}>
                  Mark read
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
