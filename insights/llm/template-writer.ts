/**
 * The deterministic template writer: the default generator and the fallback whenever an LLM
 * answer is missing, late or rejected. It needs no network, gives the same insight for the same
 * summary, and quotes only the summary's own numbers (rounded), so its output always passes the
 * number check an LLM's must pass (test/insights/template-writer.test.ts).
 */
import type { Anomaly, BarnFeatures, FeatureSummary } from '../feature-summary';
import type { Insight } from '../insight-schema';
import type { InsightWriter } from './writer';

type Finding = Insight['findings'][number];
type Recommendation = Insight['recommendations'][number];
type KeyMetric = Insight['key_metrics'][number];

/** Fixed-point text of a summary number (rounding only, so the number check accepts it). */
function fmt(value: number, decimals: number): string {
  const r = Math.round(value * 10 ** decimals) / 10 ** decimals;
  return r.toFixed(decimals);
}

function barnLabel(b: BarnFeatures): string {
  return b.barn_name && b.barn_name !== b.barn_id ? `${b.barn_id} (${b.barn_name})` : b.barn_id;
}

/** Thresholds the template uses to call something a warning; docs/insights.md lists them. */
export const templateThresholds = {
  comfortWarningSharePct: 10,
  comfortCriticalSharePct: 25,
  uniformityWarningCvPct: 10,
  climateCoverageWarningPct: 90,
} as const;

function climateFindings(b: BarnFeatures): { findings: Finding[]; recs: Recommendation[] } {
  const findings: Finding[] = [];
  const recs: Recommendation[] = [];
  const t = b.climate.temperature_c;
  const h = b.climate.humidity_pct;
  if (t) {
    const parts = [`Temperature averaged ${fmt(t.mean, 1)} °C (min ${fmt(t.min, 1)}, max ${fmt(t.max, 1)})`];
    if (h) parts.push(`humidity ${fmt(h.mean, 1)} % (min ${fmt(h.min, 1)}, max ${fmt(h.max, 1)})`);
    findings.push({ severity: 'info', topic: 'climate', barn_id: b.barn_id, text: `${barnLabel(b)}: ${parts.join('; ')}.` });
  }
  const c = b.climate.comfort;
  if (c && c.share_outside_pct !== null) {
    const share = c.share_outside_pct;
    const severity = share >= templateThresholds.comfortCriticalSharePct ? 'critical' : share >= templateThresholds.comfortWarningSharePct ? 'warning' : 'info';
    const band = c.band_at_end ? ` (comfort band now ${fmt(c.band_at_end.min_c, 0)}–${fmt(c.band_at_end.max_c, 0)} °C)` : '';
    findings.push({
      severity,
      topic: 'climate',
      barn_id: b.barn_id,
      text: `${barnLabel(b)}: ${c.hours_outside} of ${c.hours_evaluated} hours outside the comfort band for the animals' age (${fmt(share, 1)} %; ${c.hours_below} too cold, ${c.hours_above} too warm)${band}.`,
    });
    if (severity !== 'info') {
      const cause = c.hours_above >= c.hours_below ? 'ventilation and cooling' : 'heating and draughts';
      recs.push({
        priority: severity === 'critical' ? 'high' : 'medium',
        text: `Check ${cause} in ${barnLabel(b)}: ${fmt(share, 1)} % of hours were outside the comfort band.`,
      });
    }
  }
  return { findings, recs };
}

