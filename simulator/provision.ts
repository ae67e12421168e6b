/**
 * Makes the farm server know the simulated farm, as an installer would: each barn's flock placed
 * (flocks/flock-store.ts; placing the same flock again is a no-op) and each device given its own
 * broker credentials (gateways/mqtt-bridge/broker/credentials.ts). Devices already in the state
 * keep their credentials while the farm server still has them active (a reset farm server gets
 * them provisioned again). The caller re-renders the broker's password file and reloads it
 * (scripts/device-credentials.ts does the same after `add`).
 */
import type { Pool } from 'pg';
import type { Settings } from '../config/settings';
import { localClock } from '../domain/calendar/local-clock';
import { uuidV5 } from '../domain/ids';
import { FlockRefusal, placeFlock } from '../flocks/flock-store';
import { refreshBrokerAuth } from '../gateways/mqtt-bridge/broker/render';
import { listDevices, provisionDevice, type DeviceKind } from '../gateways/mqtt-bridge/broker/credentials';
import { loadFarmDescription, type BarnDescription, type FarmDescription } from './farm-description';
import { deviceKey, readFarmState, sameFarm, writeFarmState, type FarmState } from './farm-state';
import { dayOfIndex, dayIndex } from './models/flock-life';
import { breeds } from './models/breeds';
import { simulatorSettings } from './simulator-settings';

export interface ProvisionResult {
  state: FarmState;
  devicesProvisioned: number;
  flocksPlaced: number;
}

export function barnDevices(b: BarnDescription): { deviceId: string; kind: DeviceKind }[] {
  return [
    ...b.climate_sensors.map((deviceId) => ({ deviceId, kind: 'sensor' as const })),
    ...b.weighvision_stations.map((deviceId) => ({ deviceId, kind: 'weighvision-station' as const })),
    ...b.feed_dispensers.map((deviceId) => ({ deviceId, kind: 'feed-dispenser' as const })),
    ...b.mortality_counters.map((deviceId) => ({ deviceId, kind: 'mortality-counter' as const })),
  ];
}

function resolveFlock(farm: FarmDescription, b: BarnDescription, previous: FarmState | undefined, today: string): { flock_id: string; placed_day: string } {
  const kept = previous?.flocks[b.barn_id];
  const placedDay = b.flock.placed_on ?? kept?.placed_day ?? dayOfIndex(dayIndex(today) - b.flock.placed_days_ago!);
  const flockId = b.flock.flock_id ?? uuidV5(`simulator-flock/${farm.tenant_id}/${farm.farm_id}/${b.barn_id}/${placedDay}`);
  return { flock_id: flockId, placed_day: placedDay };
}

export async function provisionFarm(pool: Pool, farm: FarmDescription, previous?: FarmState, now = new Date()): Promise<ProvisionResult> {
  const prior = previous && sameFarm(previous.farm, farm) ? previous : undefined;
  const today = localClock(now.toISOString(), farm.time_zone).day;
  const state: FarmState = { farm, flocks: {}, credentials: {} };
  let devicesProvisioned = 0;
  let flocksPlaced = 0;
  const active = new Set((await listDevices(pool, { includeRevoked: false })).map((d) => d.username));
  for (const b of farm.barns) {
    const f = resolveFlock(farm, b, prior, today);
    state.flocks[b.barn_id] = f;
    try {
      const placed = await placeFlock(
        pool,
        {
          tenant_id: farm.tenant_id,
          flock_id: f.flock_id,
          farm_id: farm.farm_id,
          barn_id: b.barn_id,
          placed_at: `${f.placed_day}T00:00:00.000Z`,
          species: breeds[b.flock.breed].species,
          breed: b.flock.breed,
          head_count: b.flock.head_count,
          age_at_placement_days: b.flock.age_at_placement_days,
        },
        { traceId: `simulator-provision-${farm.farm_id}`, actor: 'farmiq-simulator' },
      );
      if (placed.created) flocksPlaced++;
    } catch (err) {
      if (err instanceof FlockRefusal) throw new Error(`cannot place the simulated flock in ${farm.farm_id}/${b.barn_id}: ${err.message}`, { cause: err });
      throw err;
    }
    for (const d of barnDevices(b)) {
      const key = deviceKey(b.barn_id, d.deviceId);
      const kept = prior?.credentials[key];
      if (kept && active.has(kept.username)) {
        state.credentials[key] = kept;
        continue;
      }
      state.credentials[key] = await provisionDevice(pool, { tenantId: farm.tenant_id, farmId: farm.farm_id, barnId: b.barn_id, ...d });
      devicesProvisioned++;
    }
  }
  return { state, devicesProvisioned, flocksPlaced };
}

/**
 * The farm of SIMULATOR_FARM_FILE provisioned, its state kept in SIMULATOR_STATE_FILE, and the
 * broker told about devices that are new: what `farmiq simulator provision` and the demo run.
 */
export async function provisionConfiguredFarm(pool: Pool, s: Settings): Promise<ProvisionResult & { farm: FarmDescription; stateFile: string }> {
  const sim = simulatorSettings(s);
  const farm = loadFarmDescription(sim.farmFile);
  const result = await provisionFarm(pool, farm, readFarmState(sim.stateFile));
  writeFarmState(sim.stateFile, result.state);
  if (result.devicesProvisioned > 0) await refreshBrokerAuth(pool, s);
  return { ...result, farm, stateFile: sim.stateFile };
}
