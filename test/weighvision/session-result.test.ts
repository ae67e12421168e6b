/**
 * concludeSession by hand (weighvision/session-result.ts): multiple_animals vetoes the scale as the
 * session weight, a station the model does not serve gets no vision weight, and the held-out
 * session of issue 10 is flagged scale_vision_disagree.
 */
import { concludeSession, type SessionResultInputs } from '../../weighvision/session-result';

const base: SessionResultInputs = {
  ending: 'finalized',
  readings: [],
  estimates: [],
  imagesStored: 0,
  imageCount: 0,
  calibrationFactor: 1,
  disagreementRatio: 0.15,
};

describe('multiple_animals', () => {
  it('vetoes the scale: the confident one-animal images make the weight', () => {
    // Scale: median(181.0, 180.4, 181.6) = 181.0 — two pigs of ~90 kg on the platform. Images: two
    // of one pig (raw 90.2, 89.8), one with both (multiple_animals, raw 178). Vision: median(90.2,
    // 89.8) = 90.0 × factor 1.02 = 91.8, confidence median(0.9, 0.8) = 0.85 ≥ 0.5.
    const r = concludeSession({
      ...base,
      readings: [{ weightKg: 181.0 }, { weightKg: 180.4 }, { weightKg: 181.6 }],
      estimates: [
        { estimatedWeightKg: 90.2, confidence: 0.9, qualityFlags: [] },
        { estimatedWeightKg: 89.8, confidence: 0.8, qualityFlags: [] },
        { estimatedWeightKg: 178, confidence: 0.9, qualityFlags: ['multiple_animals'] },
      ],
      imagesStored: 3,
      imageCount: 3,
      calibrationFactor: 1.02,
    });
    expect(r).toMatchObject({ status: 'finalized', scaleMedianKg: 181, visionRawKg: 90, visionWeightKg: 91.8, weightKg: 91.8, weightSource: 'vision' });
    // |181 − 91.8| / 181 = 0.49 > 0.15.
    expect(r.qualityFlags).toEqual(['multiple_animals', 'scale_vision_disagree']);
  });

  it('with no confident vision estimate, fails the session and says the scale was vetoed', () => {
    const r = concludeSession({
      ...base,
      readings: [{ weightKg: 181.0, stable: true }],
      estimates: [{ estimatedWeightKg: 178, confidence: 0.9, qualityFlags: ['multiple_animals'] }],
      imagesStored: 1,
      imageCount: 1,
    });
    expect(r).toMatchObject({ status: 'failed', scaleMedianKg: 181, weightKg: undefined, weightSource: undefined });
    expect(r.failureReason).toBe('the scale reading is vetoed (multiple_animals) and there is no confident vision estimate of one whole animal');
  });

  it('without it, the scale is the weight as before', () => {
    const r = concludeSession({
      ...base,
      readings: [{ weightKg: 90.4 }],
      estimates: [{ estimatedWeightKg: 90, confidence: 0.9, qualityFlags: ['blurred'] }],
      imagesStored: 1,
      imageCount: 1,
    });
    expect(r).toMatchObject({ weightKg: 90.4, weightSource: 'scale', qualityFlags: ['blurred'] });
  });
});

describe('a station the vision model does not serve', () => {
  it('records no vision estimate, no disagreement, and a camera-only session fails', () => {
    // A pig model at a broiler station: its 12.5 kg for a 2 kg bird must not become the weight.
    const estimates = [{ estimatedWeightKg: 12.5, confidence: 0.95, qualityFlags: [] }];
    const withScale = concludeSession({ ...base, readings: [{ weightKg: 2.1 }], estimates, imagesStored: 1, imageCount: 1, visionUsable: false });
    expect(withScale).toMatchObject({ weightKg: 2.1, weightSource: 'scale', visionRawKg: undefined, visionWeightKg: undefined, imagesInferred: 1 });
    expect(withScale.qualityFlags).toEqual([]);
    const cameraOnly = concludeSession({ ...base, estimates, imagesStored: 1, imageCount: 1, visionUsable: false });
    expect(cameraOnly).toMatchObject({ status: 'failed', weightKg: undefined });
  });
});

describe('an out-of-distribution image', () => {
  it('never becomes the weight, however confident the model was', () => {
    // Issue 10: an image that is not a pig got 282 kg at confidence 0.999. Flagged
    // out_of_distribution by the model's check (weighvision/vision/), it is not a usable image.
    const r = concludeSession({
      ...base,
      estimates: [{ estimatedWeightKg: 282, confidence: 0.999, qualityFlags: ['out_of_distribution'] }],
      imagesStored: 1,
      imageCount: 1,
    });
    expect(r).toMatchObject({ status: 'failed', weightKg: undefined, visionRawKg: undefined, qualityFlags: ['out_of_distribution'] });
  });
});

describe('the held-out session of issue 10', () => {
  it('is the scale median with scale_vision_disagree', () => {
    // Stable readings 282.1, 282.66, 283.0 (300 unstable): median 282.66. Images raw 236, 238,
    // 240 and an empty frame (229.9, not used): median 238 × 0.98 = 233.24; |282.66 − 233.24| /
    // 282.66 = 0.175 > 0.15.
    const r = concludeSession({
      ...base,
      readings: [
        { weightKg: 282.1, stable: true },
        { weightKg: 282.66, stable: true },
        { weightKg: 300, stable: false },
        { weightKg: 283.0, stable: true },
      ],
      estimates: [
        { estimatedWeightKg: 236, confidence: 0.9, qualityFlags: [] },
        { estimatedWeightKg: 238, confidence: 0.9, qualityFlags: [] },
        { estimatedWeightKg: 240, confidence: 0.9, qualityFlags: [] },
        { estimatedWeightKg: 229.9, confidence: 0.2, qualityFlags: ['empty_frame'] },
      ],
      imagesStored: 4,
      imageCount: 4,
      calibrationFactor: 0.98,
    });
    expect(r).toMatchObject({ weightKg: 282.66, weightSource: 'scale', scaleMedianKg: 282.66, visionRawKg: 238, visionWeightKg: 233.24 });
    expect(r.qualityFlags).toEqual(['empty_frame', 'scale_vision_disagree']);
  });
});