function growthFindings(b: BarnFeatures): { findings: Finding[]; recs: Recommendation[]; metrics: KeyMetric[] } {
  const findings: Finding[] = [];
  const recs: Recommendation[] = [];
  const metrics: KeyMetric[] = [];
  const g = b.growth;
  if (b.feed.per_animal_per_day_kg !== null) {
    findings.push({
      severity: 'info',
      topic: 'feed',
      barn_id: b.barn_id,
      text: `${barnLabel(b)}: ${fmt(b.feed.total_kg, 1)} kg of feed over ${b.feed.feed_days} days, ${fmt(b.feed.per_animal_per_day_kg, 3)} kg per animal per day.`,
    });
    metrics.push({ label: 'Feed per animal per day', value: Number(fmt(b.feed.per_animal_per_day_kg, 3)), unit: 'kg', barn_id: b.barn_id });
  }
  if (g.mean_weight_kg !== null) {
    const parts = [`mean weight ${fmt(g.mean_weight_kg, 3)} kg on ${g.last_day}`];
    if (g.adg_g_per_day !== null) parts.push(`average daily gain ${fmt(g.adg_g_per_day, 1)} g`);
    if (g.fcr !== null) parts.push(`FCR ${fmt(g.fcr, 2)}`);
    findings.push({ severity: 'info', topic: 'growth', barn_id: b.barn_id, text: `${barnLabel(b)}: ${parts.join(', ')}.` });
    metrics.push({ label: 'Mean weight', value: Number(fmt(g.mean_weight_kg, 3)), unit: 'kg', barn_id: b.barn_id });
    if (g.adg_g_per_day !== null) metrics.push({ label: 'Average daily gain', value: Number(fmt(g.adg_g_per_day, 1)), unit: 'g/day', barn_id: b.barn_id });
    if (g.fcr !== null) metrics.push({ label: 'FCR', value: Number(fmt(g.fcr, 2)), unit: 'kg/kg', barn_id: b.barn_id });
  }
  if (g.uniformity) {
    const u = g.uniformity;
    const warn = u.cv_pct > templateThresholds.uniformityWarningCvPct;
    findings.push({
      severity: warn ? 'warning' : 'info',
      topic: 'uniformity',
      barn_id: b.barn_id,
      text: `${barnLabel(b)}: uniformity CV ${fmt(u.cv_pct, 1)} %, ${fmt(u.within_band_pct, 1)} % of ${u.weighed} animals within ±${fmt(u.band_pct, 0)} % of the mean on ${u.day}.`,
    });
    metrics.push({ label: 'Uniformity CV', value: Number(fmt(u.cv_pct, 1)), unit: '%', barn_id: b.barn_id });
    if (warn) {
      recs.push({
        priority: 'medium',
        text: `Uniformity in ${barnLabel(b)} is low (CV ${fmt(u.cv_pct, 1)} %): check feeder and drinker space and access, and sort or grade if the flock allows.`,
      });
    }
  }
  if (g.days_to_target !== null) {
    const text =
      g.days_to_target === 0
        ? `${barnLabel(b)}: the target weight of ${fmt(g.target_weight_kg, 2)} kg has been reached.`
        : `${barnLabel(b)}: about ${fmt(g.days_to_target, 1)} days to the target weight of ${fmt(g.target_weight_kg, 2)} kg (around ${g.target_reached_on}).`;
    findings.push({ severity: 'info', topic: 'forecast', barn_id: b.barn_id, text });
  }
  const f = b.forecast;
  if (f) {
    const feed = f.feed_needed_kg !== null ? `, needing about ${fmt(f.feed_needed_kg, 0)} kg more feed` : '';
    findings.push({
      severity: 'info',
      topic: 'forecast',
      barn_id: b.barn_id,
      text: `${barnLabel(b)}: the fitted growth curve forecasts ${fmt(f.weight_at_forecast_kg, 3)} kg on ${f.forecast_date}${feed}.`,
    });
    metrics.push({ label: `Forecast weight ${f.forecast_date}`, value: Number(fmt(f.weight_at_forecast_kg, 3)), unit: 'kg', barn_id: b.barn_id });
  }
  return { findings, recs, metrics };
}

const findingWords: Record<Extract<Anomaly, { kind: 'climate_finding' }>['code'], string> = {
  above_limit: 'above its limit',
  below_limit: 'below its limit',
  above_band: "above the comfort band for the animals' age",
  below_band: "below the comfort band for the animals' age",
  sustained_shift: "shifted away from the barn's own recent profile",
  spike: "spiked away from the barn's own recent profile",
  feed_outage: 'no feed',
  feed_drop: 'a sharp drop in feed',
};

/** A climate judgement finding (domain/climate) in words; its numbers are the summary's own. */
function climateFindingText(a: Extract<Anomaly, { kind: 'climate_finding' }>): { finding: Finding; rec: Recommendation | null } {
  const unit = a.unit === 'C' ? '°C' : a.unit;
  const d = (v: number) => fmt(v, Number.isInteger(v) ? 0 : 2);
  const usual = a.baseline !== null ? ` (usual for this barn: ${d(a.baseline)} ${unit})` : '';
  const what = a.metric === 'feed' ? findingWords[a.code] : `${a.metric} ${findingWords[a.code]}`;
  // Shifts and spikes are measured as a deviation from the barn's own baseline, not as a level.
  const relative = a.code === 'spike' || a.code === 'sustained_shift';
  const measured = relative
    ? `off by ${d(a.value)} ${unit} (threshold ${d(a.threshold)} ${unit})${usual}`
    : `${d(a.value)} ${unit} against ${d(a.threshold)} ${unit}${usual}`;
  const feed = a.metric === 'feed';
  const critical = feed ? a.code === 'feed_outage' : a.status === 'law' || a.code === 'above_band' || a.code === 'below_band';
  return {
    finding: {
      severity: critical ? 'critical' : 'warning',
      topic: 'anomaly',
      barn_id: a.barn_id,
      text: `${a.barn_id}: ${what} from ${a.from} to ${a.to} — ${measured}; rule ${a.source} (${a.status}).`,
    },
    rec: feed
      ? {
          priority: 'high',
          text: `Check feeders, feed lines, silo and water supply in ${a.barn_id}: a feed outage or sudden fall in intake is often the first sign of a problem.`,
        }
      : { priority: critical ? 'high' : 'medium', text: `Check the ventilation, heating and ${a.metric} sensors of ${a.barn_id} for the flagged period.` },
  };
}

