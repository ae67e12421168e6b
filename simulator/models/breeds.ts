/**
 * The breed figures the simulator grows its animals by: live weight, daily feed intake per head,
 * daily mortality and the house temperature set-point, each by age in days. Broiler figures are
 * rounded from the Ross 308 as-hatched performance objectives and its brooding temperature table;
 * the pig figures are a typical grow-finish line (placed at ~70 days, ~30 kg; out at ~180 days,
 * ~130 kg) with the finishing temperatures of common guidelines (22 °C falling to 18 °C).
 */
import type { Curve } from './curve';

export interface Breed {
  species: 'broiler' | 'swine';
  /** Live weight, kg. */
  weightKg: Curve;
  /** Feed eaten per head and day, kg. */
  feedKgPerHeadDay: Curve;
  /** Share of the flock dying per day. */
  dailyMortality: Curve;
  /** The house temperature the climate controller aims at, °C. */
  setPointC: Curve;
  /** Coefficient of variation of weight within the flock. */
  weightCv: number;
  feedType: (ageDays: number) => string;
}

const ross308: Breed = {
  species: 'broiler',
  weightKg: [
    [0, 0.042],
    [7, 0.19],
    [14, 0.48],
    [21, 0.95],
    [28, 1.55],
    [35, 2.2],
    [42, 2.9],
    [49, 3.5],
  ],
  feedKgPerHeadDay: [
    [0, 0.012],
    [7, 0.035],
    [14, 0.075],
    [21, 0.12],
    [28, 0.16],
    [35, 0.195],
    [42, 0.22],
    [49, 0.23],
  ],
  dailyMortality: [
    [0, 0.003],
    [7, 0.001],
    [35, 0.0008],
    [49, 0.0015],
  ],
  setPointC: [
    [0, 33],
    [7, 29],
    [14, 26],
    [21, 23],
    [28, 21],
    [35, 20],
  ],
  weightCv: 0.09,
  feedType: (age) => (age < 11 ? 'starter' : age < 25 ? 'grower' : 'finisher'),
};

const growFinishPig: Breed = {
  species: 'swine',
  weightKg: [
    [70, 30],
    [100, 60],
    [130, 90],
    [160, 115],
    [180, 130],
  ],
  feedKgPerHeadDay: [
    [70, 1.4],
    [100, 2.1],
    [130, 2.6],
    [160, 2.9],
    [180, 3.0],
  ],
  dailyMortality: [
    [70, 0.0004],
    [180, 0.0003],
  ],
  setPointC: [
    [70, 22],
    [130, 20],
    [180, 18],
  ],
  weightCv: 0.08,
  feedType: (age) => (age < 110 ? 'grower' : 'finisher'),
};

export const breeds: Readonly<Record<string, Breed>> = {
  'ross-308': ross308,
  'cobb-500': ross308,
  'grow-finish': growFinishPig,
};

export const breedNames = Object.keys(breeds);
