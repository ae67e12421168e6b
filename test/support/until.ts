/**
 * How the tests wait for something that happens on its own time (a row stored, a message at the
 * bridge, a workflow's status, a process healthy): poll a probe until it holds.
 */

/** What a probe answers while the thing it waits for has not happened yet. */
type NotYet = undefined | null | false | 0 | '';

/**
 * Polls `probe` every `everyMs` until it answers something truthy, and returns that. A probe that
 * throws counts as not yet (a server still starting refuses connections); after `timeoutMs` this
 * throws, naming `what` and the probe's last error.
 */
export async function until<T>(what: string, timeoutMs: number, probe: () => T | NotYet | Promise<T | NotYet>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
