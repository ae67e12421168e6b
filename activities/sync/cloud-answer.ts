/** Reading what the cloud answered to a batch (domain/sync/edge-batch.ts): its error, or its per-event results. */
import { apiError, edgeBatchResponse, type EventOutcome } from '../../domain/sync/edge-batch';

/** The error code and sentence of a non-2xx cloud answer, as far as it follows the contract. */
export function errorOf(body: Buffer): { code: string; message: string } {
  try {
    const parsed = apiError.safeParse(JSON.parse(body.toString('utf8')));
    if (parsed.success) return parsed.data.error;
  } catch {
    // not JSON
  }
  return { code: 'unknown', message: body.toString('utf8').slice(0, 200) };
}

/**
 * The results of a 2xx answer, one per sent event in order; or, when the answer does not follow the
 * contract (or is for another batch or other events), why not: an `invalid_response: …` message.
 */
export function resultsOf(body: Buffer, owner: string, sending: readonly { event_id: string }[]): { results: EventOutcome[] } | { invalid: string } {
  let results: EventOutcome[];
  try {
    const parsed = edgeBatchResponse.safeParse(JSON.parse(body.toString('utf8')));
    if (!parsed.success) return { invalid: `invalid_response: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` };
    if (parsed.data.batch_id !== owner) return { invalid: `invalid_response: answered for batch ${parsed.data.batch_id}` };
    if (parsed.data.results.length !== sending.length)
      return { invalid: `invalid_response: ${parsed.data.results.length} results for ${sending.length} events` };
    results = parsed.data.results;
  } catch (err) {
    return { invalid: `invalid_response: ${(err as Error).message.slice(0, 200)}` };
  }
  const mismatch = results.findIndex((r, i) => r.event_id !== undefined && r.event_id !== sending[i].event_id);
  if (mismatch >= 0) return { invalid: `invalid_response: result ${mismatch} is for event ${results[mismatch].event_id}, not ${sending[mismatch].event_id}` };
  return { results };
}
