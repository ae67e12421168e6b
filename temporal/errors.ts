/**
 * What a Temporal error says about retrying, for code that talks to the server on behalf of a
 * device message (the bridge's session lane). UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
 * and the like mean "not now": retry. INVALID_ARGUMENT and OUT_OF_RANGE mean the server refuses
 * this request for what it carries (a payload over the blob size limit, a malformed field): the
 * same request fails every time, so the message is quarantined instead of retried for ever.
 */
const refusalCodes = new Map([
  [3, 'INVALID_ARGUMENT'],
  [11, 'OUT_OF_RANGE'],
]);

/** The gRPC status name if Temporal refused the request for its content, else undefined. */
export function temporalRefusal(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code; // a gRPC ServiceError's status, or any error's code
    if (typeof code === 'number' && refusalCodes.has(code)) return refusalCodes.get(code);
  }
  return undefined;
}
