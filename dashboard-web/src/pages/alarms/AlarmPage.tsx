/** One alarm: its facts, the acknowledgement (operator+), and its history as the farm server and the cloud recorded it. */
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../../api/client';
import { useAlarm, type AlarmHistoryEntry } from '../../api/alarms';
import { useMe } from '../../auth/session';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { farmTime } from '../../format';
import { AcknowledgeForm } from './AcknowledgeForm';
import { AcknowledgementProgress, AlarmFacts, AlarmPills } from './AlarmCard';
import { acknowledgementUnderway, historyWord } from './alarm-words';
import { usePlace } from './usePlace';

/** A history entry's detail: the cloud writes a sentence; anything else is shown as it came. */
function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

function History({ items, timeZone }: { items: AlarmHistoryEntry[]; timeZone?: string }) {
  const sorted = [...items].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (sorted.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <ol className="history" aria-label="History">
      {sorted.map((h, i) => (
        <li key={h.event_id ?? `${h.at}-${i}`} data-what={h.what}>
          <time dateTime={h.at} className="history-at">
            {farmTime(h.at, timeZone)}
          </time>
          <div className="history-what">
            <strong>{historyWord(h.what)}</strong>
            {detailText(h.detail) && <span className="muted wrap"> — {detailText(h.detail)}</span>}
          </div>
        </li>
      ))}
    </ol>
  );
}

export function AlarmPage() {
  const { farmId = '', alarmId = '' } = useParams();
  const me = useMe();
  const q = useAlarm(alarmId);
  const place = usePlace(farmId);
  const alarmsPath = `/farms/${encodeURIComponent(farmId)}/alarms`;
  if (q.isPending) return <Loading what="the alarm" />;
  if (q.isError) return <ErrorNote error={q.error} what="The alarm could not be loaded" />;
  const a = q.data.alarm;
  const canAck = hasRole(me.role, 'operator') && a.state === 'raised' && !acknowledgementUnderway(a);
  return (
    <>
      <div className="page-head">
        <p className="crumbs">
          <Link to={`/farms/${encodeURIComponent(farmId)}`}>{place.farmName}</Link> / <Link to={alarmsPath}>Alarms</Link> /
        </p>
        <h1 className="alarm-title">{a.summary}</h1>
      </div>
      <article className={`card alarm sev-${a.severity} state-${a.state}`} data-alarm={a.alarm_id} data-severity={a.severity} data-state={a.state}>
        <header className="alarm-head">
          <AlarmPills a={a} />
        </header>
        <AlarmFacts a={a} place={place} />
        <dl className="facts alarm-facts">
          <div>
            <dt>Condition since</dt>
            <dd>{farmTime(a.condition_since, place.timeZone)}</dd>
          </div>
          <div>
            <dt>Escalation steps sent</dt>
            <dd>{a.last_step === null || a.last_step === undefined ? '—' : a.last_step + 1}</dd>
          </div>
          <div>
            <dt>Rule</dt>
            <dd className="mono">{a.rule_id}</dd>
          </div>
          <div>
            <dt>Farm server</dt>
            <dd className="mono">{a.edge_id ?? '—'}</dd>
          </div>
        </dl>
        <AcknowledgementProgress a={a} />
        {canAck && <AcknowledgeForm alarm={a} />}
      </article>
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <History items={q.data.history} timeZone={place.timeZone} />
      </section>
    </>
  );
}