function anomalyText(a: Anomaly): { finding: Finding; rec: Recommendation | null } {
  switch (a.kind) {
    case 'climate_finding':
      return climateFindingText(a);
    case 'growth_flattening':
      return {
        finding: {
          severity: 'critical',
          topic: 'growth',
          barn_id: a.barn_id,
          text: `${a.barn_id}: growth is flattening — ${fmt(a.observed_gain_kg, 3)} kg gained from ${a.from_day} to ${a.to_day} against ${fmt(a.expected_gain_kg, 3)} kg expected from the earlier curve (${fmt(a.ratio_pct, 1)} %).`,
        },
        rec: {
          priority: 'high',
          text: `Investigate health, feed quality and climate in ${a.barn_id}: recent gain is ${fmt(a.ratio_pct, 1)} % of what the growth curve expects.`,
        },
      };
    case 'scale_vision_disagreement':
      return {
        finding: {
          severity: 'warning',
          topic: 'anomaly',
          barn_id: a.barn_id,
          text: `${a.barn_id}: station ${a.station_id} scale and camera disagree by ${fmt(a.median_difference_pct, 1)} % (median over ${a.sessions} sessions; ${fmt(a.share_over_threshold_pct, 1)} % of sessions beyond ±${fmt(a.threshold_pct, 0)} %).`,
        },
        rec: { priority: 'medium', text: `Recalibrate the scale of station ${a.station_id} and check its camera view.` },
      };
  }
}

export function writeTemplateInsight(summary: FeatureSummary): Insight {
  const findings: Finding[] = [];
  const recommendations: Recommendation[] = [];
  const keyMetrics: KeyMetric[] = [];

  for (const b of summary.barns) {
    const climate = climateFindings(b);
    const growth = growthFindings(b);
    findings.push(...climate.findings, ...growth.findings);
    recommendations.push(...climate.recs, ...growth.recs);
    keyMetrics.push(...growth.metrics);
    if (b.climate.comfort) keyMetrics.push({ label: 'Hours outside comfort band', value: b.climate.comfort.hours_outside, unit: 'h', barn_id: b.barn_id });
  }
  for (const a of summary.anomalies) {
    const { finding, rec } = anomalyText(a);
    findings.push(finding);
    if (rec) recommendations.push(rec);
  }
  const q = summary.data_quality;
  if (q.climate_coverage_pct !== null && q.climate_coverage_pct < templateThresholds.climateCoverageWarningPct) {
    findings.push({
      severity: 'warning',
      topic: 'data_quality',
      barn_id: null,
      text: `Climate data covers ${fmt(q.climate_coverage_pct, 1)} % of the barn-hours in the window; KPIs for the missing hours are unknown.`,
    });
    recommendations.push({ priority: 'low', text: 'Check sensor connectivity and the edge sync: part of the window has no climate data.' });
  }

  const { scope, farm } = summary;
  const severityRank = { critical: 0, warning: 1, info: 2 } as const;
  const priorityRank = { high: 0, medium: 1, low: 2 } as const;
  findings.sort((a, b) => severityRank[a.severity] - severityRank[b.severity]);
  recommendations.sort((a, b) => priorityRank[a.priority] - priorityRank[b.priority]);
  const attention = findings.some((f) => f.severity !== 'info');
  const where = scope.barn_id ? `barn ${scope.barn_id}` : `${farm.barns} barns`;

  return {
    title: `${scope.farm_name}: ${attention ? 'points need attention' : 'no issues found'} (${scope.window.from.slice(0, 10)} to ${scope.window.to.slice(0, 10)})`,
    summary:
      `Over ${fmt(scope.window.days, 1)} days, ${where} with ${farm.animals} animals used ${fmt(farm.feed_total_kg, 1)} kg of feed and spent ` +
      `${farm.hours_outside_comfort} barn-hours outside the comfort band; ${farm.anomalies} anomalies were detected.`,
    findings: findings.slice(0, 40),
    recommendations: recommendations.slice(0, 12),
    key_metrics: keyMetrics.slice(0, 40),
  };
}

export const templateWriter: InsightWriter = {
  generator: 'template',
  model: null,
  async write(summary) {
    return writeTemplateInsight(summary);
  },
};
