/** Growth against the breed standard with the forecast band, and the last day's uniformity histogram. */
import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Growth } from '../../api/types';
import { axisStyle, Chart } from '../../charts/Chart';
import { Histogram } from '../../charts/Histogram';
import { CsvButton } from '../../components/CsvButton';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { num, words } from '../../format';

const daySec = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

function growthData(g: Growth) {
  const xs = [...new Set([...g.days.map((d) => d.day), ...g.forecast.map((f) => f.day)])].sort();
  const byDay = new Map(g.days.map((d) => [d.day, d]));
  const fc = new Map(g.forecast.map((f) => [f.day, f]));
  return [
    xs.map(daySec),
    xs.map((d) => byDay.get(d)?.mean_kg ?? null),
    xs.map((d) => byDay.get(d)?.standard_kg ?? null),
    xs.map((d) => fc.get(d)?.kg ?? null),
    xs.map((d) => fc.get(d)?.low_kg ?? null),
    xs.map((d) => fc.get(d)?.high_kg ?? null),
  ] as [number[], ...(number | null)[][]];
}

export function GrowthPanel({ base }: { base: string }) {
  const q = useQuery({ queryKey: ['growth', base], queryFn: () => api<Growth>(`${base}/growth`) });
  const data = useMemo(() => (q.data ? growthData(q.data) : null), [q.data]);
  return (
    <section className="card" aria-labelledby="growth-title">
      <div className="panel-head">
        <h2 id="growth-title">Growth</h2>
        <CsvButton path={`${base}/growth`} filename="growth.csv" />
      </div>
      {q.isPending ? (
        <Loading what="growth" />
      ) : q.isError ? (
        <ErrorNote error={q.error} what="Growth could not be loaded" />
      ) : (
        <>
          <Chart
            label={`Mean weight per day against the breed standard, ${q.data.days.length} days, forecast ${q.data.forecast.length} days`}
            data={data!}
            options={() => ({
              scales: { x: { time: true } },
              axes: [axisStyle, { ...axisStyle, size: 48, label: 'kg' }],
              series: [
                {},
                { label: 'mean kg', stroke: '#166534', width: 2, points: { show: true, size: 5 }, spanGaps: true },
                { label: 'standard', stroke: '#6b7280', width: 1.5, dash: [6, 4], spanGaps: true },
                { label: 'forecast', stroke: '#b45309', width: 2, dash: [3, 3], spanGaps: true },
                { label: 'low', stroke: 'rgba(180, 83, 9, 0.4)', width: 1 },
                { label: 'high', stroke: 'rgba(180, 83, 9, 0.4)', width: 1 },
              ],
              bands: [{ series: [5, 4], fill: 'rgba(245, 158, 11, 0.15)' }],
            })}
          />
          {q.data.forecast_status && q.data.forecast_status !== 'ok' && (
            <p className="muted small">No forecast: {words(q.data.forecast_reason ?? q.data.forecast_status)}.</p>
          )}
          <h3>Uniformity{q.data.uniformity ? ` on ${q.data.uniformity.day}` : ''}</h3>
          {q.data.uniformity ? (
            <>
              <p className="figures">
                CV <strong>{num(q.data.uniformity.cv_pct)} %</strong> · within ±10 % <strong>{num(q.data.uniformity.within_10pct_pct)} %</strong>
                {q.data.uniformity.status === 'insufficient_sample' && <span className="muted"> (fewer than 30 weighings: indicative)</span>}
              </p>
              <Histogram bins={q.data.uniformity.bins} />
            </>
          ) : (
            <p className="muted">No weighings yet.</p>
          )}
        </>
      )}
    </section>
  );
}
