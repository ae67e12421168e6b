/** The retry kit (platform/backoff.ts): the delay sequence, the abortable pause, withRetry and retryUntil. */
import { backoffDelays, pause, retryUntil, withRetry } from '../../platform/backoff';

function take(n: number, it: Iterator<number>): number[] {
  return Array.from({ length: n }, () => it.next().value as number);
}

describe('backoffDelays', () => {
  it('doubles from the first delay up to the cap and stays there', () => {
    expect(take(7, backoffDelays({ firstMs: 250, maxMs: 5000 }))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(take(5, backoffDelays({ firstMs: 25, maxMs: 200 }))).toEqual([25, 50, 100, 200, 200]);
  });
});

describe('pause', () => {
  it('waits the full time and says so', async () => {
    const started = Date.now();
    expect(await pause(30)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('resolves false at once when aborted, before or during the wait', async () => {
    const before = new AbortController();
    before.abort();
    expect(await pause(10_000, before.signal)).toBe(false);

    const during = new AbortController();
    const started = Date.now();
    setTimeout(() => during.abort(), 20);
    expect(await pause(10_000, during.signal)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('withRetry', () => {
  it('retries failures on the backoff until an attempt succeeds', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await withRetry(
      async () => {
        if (++calls < 4) throw new Error(`fail ${calls}`);
        return 'ok';
      },
      {
        backoff: { firstMs: 1, maxMs: 3 },
        onFailure: (_err, { retryInMs, failures }) => {
          waits.push(retryInMs);
          expect(failures).toBe(waits.length);
          return 'retry';
        },
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(waits).toEqual([1, 2, 3]);
  });

  it('ends with the result or the error onFailure gives', async () => {
    await expect(
      withRetry(() => Promise.reject(new Error('refused')), { backoff: { firstMs: 1, maxMs: 1 }, onFailure: () => ({ result: Promise.resolve('narrowed') }) }),
    ).resolves.toBe('narrowed');
    await expect(
      withRetry(() => Promise.reject(new Error('down')), {
        backoff: { firstMs: 1, maxMs: 1 },
        onFailure: (err) => {
          throw new Error(`gave up: ${(err as Error).message}`);
        },
      }),
    ).rejects.toThrow('gave up: down');
  });

  it('applies jitter to the wait while the delay itself keeps doubling', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls < 4) throw new Error('x');
      },
      {
        backoff: { firstMs: 4, maxMs: 100 },
        jitter: (ms) => ms / 2,
        onFailure: (_e, { retryInMs }) => {
          waits.push(retryInMs);
          return 'retry';
        },
      },
    );
    expect(waits).toEqual([2, 4, 8]);
  });

  it('an abort cuts the wait short and the next attempt follows; onFailure decides to stop', async () => {
    const stop = new AbortController();
    let calls = 0;
    const started = Date.now();
    const result = await withRetry(
      async () => {
        calls++;
        if (calls === 1) setTimeout(() => stop.abort(), 10);
        throw new Error('down');
      },
      {
        backoff: { firstMs: 60_000, maxMs: 60_000 },
        signal: stop.signal,
        onFailure: () => (stop.signal.aborted ? { result: 'stopped' } : 'retry'),
      },
    );
    expect(result).toBe('stopped');
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('retryUntil', () => {
  it('polls until done accepts the value', async () => {
    let n = 0;
    const seen: number[] = [];
    const value = await retryUntil(async () => ++n, {
      backoff: { firstMs: 1, maxMs: 2 },
      done: (v, retryInMs) => {
        seen.push(retryInMs);
        return v === 3;
      },
    });
    expect(value).toBe(3);
    expect(seen).toEqual([1, 2, 2]);
  });

  it('gives up with the last value when done says the next wait is not worth it', async () => {
    const value = await retryUntil(async () => undefined, { backoff: { firstMs: 25, maxMs: 200 }, done: (_v, retryInMs) => retryInMs > 50 });
    expect(value).toBeUndefined();
  });
});
