/** One alarm: its severity (colour and word), state, barn, what crossed what, when, and the acknowledgement. */
import { Link } from 'react-router-dom';
import { hasRole } from '../../api/client';
import type { Alarm } from '../../api/alarms';
import { useMe } from '../../auth/session';
import { ago, farmTime, num, unit } from '../../format';
import { AcknowledgeForm } from './AcknowledgeForm';
import { acknowledgementUnderway, acknowledgementWord, ruleWord, severityWord, stateWord } from './alarm-words';

export interface Place {
  timeZone?: string;
  barnName: (barnId: string | null) => string;
}

/**
 * How a value and its limit read: time-based alarms come in minutes, shown in hours from two
 * hours of limit on ("12.1 h (limit 12 h)"), value and limit always in the same unit.
 */
function shown(a: Alarm): { value: number; threshold?: number; unit: string; digits: number } {
  const threshold = a.threshold ?? undefined;
  if (a.unit === 'min' && (threshold ?? a.value!) >= 120) {
    return { value: a.value! / 60, ...(threshold !== undefined ? { threshold: threshold / 60 } : {}), unit: 'h', digits: 1 };
  }
  return { value: a.value!, ...(threshold !== undefined ? { threshold } : {}), unit: unit(a.unit), digits: a.unit === 'min' ? 0 : 2 };
}

function Reading({ a }: { a: Alarm }) {
  if (a.value === null || a.value === undefined) return null;
  const s = shown(a);
  return (
    <div>
      <dt>Value</dt>
      <dd>
        {num(s.value, s.digits)} {s.unit}
        {s.threshold !== undefined && (
          <span className="muted">
            {' '}
            (limit {num(s.threshold, s.digits)} {s.unit})
          </span>
        )}
      </dd>
    </div>
  );
}

/** The alarm's facts (the list's card and the detail page share them). */
export function AlarmFacts({ a, place }: { a: Alarm; place: Place }) {
  const tz = place.timeZone;
  return (
    <dl className="facts alarm-facts">
      <div>
        <dt>Barn</dt>
        <dd>{place.barnName(a.barn_id)}</dd>
      </div>
      <div>
        <dt>What</dt>
        <dd>{ruleWord(a.rule_kind)}</dd>
      </div>
      <Reading a={a} />
      <div>
        <dt>Raised</dt>
        <dd>
          {a.raised_at ? (
            <>
              <time dateTime={a.raised_at} title={new Date(a.raised_at).toISOString()}>
                {farmTime(a.raised_at, tz)}
              </time>{' '}
              <small className="muted">{ago(a.raised_at)}</small>
            </>
          ) : (
            'not known yet'
          )}
        </dd>
      </div>
      {a.acknowledged_at && (
        <div>
          <dt>Acknowledged</dt>
          <dd>
            {farmTime(a.acknowledged_at, tz)}
            {a.acknowledged_by && <small className="muted wrap"> by {a.acknowledged_by}</small>}
          </dd>
        </div>
      )}
      {a.cleared_at && (
        <div>
          <dt>Cleared</dt>
          <dd>{farmTime(a.cleared_at, tz)}</dd>
        </div>
      )}
    </dl>
  );
}

/** The severity (colour and word) and the state. */
export function AlarmPills({ a }: { a: Alarm }) {
  return (
    <>
      <span className={`pill sev-${a.severity}`} data-testid="alarm-severity">
        <span className={`sev-mark sev-${a.severity}`} aria-hidden="true" />
        {severityWord[a.severity]}
      </span>
      <span className={`pill state-${a.state}`} data-testid="alarm-state">
        {stateWord[a.state]}
      </span>
    </>
  );
}

/** What the dashboard's acknowledgement is doing ("waiting for the farm server"), if one was sent. */
export function AcknowledgementProgress({ a }: { a: Alarm }) {
  const waiting = acknowledgementWord(a);
  const p = a.pending_acknowledgement;
  if (!waiting || !p) return null;
  const refused = p.status === 'refused';
  return (
    <p className={`ack-status${refused ? ' refused' : ''}`} role="status" data-testid="ack-progress" data-status={p.status}>
      {!refused && <span className="spinner" aria-hidden="true" />} {waiting} <small className="muted">· sent {ago(p.created_at)}</small>
    </p>
  );
}

export function AlarmCard({ a, place, farmId }: { a: Alarm; place: Place; farmId: string }) {
  const me = useMe();
  const canAck = hasRole(me.role, 'operator') && a.state === 'raised' && !acknowledgementUnderway(a);
  return (
    <article className={`card alarm sev-${a.severity} state-${a.state}`} data-alarm={a.alarm_id} data-severity={a.severity} data-state={a.state}>
      <header className="alarm-head">
        <AlarmPills a={a} />
      </header>
      <h2 className="alarm-summary">
        <Link to={`/farms/${encodeURIComponent(farmId)}/alarms/${encodeURIComponent(a.alarm_id)}`}>{a.summary}</Link>
      </h2>
      <AlarmFacts a={a} place={place} />
      <AcknowledgementProgress a={a} />
      {canAck && <AcknowledgeForm alarm={a} />}
    </article>
  );
}
