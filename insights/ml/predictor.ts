/**
 * How the insight workflow reaches cloud-ml-model-service: in process (the default: the model is
 * small and deterministic) or over HTTP (`ML_SERVICE_URL` set: POST /api/v1/ml/predict, with the
 * request's x-request-id and the internal service token).
 */
import { predictionsSchema, type FeatureSummary, type MlPredictions } from '../feature-summary';
import { daysBetween } from '../../domain/calendar/days';
import { growthReferenceModelId, predictGrowth, type PredictRequest } from './growth-reference-model';

export interface GrowthPredictor {
  predict(request: PredictRequest, ctx: { requestId: string; signal?: AbortSignal }): Promise<MlPredictions>;
}

/** The model's input for a summary: one entry per barn that has an age and a weighing; null if none has. */
export function predictRequestFromSummary(summary: FeatureSummary): PredictRequest | null {
  const barns = summary.barns.flatMap((b) => {
    const g = b.growth;
    const ageAtEnd = b.age_days.at_window_end;
    if (g.mean_weight_kg === null || g.last_day === null || ageAtEnd === null) return [];
    const age = ageAtEnd - daysBetween(g.last_day, summary.scope.window.last_day);
    if (age < 0) return [];
    return [{
      barn_id: b.barn_id,
      age_days: age,
      last_weighing_day: g.last_day,
      mean_weight_kg: g.mean_weight_kg,
      animal_count: b.animal_count,
      fcr: g.fcr !== null && g.fcr > 0 ? g.fcr : null,
      target_weight_kg: g.target_weight_kg,
    }];
  });
  if (barns.length === 0) return null;
  return { model: growthReferenceModelId, species: summary.scope.species, horizons_days: [7, 14, 21], barns };
}

export const localPredictor: GrowthPredictor = {
  async predict(request) {
    return predictGrowth(request);
  },
};

/** A failure of the ML service that retrying cannot fix (4xx): the workflow goes on without predictions. */
export class PredictionRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictionRejected';
  }
}

export class HttpPredictor implements GrowthPredictor {
  constructor(private readonly opts: { baseUrl: string; serviceToken: string; timeoutMs: number; fetch?: typeof fetch }) {}

  async predict(request: PredictRequest, ctx: { requestId: string; signal?: AbortSignal }): Promise<MlPredictions> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/api/v1/ml/predict`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const res = await (this.opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': ctx.requestId, authorization: `Bearer ${this.opts.serviceToken}` },
      body: JSON.stringify(request),
      signal: ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (res.status >= 400 && res.status < 500) throw new PredictionRejected(`${url} refused the request (${res.status}): ${text.slice(0, 200)}`);
    if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
    return predictionsSchema.parse((JSON.parse(text) as { predictions: unknown }).predictions);
  }
}
