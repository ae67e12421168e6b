/**
 * The simulator's settings (SIMULATOR_* in config/settings.ts) with the shared ones it needs: the
 * broker, the edge's station listener and FARMIQ_HOME.
 */
import path from 'node:path';
import { repoRoot } from '../config/local-secrets';
import type { Settings } from '../config/settings';

export interface SimulatorSettings {
  farmFile: string;
  stateFile: string;
  seed: number;
  healthPort: number;
  stationUrl: string;
  mqttUrl: string;
}

const probeHost = (h: string) => (['0.0.0.0', '::', ''].includes(h) ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h);

/** Where the provisioned farm state lives unless SIMULATOR_STATE_FILE says otherwise. */
export const defaultSimulatorStateFile = (farmiqHome: string) => path.join(farmiqHome, 'simulator', 'state.json');

export function simulatorSettings(s: Settings): SimulatorSettings {
  return {
    farmFile: path.resolve(repoRoot, s.SIMULATOR_FARM_FILE),
    stateFile: s.SIMULATOR_STATE_FILE ?? defaultSimulatorStateFile(s.FARMIQ_HOME),
    seed: s.SIMULATOR_SEED,
    healthPort: s.SIMULATOR_HEALTH_PORT,
    stationUrl: s.SIMULATOR_STATION_URL ?? `http://${probeHost(s.EDGE_STATION_HTTP_HOST)}:${s.EDGE_STATION_HTTP_PORT}`,
    mqttUrl: s.MQTT_URL,
  };
}
