/**
 * The farm's alarms: open ones first (the most severe, then the newest), or every alarm; polled
 * every 30 s while the page is visible. Operators and admins acknowledge (with an optional note);
 * a viewer sees no button.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { alarmOrder, useAlarms, type AlarmFilter } from '../../api/alarms';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { AlarmCard } from './AlarmCard';
import { usePlace } from './usePlace';

export function AlarmsPage() {
  const { farmId = '' } = useParams();
  const [filter, setFilter] = useState<AlarmFilter>('open');
  const q = useAlarms(farmId, filter);
  const place = usePlace(farmId);
  const items = q.data ? [...q.data.items].sort(alarmOrder) : [];
  const open = items.filter((a) => a.state !== 'cleared').length;

  return (
    <>
      <div className="page-head row">
        <div>
          <p className="crumbs">
            <Link to={`/farms/${encodeURIComponent(farmId)}`}>{place.farmName}</Link> /
          </p>
          <h1>Alarms</h1>
          <p className="muted">
            {q.data ? `${open} open` : ''} · times on the farm&apos;s clock{place.timeZone ? ` (${place.timeZone})` : ''} · checked every 30 s while this page
            is open
          </p>
        </div>
        <div className="segmented" role="group" aria-label="Which alarms">
          <button type="button" aria-pressed={filter === 'open'} onClick={() => setFilter('open')}>
            Open
          </button>
          <button type="button" aria-pressed={filter === 'all'} onClick={() => setFilter('all')}>
            All
          </button>
        </div>
      </div>
      {q.isPending ? (
        <Loading what="the alarms" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="The alarms could not be loaded" />
      ) : items.length === 0 ? (
        <p className="card muted" data-testid="no-alarms">
          {filter === 'open' ? 'No open alarm: every barn is within its limits.' : 'No alarm has been raised on this farm.'}
        </p>
      ) : (
        <div className="alarms" aria-label="Alarms">
          {items.map((a) => (
            <AlarmCard key={a.alarm_id} a={a} place={place} farmId={farmId} />
          ))}
        </div>
      )}
    </>
  );
}
