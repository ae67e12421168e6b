/** The breed standard curves FarmIQ ships, by key (docs/insights.md, "Breed standard"). */
import { cobb500 } from './cobb-500';
import { pigReference } from './pig-reference';
import { ross308 } from './ross-308';
import type { StandardCurve } from './standard-curve';

export type { StandardCurve } from './standard-curve';

export const standardCurves: readonly StandardCurve[] = [ross308, cobb500, pigReference];
