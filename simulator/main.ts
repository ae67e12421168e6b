/**
 * farmiq-simulator: the demo farm's devices as their own process (docs/simulator.md). Reads the
 * provisioned farm state (flocks and device credentials; `farmiq simulator provision` writes it)
 * and plays the farm live through the broker and the station listener until SIGTERM.
 *   npx tsx simulator/main.ts
 */
import { settings } from '../config/settings';
import { HealthServer } from '../platform/health';
import { Lifecycle } from '../platform/lifecycle';
import { logger } from '../platform/logger';
import { excursionsFileFor } from './excursions';
import { loadFarmDescription } from './farm-description';
import { provisionedState } from './farm-state';
import { handoverFileFor } from './handover';
import { Simulator } from './simulator';
import { simulatorSettings } from './simulator-settings';

async function main(): Promise<void> {
  const s = settings();
  const sim = simulatorSettings(s);
  const log = logger('simulator');
  const lifecycle = new Lifecycle(log, s.SHUTDOWN_GRACE_SECONDS);
  lifecycle.installSignalHandlers();

  const farm = loadFarmDescription(sim.farmFile);
  const state = provisionedState(farm, sim.stateFile);
  const simulator = new Simulator({
    state,
    seed: sim.seed,
    mqttUrl: sim.mqttUrl,
    stationHttpBase: sim.stationUrl,
    log,
    excursionsFile: excursionsFileFor(sim.stateFile),
    handoverFile: handoverFileFor(sim.stateFile),
  });

  const health = new HealthServer('simulator', sim.healthPort);
  health.addCheck('devices', () => ({ ok: simulator.healthy() }));
  health.addCheck('sending', () => ({ ok: true, detail: JSON.stringify({ totals: simulator.totals, lastError: simulator.lastError }) }));
  await health.start();
  lifecycle.onStop('health', () => health.stop());

  const stop = new AbortController();
  const running = simulator.run({ signal: stop.signal });
  lifecycle.onStop('simulator', async () => {
    health.setPhase('stopping');
    stop.abort();
    await running;
    await simulator.close();
  });
  health.setPhase('ready');
  log.info({ health: `${health.address}/health`, farm: farm.farm_id, barns: farm.barns.length, seed: sim.seed }, 'simulator running');
}

main().catch((err) => {
  logger('simulator').fatal({ err: (err as Error).message }, 'simulator failed to start');
  process.exit(1);
});
