/** A breed standard growth curve as shipped: body weight at ages, with where it came from. */
export interface StandardCurve {
  /** Key a flock's breed selects it by, e.g. 'ross_308'. */
  key: string;
  species: 'broiler' | 'swine';
  title: string;
  /** The public document, its edition/year. */
  source: string;
  /** What was transcribed and how exactly. */
  transcription: string;
  /** ± % within which each point is believed to match the source table. */
  tolerancePct: number;
  /** Age in days → mean body weight in kg, ascending by age. */
  points: readonly { ageDays: number; weightKg: number }[];
}
