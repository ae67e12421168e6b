/** The uniformity histogram: weight bins as plain bars (a table underneath for screen readers). */
import { num } from '../format';

export function Histogram({ bins }: { bins: { from_kg: number; to_kg: number; count: number }[] }) {
  const top = Math.max(1, ...bins.map((b) => b.count));
  if (bins.length === 0) return <p className="muted">No weighings on the last day.</p>;
  return (
    <div className="histogram" role="img" aria-label={`Weight distribution in ${bins.length} bins`}>
      {bins.map((b) => (
        <div className="bin" key={b.from_kg} title={`${num(b.from_kg, 2)}–${num(b.to_kg, 2)} kg: ${b.count}`}>
          <span className="bin-bar" style={{ height: `${(b.count / top) * 100}%` }} />
          <span className="bin-label">{num(b.from_kg, 2)}</span>
        </div>
      ))}
    </div>
  );
}
