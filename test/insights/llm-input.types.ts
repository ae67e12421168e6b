/**
 * Compile-time proof of the LLM guardrail (DESIGN §4, spec §5.3): the LLM providers, the analyzer
 * and the analyzeWithLlm activity accept the feature summary and nothing else. Each
 * `@ts-expect-error` line below must be a type error; if a change ever let raw telemetry through,
 * the directive would be unused and `tsc` (npx tsc --noEmit -p .) fails. Checked by
 * test/insights/llm-input-types.test.ts, which also proves that removing the directives makes
 * these lines errors. Not a jest test file: it is only ever compiled, never run.
 */
import type { createInsightActivities } from '../../activities/insights/generation';
import type { FeatureSummary } from '../../insights/feature-summary';
import type { InsightAnalyzer } from '../../insights/llm/analyzer';
import type { InsightWriter, WriteContext } from '../../insights/llm/writer';

/** A row of telemetry_raw, as a query would return it. */
interface TelemetryRawRow {
  tenant_id: string;
  event_id: string;
  farm_id: string;
  barn_id: string;
  device_id: string;
  metric: string;
  value: number;
  unit: string;
  occurred_at: Date;
}

/** A row of telemetry_rollups (aggregated, but still per device and minute: not a summary either). */
interface RollupRow {
  device_id: string;
  metric: string;
  bucket_start: Date;
  value_mean: number;
  reading_count: number;
}

type AnalyzeWithLlm = ReturnType<typeof createInsightActivities>['analyzeWithLlm'];

export function guardrailTypeChecks(
  writer: InsightWriter,
  analyzer: InsightAnalyzer,
  analyzeWithLlm: AnalyzeWithLlm,
  summary: FeatureSummary,
  readings: TelemetryRawRow[],
  rollups: RollupRow[],
  ctx: WriteContext,
): void {
  // The one thing that is allowed.
  void writer.write(summary, ctx);
  void analyzer.analyze(summary, ctx);
  void analyzeWithLlm({ summary, requestId: ctx.requestId });

  // @ts-expect-error raw readings are not a feature summary
  void writer.write(readings, ctx);
  // @ts-expect-error rollup rows are not a feature summary
  void writer.write(rollups, ctx);
  // @ts-expect-error a summary with readings added on is refused (excess property)
  void writer.write({ ...summary, readings }, ctx);
  // @ts-expect-error raw readings are not a feature summary
  void analyzer.analyze(readings, ctx);
  // @ts-expect-error a summary with readings added on is refused (excess property)
  void analyzer.analyze({ ...summary, raw_telemetry: readings }, ctx);
  // @ts-expect-error the activity's summary must be a FeatureSummary
  void analyzeWithLlm({ summary: readings, requestId: ctx.requestId });
  // @ts-expect-error the activity takes no other data input beside the summary
  void analyzeWithLlm({ summary, requestId: ctx.requestId, readings });
}
