/**
 * Insights: request one (POST /dashboard/insights/generate; the x-request-id is its business key,
 * so a timed-out request is collected by sending the same id again), list them, read one.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, hasRole, newRequestId } from '../api/client';
import { useFarm } from '../api/queries';
import type { Insight, InsightListItem, Items } from '../api/types';
import { useMe } from '../auth/session';
import { ErrorNote, Loading } from '../components/ErrorNote';
import { num, when } from '../format';

const windows = [
  { days: 1, label: 'last 24 h' },
  { days: 7, label: 'last 7 days' },
  { days: 14, label: 'last 14 days' },
  { days: 42, label: 'last 42 days' },
];

/** Until the workflow answers: 504 insight_timeout means "still running, ask again with the same id". */
async function generate(body: unknown, requestId: string): Promise<{ insight: Insight }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api<{ insight: Insight }>('/dashboard/insights/generate', { method: 'POST', body, requestId });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'insight_timeout' && attempt < 20) continue;
      throw e;
    }
  }
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return <>{Math.round((now - since) / 1000)} s</>;
}

function RequestForm({ farmId }: { farmId: string }) {
  const farm = useFarm(farmId);
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [barnId, setBarnId] = useState('');
  const [days, setDays] = useState(7);
  const [run, setRun] = useState<{ requestId: string; since: number } | null>(null);
  const m = useMutation({
    mutationFn: (v: { body: unknown; requestId: string }) => generate(v.body, v.requestId),
    onSuccess: async (r) => {
      await queries.invalidateQueries({ queryKey: ['insights', farmId] });
      void navigate(`/farms/${farmId}/insights/${r.insight.id}`);
    },
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    const to = new Date();
    const from = new Date(to.getTime() - days * 86_400_000);
    const requestId = newRequestId();
    setRun({ requestId, since: Date.now() });
    m.mutate({ requestId, body: { farm_id: farmId, barn_id: barnId || null, window: { from: from.toISOString(), to: to.toISOString() } } });
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="request-title">
      <h2 id="request-title">Ask for an insight</h2>
      <div className="form-row">
        <label>
          Barn
          <select value={barnId} onChange={(e) => setBarnId(e.target.value)} name="barn">
            <option value="">The whole farm</option>
            {farm.data?.barns.map((b) => (
              <option key={b.barn_id} value={b.barn_id}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Window
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} name="window">
            {windows.map((w) => (
              <option key={w.days} value={w.days}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={m.isPending}>
          {m.isPending ? 'Generating…' : 'Generate insight'}
        </button>
      </div>
      {run && m.isPending && (
        <div className="progress" role="status" data-testid="insight-progress">
          <span className="spinner" aria-hidden="true" /> Generating for <Elapsed since={run.since} />… Request id <code>{run.requestId}</code> — find it in the
          Temporal UI by this id.
        </div>
      )}
      <ErrorNote error={m.error} what="The insight could not be generated" />
    </form>
  );
}

export function InsightsPage() {
  const { farmId = '' } = useParams();
  const me = useMe();
  const q = useQuery({
    queryKey: ['insights', farmId],
    queryFn: () => api<Items<InsightListItem>>('/dashboard/insights', { query: { farm_id: farmId, limit: 50 } }),
  });
  return (
    <>
      <div className="page-head">
        <h1>Insights</h1>
        <p className="muted">Written from the farm’s own figures; each one lists what it saw.</p>
      </div>
      {hasRole(me.role, 'operator') && <RequestForm farmId={farmId} />}
      <section className="card" aria-labelledby="list-title">
        <h2 id="list-title">Earlier insights</h2>
        {q.isPending ? (
          <Loading what="insights" />
        ) : q.isError ? (
          <ErrorNote error={q.error} what="Insights could not be loaded" />
        ) : q.data.items.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="list" data-testid="insight-list">
            {q.data.items.map((i) => (
              <li key={i.id}>
                <Link to={`/farms/${farmId}/insights/${i.id}`}>{i.title}</Link>
                <span className="muted small">
                  {' '}
                  {i.barn_id ?? 'whole farm'} · {when(i.window.from)} – {when(i.window.to)} · {i.generator}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

export function InsightPage() {
  const { farmId = '', insightId = '' } = useParams();
  const q = useQuery({ queryKey: ['insight', insightId], queryFn: () => api<Insight>(`/dashboard/insights/${encodeURIComponent(insightId)}`) });
  if (q.isPending) return <Loading what="the insight" />;
  if (q.isError) return <ErrorNote error={q.error} what="The insight could not be loaded" />;
  const r = q.data;
  return (
    <article className="insight" data-testid="insight">
      <p className="crumbs">
        <Link to={`/farms/${farmId}/insights`}>Insights</Link> /
      </p>
      <h1>{r.insight.title}</h1>
      <p className="muted small">
        {r.barn_id ?? 'Whole farm'} · {when(r.window.from)} – {when(r.window.to)} · written by {r.generator}
        {r.model ? ` (${r.model})` : ''} · request id <code>{r.request_id}</code>
      </p>
      <section className="card">
        <p className="summary">{r.insight.summary}</p>
      </section>
      {r.insight.key_metrics.length > 0 && (
        <section className="card">
          <h2>Key figures</h2>
          <dl className="facts">
            {r.insight.key_metrics.map((k, i) => (
              <div key={i}>
                <dt>
                  {k.label}
                  {k.barn_id ? ` · ${k.barn_id}` : ''}
                </dt>
                <dd>
                  {num(k.value, 2)} {k.unit}
                </dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      {r.insight.findings.length > 0 && (
        <section className="card">
          <h2>Findings</h2>
          <ul className="list">
            {r.insight.findings.map((f, i) => (
              <li key={i} className={`finding sev-${f.severity}`}>
                <span className={`pill sev-${f.severity}`}>{f.severity}</span> <span className="muted small">{f.topic}</span> {f.text}
              </li>
            ))}
          </ul>
        </section>
      )}
      {r.insight.recommendations.length > 0 && (
        <section className="card">
          <h2>Recommendations</h2>
          <ul className="list">
            {r.insight.recommendations.map((x, i) => (
              <li key={i}>
                <span className={`pill prio-${x.priority}`}>{x.priority}</span> {x.text}
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}
