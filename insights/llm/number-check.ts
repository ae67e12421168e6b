/**
 * "Numbers the LLM quotes must match the summary." Every number in an insight — each key metric's
 * value and every number written in its text — must be one of the feature summary's numbers, as
 * written or rounded: a quoted q matches a summary value v when |q − v| ≤ half a unit in q's last
 * written decimal place (so "61.2" matches 61.234 and "61" matches 61.4, but "62" does not).
 * Digit runs inside the summary's strings (dates, ids, names such as "barn-2") count as summary
 * numbers too, so an insight may name a day or a barn. A sign may be dropped ("fell 5 %" for −5).
 *
 * This catches invented or miscalculated figures; it cannot catch a real number attached to the
 * wrong thing, which is why the template writer stays the default.
 */
import type { FeatureSummary } from '../feature-summary';
import type { Insight } from '../insight-schema';

interface Quoted {
  value: number;
  decimals: number;
  text: string;
}

// Thousands-separated numbers first ("12,345.6"), then plain ones. A number glued to a preceding
// letter, digit or dot ("CO2", the "03" of "2026-03" is fine: it follows a hyphen) is not a quantity.
const numberPattern = /(?<![\p{L}\p{N}.])([-−]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)/gu;

function decimalsOf(s: string): number {
  const dot = s.indexOf('.');
  return dot === -1 ? 0 : s.length - dot - 1;
}

export function numbersInText(text: string): Quoted[] {
  const found: Quoted[] = [];
  for (const m of text.matchAll(numberPattern)) {
    const digits = m[2].replace(/,/g, '');
    const sign = m[1] ? -1 : 1;
    found.push({ value: sign * Number(digits), decimals: decimalsOf(digits), text: m[0] });
  }
  return found;
}

function quotedNumber(value: number): Quoted {
  // The shortest round-trip decimal form tells how precisely the model wrote it.
  const s = String(Math.abs(value));
  const decimals = /e/i.test(s) ? 20 : decimalsOf(s);
  return { value, decimals, text: String(value) };
}

/** Every number in the summary, sorted: numeric fields and digit runs of string fields. */
export function summaryNumbers(summary: FeatureSummary): number[] {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out.push(v);
    } else if (typeof v === 'string') {
      for (const m of v.matchAll(/\d+(?:\.\d+)?/g)) out.push(Number(m[0]));
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(walk);
    }
  };
  walk(summary);
  return out.sort((a, b) => a - b);
}

/** True when some allowed value lies in [lo, hi] (binary search over the sorted list). */
function anyBetween(sorted: readonly number[], lo: number, hi: number): boolean {
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (sorted[mid] < lo) a = mid + 1;
    else b = mid;
  }
  return a < sorted.length && sorted[a] <= hi;
}

function matches(sorted: readonly number[], q: Quoted): boolean {
  const half = 0.5 * 10 ** -Math.min(q.decimals, 12);
  const slack = 1e-9 * Math.max(1, Math.abs(q.value));
  const within = (x: number) => anyBetween(sorted, x - half - slack, x + half + slack);
  return within(q.value) || within(-q.value);
}

export interface NumberCheck {
  ok: boolean;
  /** Quoted numbers found nowhere in the summary (as written in the insight). */
  unmatched: string[];
  checked: number;
}

/** Checks every number the insight quotes against the summary. */
export function checkInsightNumbers(insight: Insight, summary: FeatureSummary): NumberCheck {
  const allowed = summaryNumbers(summary);
  const quoted: Quoted[] = [];
  const texts = [
    insight.title,
    insight.summary,
    ...insight.findings.map((f) => f.text),
    ...insight.recommendations.map((r) => r.text),
    ...insight.key_metrics.map((k) => k.label),
  ];
  for (const t of texts) quoted.push(...numbersInText(t));
  for (const k of insight.key_metrics) quoted.push(quotedNumber(k.value));
  const unmatched = quoted.filter((q) => !matches(allowed, q)).map((q) => q.text);
  return { ok: unmatched.length === 0, unmatched: [...new Set(unmatched)], checked: quoted.length };
}
