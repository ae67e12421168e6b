/**
 * A uPlot chart that fills its container's width and redraws when the data change. The options
 * builder gets the width; `data-points` on the wrapper says how many x values it draws (tests and
 * screen readers read it; the figure's label says what it shows).
 */
import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  label: string;
  data: AlignedData;
  options: (width: number) => Omit<Options, 'width' | 'height'>;
  height?: number;
}

export function Chart({ label, data, options, height = 240 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth);
    const u = new uPlot({ ...options(width), width, height }, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The options builder is recreated each render; the data decide when to redraw.
  }, [data, height]);

  const points = data[0]?.length ?? 0;
  return (
    <figure className="chart" aria-label={label} data-points={points}>
      <div ref={box} className="chart-box" />
      {points === 0 && <figcaption className="muted">No data in this range.</figcaption>}
    </figure>
  );
}

/** Shades a horizontal band (the comfort band, a limit) behind the series. */
export function bandPlugin(band: { min: number | null; max: number | null } | null, colour = 'rgba(22, 163, 74, 0.12)'): uPlot.Plugin {
  return {
    hooks: {
      drawClear: [
        (u: uPlot) => {
          if (!band || (band.min === null && band.max === null)) return;
          const [yMin, yMax] = [u.scales.y.min ?? 0, u.scales.y.max ?? 0];
          const lo = band.min ?? yMin;
          const hi = band.max ?? yMax;
          const top = u.valToPos(Math.min(hi, yMax), 'y', true);
          const bottom = u.valToPos(Math.max(lo, yMin), 'y', true);
          if (bottom <= top) return;
          const { ctx } = u;
          ctx.save();
          ctx.fillStyle = colour;
          ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
          ctx.restore();
        },
      ],
    },
  };
}

export const axisStyle = { stroke: '#1f2937', grid: { stroke: '#e5e7eb', width: 1 }, ticks: { stroke: '#d1d5db', width: 1 } };

export const bars = uPlot.paths.bars!({ size: [0.7, 40] });

/** A day scale for bar charts: half a day of room either side, so the first and last bars show whole. */
export const dayBarScale: uPlot.Scale = { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] };

/** The options of a per-day chart: days along x, the series given (bars or lines), one y axis. */
export function perDayOptions(yAxis: { size: number; label?: string }, series: uPlot.Series[]): Omit<Options, 'width' | 'height'> {
  return { scales: { x: dayBarScale }, axes: [axisStyle, { ...axisStyle, ...yAxis }], series: [{}, ...series] };
}
