/** A breed table read between its points: piecewise-linear in age, flat beyond its ends. */
export type Curve = readonly (readonly [ageDays: number, value: number])[];

export function atAge(curve: Curve, ageDays: number): number {
  if (ageDays <= curve[0][0]) return curve[0][1];
  for (let i = 1; i < curve.length; i++) {
    const [a1, v1] = curve[i];
    if (ageDays <= a1) {
      const [a0, v0] = curve[i - 1];
      return v0 + ((v1 - v0) * (ageDays - a0)) / (a1 - a0);
    }
  }
  return curve[curve.length - 1][1];
}
