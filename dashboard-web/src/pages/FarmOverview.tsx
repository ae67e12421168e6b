/** A farm at a glance: a card per barn (climate against its band, flock, losses, weight, alerts) and the farm servers. */
import { Link, useParams } from 'react-router-dom';
import { isOpen, useAlarms, type Alarm } from '../api/alarms';
import { useOverview } from '../api/queries';
import type { BarnOverview, ClimateNow, FarmOverview as Overview } from '../api/types';
import { hasRole } from '../api/client';
import { useMe } from '../auth/session';
import { CriticalAlarms } from '../components/CriticalAlarms';
import { EdgeCommands } from '../components/EdgeCommands';
import { EdgeHealthFacts } from '../components/EdgeHealthFacts';
import { ErrorNote, Loading } from '../components/ErrorNote';
import { ago, label, num, unit } from '../format';

const order = ['temperature', 'humidity', 'co2', 'nh3'];

function bandText(c: ClimateNow): string {
  if (!c.band || (c.band.min === null && c.band.max === null)) return 'no band';
  if (c.band.min !== null && c.band.max !== null) return `${num(c.band.min)}–${num(c.band.max)}`;
  return c.band.max !== null ? `≤ ${num(c.band.max)}` : `≥ ${num(c.band.min)}`;
}

const statusWord: Record<ClimateNow['status'], string> = { ok: 'in band', low: 'low', high: 'high', stale: 'stale', unknown: '' };

function Climate({ climate }: { climate: ClimateNow[] }) {
  const shown = [...climate].sort((a, b) => (order.indexOf(a.metric) + 1 || 99) - (order.indexOf(b.metric) + 1 || 99));
  if (shown.length === 0) return <p className="muted">No climate readings yet.</p>;
  return (
    <ul className="climate" aria-label="Climate now">
      {shown.map((c) => (
        <li key={c.metric} className={`reading status-${c.status}`} data-metric={c.metric} title={`${label(c.metric)} at ${new Date(c.at).toLocaleString()}`}>
          <span className="reading-label">{label(c.metric)}</span>
          <span className="reading-value" data-testid="live-value">
            {num(c.value)}
            <small> {unit(c.unit)}</small>
          </span>
          <span className="reading-band">
            {bandText(c)}
            {statusWord[c.status] && <b className="status-word"> · {statusWord[c.status]}</b>}
          </span>
        </li>
      ))}
    </ul>
  );
}

function BarnCard({ farmId, barn, alarms }: { farmId: string; barn: BarnOverview; alarms: Alarm[] }) {
  const f = barn.flock;
  const critical = alarms.some((a) => a.severity === 'critical');
  return (
    <article className="card barn-card" data-barn={barn.barn_id} aria-labelledby={`barn-${barn.barn_id}`}>
      <header className="card-head">
        <h2 id={`barn-${barn.barn_id}`}>
          <Link to={`/farms/${farmId}/barns/${barn.barn_id}`}>{barn.name}</Link>
        </h2>
        <span>
          {alarms.length > 0 && (
            <Link to={`/farms/${farmId}/alarms`} className={`pill ${critical ? 'alert' : 'warn'}`} data-testid="barn-alarms">
              {alarms.length} open alarm{alarms.length === 1 ? '' : 's'}
            </Link>
          )}
          {barn.open_alerts > 0 ? (
            <Link to="/inbox" className="pill alert">
              {barn.open_alerts} open alert{barn.open_alerts === 1 ? '' : 's'}
            </Link>
          ) : (
            alarms.length === 0 && <span className="pill calm">no open alerts</span>
          )}
        </span>
      </header>
      <Climate climate={barn.climate} />
      <dl className="facts">
        <div>
          <dt>Flock age</dt>
          <dd>{f ? `${f.age_days} days` : 'empty'}</dd>
        </div>
        <div>
          <dt>Head count</dt>
          <dd>{f ? num(f.head_count, 0) : '—'}</dd>
        </div>
        <div>
          <dt>Mortality today</dt>
          <dd>{barn.mortality_today ? `${barn.mortality_today.dead} dead · ${barn.mortality_today.culled} culled` : 'none recorded'}</dd>
        </div>
        <div>
          <dt>Latest weight</dt>
          <dd>
            {barn.latest_weight ? (
              <>
                {num(barn.latest_weight.kg, 2)} kg <small className="muted">{ago(barn.latest_weight.at)}</small>
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
      </dl>
      <Link className="more" to={`/farms/${farmId}/barns/${barn.barn_id}`}>
        Charts, weighings, feed →
      </Link>
    </article>
  );
}

function Edges({ edges, timeZone }: { edges: Overview['edges']; timeZone: string }) {
  const me = useMe();
  // The health route is operator+: a viewer's page never asks for it.
  const operator = hasRole(me.role, 'operator');
  return (
    <section className="card" aria-labelledby="edges-title">
      <h2 id="edges-title">Farm servers</h2>
      {edges.length === 0 ? (
        <p className="muted">No farm server registered.</p>
      ) : (
        <ul className="edges">
          {edges.map((e) => (
            <li key={e.edge_id}>
              <span className={`dot edge-${e.status}`} aria-hidden="true" />
              <strong>{e.edge_id}</strong> <span className={`pill edge-${e.status}`}>{e.status}</span>{' '}
              <span className="muted">last batch {ago(e.last_batch_at)}</span>
              {operator && <EdgeHealthFacts edgeId={e.edge_id} role={me.role} />}
              {operator && <EdgeCommands edgeId={e.edge_id} role={me.role} timeZone={timeZone} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function FarmOverview() {
  const { farmId = '' } = useParams();
  const q = useOverview(farmId);
  const alarms = (useAlarms(farmId, 'open').data?.items ?? []).filter(isOpen);
  if (q.isPending) return <Loading what="the farm" />;
  if (q.isError) return <ErrorNote error={q.error} what="The farm could not be loaded" />;
  const o = q.data;
  return (
    <>
      <div className="page-head">
        <h1>{o.farm.name}</h1>
        <p className="muted">
          Updated {new Date(q.dataUpdatedAt).toLocaleTimeString()} · refreshes every minute · {o.farm.timezone}
        </p>
      </div>
      <CriticalAlarms farmId={farmId} />
      <div className="cards">
        {o.barns.map((b) => (
          <BarnCard key={b.barn_id} farmId={farmId} barn={b} alarms={alarms.filter((a) => a.barn_id === b.barn_id)} />
        ))}
      </div>
      <Edges edges={o.edges} timeZone={o.farm.timezone} />
    </>
  );
}
