/**
 * Absolute limits per species and metric, each with where it comes from and whether it is law or
 * guidance (docs/insights.md, "Climate judgement", quotes the texts).
 *
 * Broilers — Council Directive 2007/43/EC, Annex II point 3 (binding where the keeper uses a
 * stocking density above 33 kg/m², Article 3(3)): the ventilation, heating and cooling keep
 *   (a) NH3 ≤ 20 ppm and CO2 ≤ 3 000 ppm measured at the level of the chickens' heads;
 *   (b) the inside temperature no more than 3 °C above the outside temperature when the outside
 *       temperature in the shade exceeds 30 °C;
 *   (c) the average relative humidity inside over 48 hours ≤ 70 % when the outside temperature is
 *       below 10 °C.
 * FarmIQ applies (a)–(c) to every broiler house as defaults, whatever its density: at 33 kg/m² or
 * less they are guidance, not law. Without an outside temperature, (b) cannot be judged and (c)
 * is applied as guidance (source id `…_3c_no_outside`), since the condition cannot be ruled out.
 *
 * Pigs — Council Directive 2008/120/EC and the general Directive 98/58/EC (Annex point 10: gas
 * concentrations, humidity and temperature "within limits which are not harmful") set no figure.
 * FarmIQ uses NH3 ≤ 20 ppm and CO2 ≤ 3 000 ppm, the figures of the German
 * Tierschutz-Nutztierhaltungsverordnung §26(3) (law in Germany) and of the UK Code of Practice for
 * the welfare of pigs (NH3 preferably below 10 ppm, not above 20 ppm): guidance elsewhere.
 *
 * Humidity, both species, outside (c): a 48-hour mean below 40 % (dust, dehydration) and, for
 * pigs, above 80 % (FarmIQ defaults within commonly published house ranges): guidance.
 */
import type { ClimateMetric } from './metrics';

export type LimitStatus = 'law' | 'guidance';

export interface AbsoluteLimit {
  /** Stable id of the rule, carried by every finding it raises. */
  id: string;
  metric: ClimateMetric;
  bound: 'max' | 'min';
  value: number;
  /** The limit is judged on the mean of the last `averagingHours` hours (1: each hour's mean). */
  averagingHours: number;
  /** The rule applies only while the outside temperature (mean over the same hours) is below this. */
  onlyWhenOutsideBelowC?: number;
  status: LimitStatus;
  source: string;
}

/** Inside may not exceed outside by more than `maxExcessC` while outside is above `outsideAboveC`. */
export interface OutsideExcessLimit {
  id: string;
  outsideAboveC: number;
  maxExcessC: number;
  status: LimitStatus;
  source: string;
}

export interface SpeciesLimits {
  absolute: readonly AbsoluteLimit[];
  /** Humidity rule used instead of the `onlyWhenOutsideBelowC` one when no outside temperature is known. */
  withoutOutside: readonly AbsoluteLimit[];
  outsideExcess: OutsideExcessLimit | null;
}

const broilerDirective = 'Council Directive 2007/43/EC, Annex II point 3';
const humidityFloor = (id: string): AbsoluteLimit => ({
  id,
  metric: 'humidity',
  bound: 'min',
  value: 40,
  averagingHours: 48,
  status: 'guidance',
  source: 'FarmIQ default: 48-hour mean relative humidity not below 40 %',
});

export const defaultLimits: Readonly<Record<'broiler' | 'swine', SpeciesLimits>> = {
  broiler: {
    absolute: [
      { id: 'eu_2007_43_annex_ii_3a_nh3', metric: 'nh3', bound: 'max', value: 20, averagingHours: 1, status: 'law', source: `${broilerDirective}(a)` },
      { id: 'eu_2007_43_annex_ii_3a_co2', metric: 'co2', bound: 'max', value: 3000, averagingHours: 1, status: 'law', source: `${broilerDirective}(a)` },
      {
        id: 'eu_2007_43_annex_ii_3c',
        metric: 'humidity',
        bound: 'max',
        value: 70,
        averagingHours: 48,
        onlyWhenOutsideBelowC: 10,
        status: 'law',
        source: `${broilerDirective}(c)`,
      },
      humidityFloor('farmiq_broiler_humidity_min'),
    ],
    withoutOutside: [
      {
        id: 'eu_2007_43_annex_ii_3c_no_outside',
        metric: 'humidity',
        bound: 'max',
        value: 70,
        averagingHours: 48,
        status: 'guidance',
        source: `${broilerDirective}(c), applied without an outside temperature`,
      },
    ],
    outsideExcess: { id: 'eu_2007_43_annex_ii_3b', outsideAboveC: 30, maxExcessC: 3, status: 'law', source: `${broilerDirective}(b)` },
  },
  swine: {
    absolute: [
      {
        id: 'pig_guidance_nh3',
        metric: 'nh3',
        bound: 'max',
        value: 20,
        averagingHours: 1,
        status: 'guidance',
        source: 'Directive 98/58/EC Annex point 10 (no figure); figure from TierSchNutztV §26(3) and the UK pig welfare code',
      },
      {
        id: 'pig_guidance_co2',
        metric: 'co2',
        bound: 'max',
        value: 3000,
        averagingHours: 1,
        status: 'guidance',
        source: 'Directive 98/58/EC Annex point 10 (no figure); figure from TierSchNutztV §26(3)',
      },
      {
        id: 'farmiq_pig_humidity_max',
        metric: 'humidity',
        bound: 'max',
        value: 80,
        averagingHours: 48,
        status: 'guidance',
        source: 'FarmIQ default: 48-hour mean relative humidity not above 80 %',
      },
      humidityFloor('farmiq_pig_humidity_min'),
    ],
    withoutOutside: [],
    outsideExcess: null,
  },
};

/** The limits of a species, or null for a species FarmIQ has none for. */
export function limitsFor(species: string): SpeciesLimits | null {
  return species === 'broiler' || species === 'swine' ? defaultLimits[species] : null;
}
