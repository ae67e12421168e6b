/**
 * Deterministic randomness keyed by what is being simulated: every draw comes from SHA-256 of
 * (run seed, a key such as `barn-1/sensor-1/temperature/2026-12-01T10:00:00.000Z`, a counter), so
 * the same farm, seed and time give the same value whatever window is played and in whatever
 * order — which is what lets a backfill re-run publish byte-identical messages.
 */
import { createHash } from 'node:crypto';

export class Draws {
  private block = Buffer.alloc(0);
  private used = 0;
  private counter = 0;

  constructor(
    private readonly seed: number,
    private readonly key: string,
  ) {}

  /** Uniform in [0, 1), 32 bits each. */
  uniform(): number {
    if (this.used + 4 > this.block.length) {
      this.block = createHash('sha256').update(`${this.seed}\u0000${this.key}\u0000${this.counter++}`).digest();
      this.used = 0;
    }
    const v = this.block.readUInt32LE(this.used);
    this.used += 4;
    return v / 0x1_0000_0000;
  }

  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Normal by Box–Muller. */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }
}
