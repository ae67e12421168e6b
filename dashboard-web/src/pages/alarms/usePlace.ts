/** The farm's clock and its barns' names, so an alarm reads "Broiler house 1, today 14:05" on the farm's time. */
import { useFarm } from '../../api/queries';
import type { Place } from './AlarmCard';

export function usePlace(farmId: string): Place & { farmName: string } {
  const farm = useFarm(farmId);
  const barns = farm.data?.barns ?? [];
  return {
    farmName: farm.data?.farm.name ?? farmId,
    timeZone: farm.data?.farm.timezone,
    barnName: (barnId) => (barnId ? (barns.find((b) => b.barn_id === barnId)?.name ?? barnId) : 'the whole farm'),
  };
}
