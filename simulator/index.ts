/** The simulator's API for the CLI (`farmiq simulator run|backfill|provision|excursion`) and the demo. */
export { loadFarmDescription, parseFarmDescription, type FarmDescription } from './farm-description';
export {
  addExcursion,
  clearExcursions,
  excursionsFileFor,
  excursionStatus,
  readExcursions,
  type ExcursionEntry,
  type ExcursionStatus,
  type NewExcursion,
} from './excursions';
export { handoverFileFor, readHandover, type Handover } from './handover';
export { FarmNotProvisioned, provisionedState, readFarmState, writeFarmState, type FarmState } from './farm-state';
export { provisionConfiguredFarm, provisionFarm, type ProvisionResult } from './provision';
export { Simulator, startOfUtcDay, type BackfillOptions, type Progress, type RunOptions, type SimulatorOptions } from './simulator';
export { simulatorSettings, type SimulatorSettings } from './simulator-settings';
export type { BarnCounts, SimulationCounts } from './counts';
