/** A barn's climate: one uPlot chart per metric, a time range (24 h / 7 d / 42 d), drag to zoom, the band shaded. */
import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { ClimateSeries } from '../../api/types';
import { axisStyle, bandPlugin, Chart } from '../../charts/Chart';
import { CsvButton } from '../../components/CsvButton';
import { ErrorNote, Loading } from '../../components/ErrorNote';
import { label, unit } from '../../format';

export const ranges = [
  { key: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { key: '42d', label: '42 d', ms: 42 * 86_400_000 },
] as const;
type RangeKey = (typeof ranges)[number]['key'];

const metrics = ['temperature', 'humidity', 'co2', 'nh3'];

function MetricChart({ base, metric, from, to }: { base: string; metric: string; from: string; to: string }) {
  const q = useQuery({
    queryKey: ['climate', base, metric, from],
    queryFn: () => api<ClimateSeries>(`${base}/climate`, { query: { metric, from, to } }),
  });
  const data = useMemo(() => {
    const p = q.data?.points ?? [];
    return [p.map((x) => Date.parse(x.t) / 1000), p.map((x) => x.mean), p.map((x) => x.min), p.map((x) => x.max)] as [number[], number[], number[], number[]];
  }, [q.data]);
  const title = `${label(metric)}${q.data?.unit ? ` (${unit(q.data.unit)})` : ''}`;
  return (
    <section className="panel" aria-label={title} data-metric={metric}>
      <div className="panel-head">
        <h3>{title}</h3>
        <CsvButton path={`${base}/climate`} query={{ metric, from, to }} filename={`${metric}.csv`} />
      </div>
      {q.isPending ? (
        <Loading what={label(metric)} />
      ) : q.isError ? (
        <ErrorNote error={q.error} what={`${label(metric)} could not be loaded`} />
      ) : (
        <Chart
          label={`${title} over time, ${q.data.points.length} points`}
          data={data}
          options={() => ({
            plugins: [bandPlugin(q.data.band)],
            cursor: { drag: { x: true, y: false } },
            scales: { x: { time: true } },
            axes: [axisStyle, { ...axisStyle, size: 52 }],
            series: [
              {},
              { label: 'mean', stroke: '#166534', width: 2 },
              { label: 'min', stroke: '#60a5fa', width: 1 },
              { label: 'max', stroke: '#f87171', width: 1 },
            ],
          })}
        />
      )}
    </section>
  );
}

export function ClimatePanel({ base }: { base: string }) {
  const [range, setRange] = useState<RangeKey>('24h');
  // The window is fixed when the range is chosen (to the next minute), so the query key is stable.
  const { from, to } = useMemo(() => {
    const ms = ranges.find((r) => r.key === range)!.ms;
    const end = Math.ceil(Date.now() / 60_000) * 60_000;
    return { from: new Date(end - ms).toISOString(), to: new Date(end).toISOString() };
  }, [range]);
  return (
    <section className="card wide" aria-labelledby="climate-title">
      <div className="panel-head">
        <h2 id="climate-title">Climate</h2>
        <div className="segmented" role="group" aria-label="Time range">
          {ranges.map((r) => (
            <button key={r.key} type="button" aria-pressed={range === r.key} onClick={() => setRange(r.key)}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      <p className="muted small">Drag across a chart to zoom in; double-click to zoom out. The shaded band is the target range.</p>
      <div className="chart-grid">
        {metrics.map((m) => (
          <MetricChart key={m} base={base} metric={m} from={from} to={to} />
        ))}
      </div>
    </section>
  );
}
