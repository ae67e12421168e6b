/**
 * Judges the rules against what ingest accepted (docs/alarm-rules.md). The MQTT bridge hands it
 * the accepted, deduplicated readings of each committed batch; the minute sweep hands it the
 * time-based observations. Per (rule, place) the condition machine (condition.ts) decides; a
 * raise is a signalWithStart of the alarm workflow (alarms/alarm-contract.ts), a clear a signal.
 *
 * The order matters for crashes: a condition whose step carries a raise or clear is written
 * (alarm_conditions) only after Temporal took the signal, so a crash in between re-sends the same
 * raise (same workflow id, same alarm id from the condition's start), which the open workflow
 * ignores. A Temporal outage never blocks ingest: the bridge does not wait for the evaluator, the
 * failed transitions are kept and retried every few seconds (or re-judged by the next reading),
 * and while Temporal is known to be away no call is tried inline at all.
 *
 * Readings older than the live window (history, a backfill) and more than five minutes in the
 * future are not judged. No reading, however odd, throws out of here.
 */
import { WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { uuidV5 } from '../domain/ids';
import type { AlarmRuleSpec } from '../domain/downlink/commands';
import { farmiqBarn, farmiqFarm, farmiqRule, farmiqStatus, farmiqTenant } from '../domain/temporal/search-attributes';
import { alarmWorkflowId } from '../domain/temporal/workflow-ids';
import { isIdentifier } from '../domain/contracts/identifiers';
import type { Logger } from '../platform/logger';
import { alarmWorkflowType, clearSignal, raiseSignal, type AlarmClear, type AlarmInput, type AlarmRaise, type AlarmWorkflow } from './alarm-contract';
import { normalCondition, stepCondition, type ConditionRule, type ConditionState, type ConditionStep, type Observation } from './condition';
import { barnFlocks } from './flock-ages';
import { conditionKeyOf, farmRules, loadConditions, saveConditions, type ConditionKey } from './rule-store';
import { alarmMeasure, alarmSummary, appliesAt, conditionRuleAt, escalationLadder, farmPlace, watchesReading, type BarnFlock } from './rules';

/** One reading ingest accepted (deduplicated) in a committed batch. */
export interface AcceptedReading {
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  metric: string;
  value: number;
  unit: string;
  /** ISO time the device measured it. */
  ts: string;
}

/** How raises and clears reach the alarm workflows. */
export interface ConditionSignaller {
  raise(workflowId: string, input: AlarmInput): Promise<void>;
  clear(workflowId: string, clear: AlarmClear): Promise<void>;
}

export function temporalConditionSignaller(client: Client, taskQueue: string): ConditionSignaller {
  return {
    async raise(workflowId, input) {
      await client.workflow.signalWithStart<AlarmWorkflow, [AlarmRaise]>(alarmWorkflowType, {
        workflowId,
        taskQueue,
        args: [input],
        signal: raiseSignal,
        signalArgs: [input.raise],
        // A raise while the alarm is open lands in it (and is ignored there); once it has ended, a new run.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: farmiqTenant, value: input.tenantId },
          { key: farmiqFarm, value: input.farmId },
          ...(input.barnId !== undefined ? [{ key: farmiqBarn, value: input.barnId }] : []),
          { key: farmiqRule, value: input.ruleId },
          { key: farmiqStatus, value: 'raised' },
        ],
        staticSummary: input.raise.summary,
      });
    },
    async clear(workflowId, clear) {
      try {
        await client.workflow.getHandle(workflowId).signal(clearSignal, clear);
      } catch (err) {
        // Already ended (cleared, or never started): nothing is open to clear.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },
  };
}

/** What judging one observation of a rule at a place gives: the condition's next state, perhaps a signal. */
export interface Judgement {
  key: ConditionKey;
  rule: AlarmRuleSpec;
  cond: ConditionRule;
  step: ConditionStep;
  prev: ConditionState;
  obs: Observation;
  metric?: string;
  deviceId?: string;
  unit?: string;
}

export interface Observed {
  key: ConditionKey;
  rule: AlarmRuleSpec;
  cond: ConditionRule;
  obs: Observation;
  metric?: string;
  deviceId?: string;
  unit?: string;
}

/**
 * Steps each key's machine through its observations in time order, from `prev`. A key stops at
 * its first transition: the rest of its observations are judged next time, from the state the
 * signal left, so one call never carries two signals for one alarm.
 */
export function judge(observed: readonly Observed[], prev: ReadonlyMap<string, ConditionState>): Judgement[] {
  const byKey = new Map<string, Observed[]>();
  for (const o of observed) {
    const k = conditionKeyOf(o.key);
    const list = byKey.get(k);
    if (list) list.push(o);
    else byKey.set(k, [o]);
  }
  const out: Judgement[] = [];
  for (const [k, list] of byKey) {
    list.sort((a, b) => Date.parse(a.obs.at) - Date.parse(b.obs.at));
    const start = prev.get(k) ?? normalCondition;
    let state = start;
    let last: Judgement | undefined;
    for (const o of list) {
      const step = stepCondition(o.cond, state, o.obs);
      last = { ...o, step, prev: start };
      state = step.state;
      if (step.transition) break;
    }
    if (last && (last.step.transition || JSON.stringify(last.step.state) !== JSON.stringify(start))) out.push(last);
  }
  return out;
}

export function workflowIdOf(key: ConditionKey): string {
  return alarmWorkflowId(key.tenantId, key.farmId, key.place === farmPlace ? undefined : key.place, key.ruleId);
}

/** The raise a judgement carries, with its alarm id named from the workflow id and the condition's start. */
export function raiseOf(j: Judgement, now: Date): AlarmInput {
  const workflowId = workflowIdOf(j.key);
  const conditionSince = j.step.state.conditionSince ?? j.obs.at;
  const barnId = j.key.place === farmPlace ? undefined : j.key.place;
  const value = j.step.judged;
  const measure = alarmMeasure(j.rule, value, j.cond.threshold, j.unit);
  const raise: AlarmRaise = {
    alarmId: uuidV5(`${workflowId}|${conditionSince}`),
    ruleKind: j.rule.kind,
    severity: j.rule.severity,
    ...(j.metric !== undefined ? { metric: j.metric } : {}),
    ...(j.deviceId !== undefined ? { deviceId: j.deviceId } : {}),
    ...(measure.value !== undefined ? { value: measure.value } : {}),
    threshold: measure.threshold,
    // The event's unit field holds 32 characters; a device's own unit may be longer.
    ...(measure.unit ? { unit: measure.unit.slice(0, 32) } : {}),
    conditionSince,
    raisedAt: now.toISOString(),
    summary: alarmSummary(j.rule, j.key.place, value, j.cond.threshold, j.unit),
    ladder: escalationLadder(j.rule),
  };
  return { tenantId: j.key.tenantId, farmId: j.key.farmId, ...(barnId !== undefined ? { barnId } : {}), ruleId: j.key.ruleId, raise };
}

/** The alarm a condition raised (stored with it; else named again from its start, as the raise named it). */
export function openAlarmId(key: ConditionKey, state: ConditionState): string {
  return state.alarmId ?? uuidV5(`${workflowIdOf(key)}|${state.conditionSince ?? ''}`);
}

/**
 * A raise straight from normal (no raise delay) has no stored start yet. It is stored as
 * pending_raise first, so a crash or an outage before the raise was recorded re-sends the raise
 * with the same start, hence the same alarm id, which the open alarm recognises as its own.
 */
export function unstoredStarts(judgements: readonly Judgement[]): (ConditionKey & { state: ConditionState })[] {
  return judgements
    .filter((j) => j.step.transition === 'raise' && !(j.prev.phase === 'pending_raise' && j.prev.conditionSince === j.step.state.conditionSince))
    .map((j) => ({ ...j.key, state: { ...j.step.state, phase: 'pending_raise' as const } }));
}

/** Sends a judgement's signal (if any) and returns the state to store. */
export async function signalJudgement(signaller: ConditionSignaller, j: Judgement, now: Date): Promise<ConditionState> {
  if (j.step.transition === 'raise') {
    const input = raiseOf(j, now);
    await signaller.raise(workflowIdOf(j.key), input);
    return { ...j.step.state, alarmId: input.raise.alarmId };
  }
  if (j.step.transition === 'clear') {
    const alarmId = openAlarmId(j.key, j.prev);
    const { value } = alarmMeasure(j.rule, j.step.judged, j.cond.threshold, j.unit);
    await signaller.clear(workflowIdOf(j.key), {
      alarmId,
      reason: 'condition',
      ...(value !== undefined ? { value } : {}),
      at: now.toISOString(),
    });
  }
  return j.step.state;
}

export interface EvaluatorOptions {
  /** ALARM_LIVE_WINDOW_SECONDS: readings older than this are history and never raise. */
  liveWindowSeconds: number;
  /** Readings dated further than this in the future are not judged. */
  futureToleranceSeconds?: number;
  /** ALARM_RULES_REFRESH_SECONDS: a farm's rules and flocks are reloaded at least this often. */
  rulesRefreshSeconds?: number;
  /** ALARM_RETRY_SECONDS: failed signals are retried this often; Temporal is not tried inline meanwhile. */
  retrySeconds?: number;
  /** Readings waiting for the evaluator at most; past it a batch is not judged (and logged). */
  maxQueuedReadings?: number;
  now?: () => Date;
}

export interface EvaluationResult {
  judged: number;
  raised: number;
  cleared: number;
  /** Signals that failed and wait for the retry. */
  deferred: number;
  ignored: number;
}

interface FarmContext {
  rules: AlarmRuleSpec[];
  flocks: Map<string, BarnFlock>;
  loadedAt: number;
}

export class AlarmEvaluator {
  private readonly farms = new Map<string, FarmContext>();
  private readonly retries = new Map<string, Judgement>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Committed batches not judged yet, judged together by the next round (see submit). */
  private pending: (readonly AcceptedReading[])[] = [];
  private pendingReadings = 0;
  private draining = false;
  private temporalAwayUntil = 0;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => Date;

  constructor(
    private readonly pool: Pool,
    private readonly signaller: ConditionSignaller,
    private readonly opts: EvaluatorOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * After a commit: judged in the background, in commit order; never throws, never waits. The
   * batches that commit while a round is being judged are judged together in the next round: a
   * round costs the same few queries for one batch or fifty, so at 2,000 readings/s the evaluator
   * keeps up instead of queueing a round per batch (bench alarms).
   */
  submit(readings: readonly AcceptedReading[]): void {
    if (this.stopped || readings.length === 0) return;
    if (this.pendingReadings + readings.length > (this.opts.maxQueuedReadings ?? 200_000)) {
      this.log.warn({ readings: readings.length }, 'alarm evaluator behind; a batch was not judged');
      return;
    }
    this.pending.push(readings);
    this.pendingReadings += readings.length;
    if (this.draining) return;
    this.draining = true;
    void this.run(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.stopped) {
        const round = this.pending.flat();
        this.pending = [];
        this.pendingReadings = 0;
        await this.evaluate(round);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Settles once everything submitted so far has been judged. */
  async idle(): Promise<void> {
    await this.run(() => Promise.resolve());
  }

  /** A rule of this farm changed here (the operator API, the downlink): reload at the next reading. */
  invalidate(tenantId: string, farmId: string): void {
    this.farms.delete(`${tenantId}|${farmId}`);
  }

  /** Judges a batch's readings; resolves when its signals were sent (or deferred) and conditions stored. */
  async evaluate(readings: readonly AcceptedReading[]): Promise<EvaluationResult> {
    const result: EvaluationResult = { judged: 0, raised: 0, cleared: 0, deferred: 0, ignored: 0 };
    const now = this.now();
    const observed: Observed[] = [];
    const live = readings.filter((r) => this.isLive(r, now));
    result.ignored = readings.length - live.length;
    const byFarm = new Map<string, AcceptedReading[]>();
    for (const r of live) {
      const k = `${r.tenantId}|${r.farmId}`;
      const list = byFarm.get(k);
      if (list) list.push(r);
      else byFarm.set(k, [r]);
    }
    for (const [k, list] of byFarm) {
      let ctx: FarmContext;
      try {
        ctx = await this.farmContext(k, list[0].tenantId, list[0].farmId, now);
      } catch (err) {
        this.log.error({ err: (err as Error).message, farm: k }, 'could not load alarm rules; readings not judged');
        continue;
      }
      for (const r of list) {
        for (const rule of ctx.rules) {
          if (!appliesAt(rule, r.barnId) || !watchesReading(rule, r.metric)) continue;
          const cond = conditionRuleAt(rule, ctx.flocks.get(r.barnId));
          if (!cond) continue;
          observed.push({
            key: { tenantId: r.tenantId, farmId: r.farmId, place: r.barnId, ruleId: rule.rule_id },
            rule,
            cond,
            obs: { value: r.value, at: new Date(Date.parse(r.ts)).toISOString() },
            metric: r.metric,
            deviceId: r.deviceId,
            unit: r.unit,
          });
        }
      }
    }
    if (observed.length === 0) return result;
    try {
      const prev = await loadConditions(this.pool, [...new Map(observed.map((o) => [conditionKeyOf(o.key), o.key])).values()]);
      const judgements = judge(observed, prev);
      result.judged = judgements.length;
      Object.assign(result, await this.apply(judgements, now, result));
    } catch (err) {
      this.log.error({ err: (err as Error).message, readings: readings.length }, 'alarm evaluation failed; the next readings are judged again');
    }
    return result;
  }

  /** Sends the signals (or defers them) and stores the conditions they allow. */
  private async apply(judgements: Judgement[], now: Date, result: EvaluationResult): Promise<EvaluationResult> {
    const toSave: (ConditionKey & { state: ConditionState })[] = [];
    await saveConditions(this.pool, unstoredStarts(judgements));
    for (const j of judgements) {
      const k = conditionKeyOf(j.key);
      this.retries.delete(k); // this judgement supersedes a deferred one: it started from the same stored state
      if (!j.step.transition) {
        toSave.push({ ...j.key, state: j.step.state });
        continue;
      }
      if (Date.now() < this.temporalAwayUntil) {
        this.defer(k, j, result);
        continue;
      }
      try {
        toSave.push({ ...j.key, state: await signalJudgement(this.signaller, j, now) });
        if (j.step.transition === 'raise') result.raised++;
        else result.cleared++;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, workflowId: workflowIdOf(j.key), transition: j.step.transition }, 'alarm signal failed; retried later');
        this.temporalAwayUntil = Date.now() + this.retryMs();
        this.defer(k, j, result);
      }
    }
    await saveConditions(this.pool, toSave);
    return result;
  }

  private defer(k: string, j: Judgement, result: EvaluationResult): void {
    result.deferred++;
    // Retried from the start it was stored with (unstoredStarts), as a new judgement would be.
    this.retries.set(k, j.step.transition === 'raise' ? { ...j, prev: { ...j.step.state, phase: 'pending_raise' } } : j);
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      void this.run(() => this.retryDeferred());
    }, this.retryMs());
  }

  /** Re-sends the deferred signals (each superseded if a newer reading was judged meanwhile). */
  private async retryDeferred(): Promise<void> {
    if (this.stopped || this.retries.size === 0) return;
    const pending = [...this.retries.values()];
    this.temporalAwayUntil = 0;
    const result: EvaluationResult = { judged: pending.length, raised: 0, cleared: 0, deferred: 0, ignored: 0 };
    try {
      await this.apply(pending, this.now(), result);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'storing alarm conditions after a retry failed; judged again with the next readings');
    }
    if (result.raised + result.cleared > 0) this.log.info({ raised: result.raised, cleared: result.cleared }, 'deferred alarm signals sent');
  }

  /** Deferred signals waiting (for health and tests). */
  get deferredCount(): number {
    return this.retries.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private retryMs(): number {
    return (this.opts.retrySeconds ?? 5) * 1000;
  }

  private isLive(r: AcceptedReading, now: Date): boolean {
    const at = Date.parse(r.ts);
    if (!Number.isFinite(at) || !Number.isFinite(r.value)) return false;
    if (!isIdentifier(r.tenantId) || !isIdentifier(r.farmId) || !isIdentifier(r.barnId)) return false;
    const age = (now.getTime() - at) / 1000;
    return age <= this.opts.liveWindowSeconds && -age <= (this.opts.futureToleranceSeconds ?? 300);
  }

  private async farmContext(k: string, tenantId: string, farmId: string, now: Date): Promise<FarmContext> {
    const hit = this.farms.get(k);
    if (hit && now.getTime() - hit.loadedAt < (this.opts.rulesRefreshSeconds ?? 30) * 1000) return hit;
    const [rules, flocks] = await Promise.all([farmRules(this.pool, tenantId, farmId), barnFlocks(this.pool, tenantId, farmId, now)]);
    const ctx = { rules: rules.filter((r) => isIdentifier(r.rule_id)), flocks, loadedAt: now.getTime() };
    this.farms.set(k, ctx);
    return ctx;
  }

  private run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => {});
    return next;
  }
}
