/** One barn: climate charts, growth and uniformity, feed and FCR, mortality, the weighing sessions. */
import { Link, useParams } from 'react-router-dom';
import { useFarm } from '../api/queries';
import { CriticalAlarms } from '../components/CriticalAlarms';
import { ClimatePanel } from './barn/ClimatePanel';
import { FeedPanel, MortalityPanel, WeighingsPanel } from './barn/FlockPanels';
import { GrowthPanel } from './barn/GrowthPanel';

export function BarnPage() {
  const { farmId = '', barnId = '' } = useParams();
  const farm = useFarm(farmId);
  const barn = farm.data?.barns.find((b) => b.barn_id === barnId);
  const f = barn?.current_flock;
  const base = `/farms/${encodeURIComponent(farmId)}/barns/${encodeURIComponent(barnId)}`;
  return (
    <>
      <div className="page-head">
        <p className="crumbs">
          <Link to={`/farms/${farmId}`}>{farm.data?.farm.name ?? farmId}</Link> /
        </p>
        <h1>{barn?.name ?? barnId}</h1>
        {f && (
          <p className="muted">
            {f.breed} · day {f.age_days} · {f.head_count.toLocaleString()} head (placed {f.head_count_placed.toLocaleString()})
          </p>
        )}
      </div>
      <CriticalAlarms farmId={farmId} barnId={barnId} />
      <div className="barn-grid">
        <ClimatePanel base={base} />
        <GrowthPanel base={base} />
        <FeedPanel base={base} />
        <MortalityPanel base={base} />
        <WeighingsPanel base={base} />
      </div>
    </>
  );
}
