/** Feed per day with the FCR, mortality per day, and the recent weighing sessions of a barn. */
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Feed, Items, Mortality, Weighing } from '../../api/types';
import { bars, Chart, perDayOptions } from '../../charts/Chart';
import { CsvButton } from '../../components/CsvButton';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { ScrollTable } from '../../components/ScrollTable';
import { num, when } from '../../format';

const daySec = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function FeedPanel({ base }: { base: string }) {
  const q = useQuery({ queryKey: ['feed', base], queryFn: () => api<Feed>(`${base}/feed`) });
  const data = useMemo(() => {
    const d = q.data?.days ?? [];
    return [d.map((x) => daySec(x.day)), d.map((x) => x.kg)] as [number[], number[]];
  }, [q.data]);
  return (
    <section className="card" aria-labelledby="feed-title">
      <div className="panel-head">
        <h2 id="feed-title">Feed per day</h2>
        <CsvButton path={`${base}/feed`} filename="feed.csv" />
      </div>
      {q.isPending ? (
        <Loading what="feed" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="Feed could not be loaded" />
      ) : (
        <>
          <p className="figures">
            FCR <strong>{num(q.data.fcr, 2)}</strong>
            {q.data.fcr === null && q.data.fcr_basis?.missing_reason && <span className="muted"> ({q.data.fcr_basis.missing_reason.replace(/_/g, ' ')})</span>}
            {q.data.fcr_basis?.as_of_day && <span className="muted"> as of {q.data.fcr_basis.as_of_day}</span>}
          </p>
          <Chart
            label={`Feed in kg per day, ${data[0].length} days`}
            data={data}
            height={200}
            options={() =>
              perDayOptions({ size: 56, label: 'kg' }, [
                { label: 'feed kg', stroke: '#a16207', fill: 'rgba(202, 138, 4, 0.45)', paths: bars, points: { show: false } },
              ])
            }
          />
        </>
      )}
    </section>
  );
}

export function MortalityPanel({ base }: { base: string }) {
  const q = useQuery({ queryKey: ['mortality', base], queryFn: () => api<Mortality>(`${base}/mortality`) });
  const data = useMemo(() => {
    const d = q.data?.days ?? [];
    return [d.map((x) => daySec(x.day)), d.map((x) => x.dead), d.map((x) => x.culled)] as [number[], number[], number[]];
  }, [q.data]);
  return (
    <section className="card" aria-labelledby="mortality-title">
      <div className="panel-head">
        <h2 id="mortality-title">Mortality per day</h2>
        <CsvButton path={`${base}/mortality`} filename="mortality.csv" />
      </div>
      {q.isPending ? (
        <Loading what="mortality" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="Mortality could not be loaded" />
      ) : (
        <>
          <p className="figures">
            Livability <strong>{num(q.data.livability_pct, 2)} %</strong> · head count <strong>{num(q.data.head_count, 0)}</strong>
          </p>
          <Chart
            label={`Dead and culled per day, ${data[0].length} days`}
            data={data}
            height={200}
            options={() =>
              perDayOptions({ size: 44 }, [
                { label: 'dead', stroke: '#991b1b', fill: 'rgba(220, 38, 38, 0.5)', paths: bars, points: { show: false } },
                { label: 'culled', stroke: '#6b7280', width: 2, points: { show: false } },
              ])
            }
          />
        </>
      )}
    </section>
  );
}

const flagWord = (f: string) => f.replace(/_/g, ' ');

export function WeighingsPanel({ base }: { base: string }) {
  const q = useQuery({ queryKey: ['weighings', base], queryFn: () => api<Items<Weighing>>(`${base}/weighings`, { query: { limit: 25 } }) });
  return (
    <section className="card wide" aria-labelledby="weighings-title">
      <div className="panel-head">
        <h2 id="weighings-title">Recent weighing sessions</h2>
        <CsvButton path={`${base}/weighings`} filename="weighings.csv" />
      </div>
      {q.isPending ? (
        <Loading what="weighings" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="Weighings could not be loaded" />
      ) : q.data.items.length === 0 ? (
        <p className="muted">No weighing sessions yet.</p>
      ) : (
        <ScrollTable
          label="Weighing sessions"
          columns={[
            'When',
            'Station',
            'Status',
            { label: 'Weight kg', className: 'n' },
            'Source',
            { label: 'Scale median', className: 'n' },
            { label: 'Vision (conf.)', className: 'n' },
            { label: 'Readings', className: 'n' },
            'Flags',
          ]}
        >
          {q.data.items.map((w) => (
            <tr key={w.session_id}>
              <td>{when(w.at ?? w.finalized_at ?? w.started_at)}</td>
              <td>{w.station_id}</td>
              <td>{w.status}</td>
              <td className="n">{num(w.weight_kg, 2)}</td>
              <td>{w.weight_source ?? '—'}</td>
              <td className="n">{num(w.scale_median_kg, 2)}</td>
              <td className="n">
                {num(w.vision_weight_kg, 2)}
                {w.vision_confidence !== null && ` (${num(w.vision_confidence * 100, 0)} %)`}
              </td>
              <td className="n">
                {w.stable_reading_count ?? '—'}/{w.reading_count}
              </td>
              <td>
                {w.quality_flags.length === 0
                  ? '—'
                  : w.quality_flags.map((f) => (
                      <span key={f} className="pill warn">
                        {flagWord(f)}
                      </span>
                    ))}
              </td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </section>
  );
}
