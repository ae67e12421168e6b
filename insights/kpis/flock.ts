/**
 * What the flock KPIs are computed from: one flock (placement) of a barn, its daily losses, the
 * feed dispensed per farm-local day and the individual weighings. Plain data with explicit fields,
 * so every KPI is a pure function of them (docs/insights.md, "Flock KPIs").
 */

export interface Flock {
  flockId: string;
  /** The instant the animals were placed (ISO 8601 with offset). */
  placedAt: string;
  headPlaced: number;
  /** Age of the animals on the placement day, in days (0 for day-old chicks). */
  ageAtPlacementDays: number;
  species: string;
  /** Breed or line, e.g. 'ross_308', 'cobb_500'; selects the breed standard curve. */
  breed: string | null;
  /**
   * Mean weight at placement when weighed (flocks.placement_weight_kg, from flock.placed); null:
   * FCR takes the breed standard's weight at the age of placement and says so.
   */
  placementWeightKg?: number | null;
  /** The instant the barn was emptied, or null while the flock is in the barn. */
  depopulatedAt: string | null;
}

/** Losses of one farm-local day. Culls are animals removed on purpose (sick, lame, runts). */
export interface DailyLosses {
  day: string;
  deaths: number;
  culls: number;
  /** Weight of the animals lost that day, when weighed; else estimated from the weighings. */
  weightKg?: number | null;
}

export interface DailyFeedKg {
  day: string;
  kg: number;
}

/**
 * One weighing: a WeighVision session (one visit to the scale). `animalId` is set only when the
 * station identifies the animal (RFID, ear tag); without it a session is the unit that counts.
 */
export interface Weighing {
  sessionId: string;
  stationId: string;
  day: string;
  weightKg: number;
  animalId?: string | null;
}
