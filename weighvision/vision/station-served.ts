/**
 * Whether the vision model serves a WeighVision station: the species of the flock its barn holds
 * now is one the model's manifest declares (activities/weighvision/session.ts `visionServes`).
 * A pig model at a broiler barn answers false, so that session concludes from the scale alone and
 * its images never move the station's calibration.
 *
 * A barn with no current flock keeps the behaviour from before flocks existed: served (the one
 * shipped model, one species). A model that cannot be loaded answers false: nothing it estimated
 * can be vouched for, and the scale still weighs.
 */
import type { Queryable } from '../../db/transaction';
import { barnSpecies } from '../../flocks/barn-species';
import type { Logger } from '../../platform/logger';
import type { SessionAddress } from '../session-contract';

/** What this needs of the loaded model (vision-model.ts VisionModel). */
export interface SpeciesServed {
  serves(species: string): boolean;
}

export function visionServesStation(db: Queryable, model: () => Promise<SpeciesServed>, log?: Pick<Logger, 'warn' | 'info'>) {
  return async (station: SessionAddress): Promise<boolean> => {
    const species = await barnSpecies(db, station.tenantId, station.farmId, station.barnId);
    if (species === undefined) return true;
    let loaded: SpeciesServed;
    try {
      loaded = await model();
    } catch (err) {
      log?.warn({ err: (err as Error).message, sessionId: station.sessionId }, 'vision model unavailable: the session concludes without vision');
      return false;
    }
    const served = loaded.serves(species);
    if (!served)
      log?.info({ species, barnId: station.barnId, sessionId: station.sessionId }, 'the vision model does not serve this barn’s species: scale only');
    return served;
  };
}
