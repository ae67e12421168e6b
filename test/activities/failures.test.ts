/**
 * The one helper that turns a refusal into the activities' failure (activities/failures.ts) and
 * the presets that must treat it as final. The database behaviour behind it is proven against a
 * real Postgres in the *-refusals tests beside this file.
 */
import { ApplicationFailure } from '@temporalio/common';
import { boundedPayload, dataRefusedType, refusalsAreFinal, storableJson } from '../../activities/failures';
import { narrowRefusals } from '../../db/narrow';
import * as edgePresets from '../../workflows/activity-options';
import * as insightPresets from '../../workflows/insights/activity-options';
import * as syncPresets from '../../workflows/sync/activity-options';

const pgError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

describe('refusalsAreFinal', () => {
  it('turns a refusal into a non-retryable DataRefused with the SQLSTATE', async () => {
    const err = await refusalsAreFinal('step-x', async () => {
      throw pgError('22P05', 'unsupported Unicode escape sequence');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: dataRefusedType, nonRetryable: true });
    expect((err as ApplicationFailure).details).toEqual([{ refusedBy: 'postgres', reason: 'storage_refused:22P05', sqlState: '22P05', step: 'step-x' }]);
  });

  it('leaves transient and other failures as they are (retried by the preset)', async () => {
    for (const thrown of [pgError('ECONNREFUSED'), pgError('40001'), pgError('42P01'), ApplicationFailure.nonRetryable('bad input', 'InvalidRollupRequest')]) {
      await expect(refusalsAreFinal('step-x', async () => Promise.reject(thrown))).rejects.toBe(thrown);
    }
  });
});

describe('narrowRefusals', () => {
  it('finds the refused items by halving, applies the rest, and throws any other failure', async () => {
    const items = Array.from({ length: 64 }, (_, i) => i);
    const poison = new Set([5, 40]);
    let calls = 0;
    const out = await narrowRefusals(items, async (part) => {
      calls++;
      if (part.some((i) => poison.has(i))) throw pgError('23514');
      return part.length;
    });
    expect(out.changed).toBe(62);
    expect(out.refused.map((r) => r.item)).toEqual([5, 40]);
    expect(calls).toBeLessThan(30);
    await expect(narrowRefusals(items, async () => Promise.reject(pgError('57P01')))).rejects.toMatchObject({ code: '57P01' });
  });
});

describe('boundedPayload and storableJson', () => {
  it('refuses a result larger than the limit as DataRefused payload_too_large', () => {
    expect(boundedPayload('s', { a: 'x' }, 100)).toEqual({ a: 'x' });
    expect(() => boundedPayload('s', { a: 'x'.repeat(200) }, 100)).toThrow(expect.objectContaining({ type: dataRefusedType, nonRetryable: true }));
  });

  it('replaces what Postgres refuses in every string and key', () => {
    expect(storableJson({ 'k\u0000': ['a\u0000b', { c: '\ud800' }], n: 1, z: null })).toEqual({ 'k\ufffd': ['a\ufffdb', { c: '\ufffd' }], n: 1, z: null });
  });
});

it('every preset of an activity that touches Postgres, Temporal payloads or HTTP lists DataRefused as final', () => {
  const presets = { ...edgePresets, ...syncPresets, ...insightPresets } as Record<
    string,
    { retry?: { maximumAttempts?: number; nonRetryableErrorTypes?: readonly string[] } }
  >;
  // Not retried at all (cloudProbe), or pure code without I/O (templateFallback).
  const exempt = ['cloudProbe', 'templateFallback'];
  const checked = Object.entries(presets).filter(([name]) => !exempt.includes(name));
  expect(checked.map(([name]) => name).sort()).toEqual(
    [
      'edgeDatabase',
      'insightAggregation',
      'insightStore',
      'llmAnalysis',
      'mlPrediction',
      'notificationDelivery',
      'syncClaim',
      'syncOutbox',
      'syncRetention',
      'syncSend',
    ].sort(),
  );
  for (const [name, preset] of checked)
    expect({ name, types: preset.retry?.nonRetryableErrorTypes }).toEqual({ name, types: expect.arrayContaining([dataRefusedType]) });
});
