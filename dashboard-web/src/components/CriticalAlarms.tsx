/**
 * The banner of open critical alarms (on the overview and the barn page): how many, the first few
 * summaries, and the way to the alarms page. Shares the alarms page's query (same key), so the
 * three never ask twice; a farm without an open critical alarm shows nothing.
 */
import { Link } from 'react-router-dom';
import { alarmOrder, isOpen, useAlarms } from '../api/alarms';
import { ago } from '../format';

export function CriticalAlarms({ farmId, barnId }: { farmId: string; barnId?: string }) {
  const q = useAlarms(farmId, 'open');
  const critical = (q.data?.items ?? []).filter((a) => isOpen(a) && a.severity === 'critical' && (!barnId || a.barn_id === barnId)).sort(alarmOrder);
  if (critical.length === 0) return null;
  const unacknowledged = critical.filter((a) => a.state === 'raised').length;
  const alarmsPath = `/farms/${encodeURIComponent(farmId)}/alarms`;
  return (
    <section className="alarm-banner" role="alert" aria-label="Open critical alarms" data-testid="critical-alarms" data-count={critical.length}>
      <p className="alarm-banner-head">
        <span className="sev-mark sev-critical" aria-hidden="true" />
        <strong>
          {critical.length} critical alarm{critical.length === 1 ? '' : 's'} open{barnId ? ' in this barn' : ''}
        </strong>
        {unacknowledged > 0 && <span> · {unacknowledged} not acknowledged</span>}
      </p>
      <ul>
        {critical.slice(0, 3).map((a) => (
          <li key={a.alarm_id}>
            <Link to={`${alarmsPath}/${encodeURIComponent(a.alarm_id)}`}>{a.summary}</Link> {a.raised_at && <small>{ago(a.raised_at)}</small>}
          </li>
        ))}
      </ul>
      <Link className="more" to={alarmsPath}>
        {critical.length > 3 ? `All ${critical.length} on the alarms page →` : 'Open the alarms page →'}
      </Link>
    </section>
  );
}
