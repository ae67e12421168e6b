/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * What the shipped model says when it does not know (issue 10): images unlike its training set
 * (test/fixtures/vision-ood, from ml/ood_images.py's `fixtures` stream) are unusable for a weight,
 * the in-distribution fixtures are not flagged, and the model's manifest — species served, the
 * sha256 of the very ONNX file, the out-of-distribution threshold — is checked at load.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { settings } from '../../config/settings';
import { concludeSession } from '../../weighvision/session-result';
import { VisionModel, VisionModelLoadError, visionModelConfig, type VisionModelConfig } from '../../weighvision/vision/vision-model';

const repoRoot = path.resolve(__dirname, '..', '..');
const oodDir = path.join(repoRoot, 'test', 'fixtures', 'vision-ood');
const inDir = path.join(repoRoot, 'test', 'fixtures', 'weighvision');

interface OodFixture {
  file: string;
  kind: string;
  family: 'non_animal' | 'wrong_species';
}
const oodFixtures: OodFixture[] = JSON.parse(fs.readFileSync(path.join(oodDir, 'manifest.json'), 'utf8')).images;
const inFixtures: { file: string; case: string }[] = JSON.parse(fs.readFileSync(path.join(inDir, 'manifest.json'), 'utf8')).images;

const shipped: VisionModelConfig = visionModelConfig(settings());
const modelFile = path.resolve(repoRoot, shipped.modelPath);
const shippedManifest = JSON.parse(fs.readFileSync(path.resolve(repoRoot, shipped.manifestPath), 'utf8'));
// weighvision/session-result.ts: below this a vision estimate alone makes no session weight.
const cutOff = 0.5;

let model: VisionModel;
let tmp: string;

beforeAll(async () => {
  model = await VisionModel.load(shipped);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-vision-manifest-'));
});
afterAll(async () => {
  await model?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('images unlike the training set', () => {
  it('has fixtures of both families', () => {
    expect(oodFixtures.filter((f) => f.family === 'non_animal').length).toBeGreaterThanOrEqual(3);
    expect(oodFixtures.filter((f) => f.family === 'wrong_species').length).toBeGreaterThanOrEqual(2);
  });

  it.each(oodFixtures.map((f) => [f.file, f] as const))('%s raises out_of_distribution, confidence below the cut-off', async (_, f) => {
    const estimate = await model.estimate(fs.readFileSync(path.join(oodDir, f.file)));
    expect(estimate.qualityFlags).toContain('out_of_distribution');
    // Flagged means ood_score ≥ threshold, so σ(threshold − score) ≤ ½ and confidence ≤ ½ × Π(1 − p) < the cut-off
    // unless every quality probability were exactly 0.
    expect(estimate.oodScore).toBeGreaterThanOrEqual(shippedManifest.out_of_distribution.threshold);
    expect(estimate.confidence).toBeLessThan(cutOff);
  });

  it('no such image becomes a camera-only session weight', async () => {
    const estimates = await Promise.all(oodFixtures.map((f) => model.estimate(fs.readFileSync(path.join(oodDir, f.file)))));
    for (const e of estimates) {
      const result = concludeSession({
        ending: 'finalized',
        readings: [],
        estimates: [e],
        imagesStored: 1,
        imageCount: 1,
        calibrationFactor: 1,
        disagreementRatio: 0.15,
      });
      expect(result).toMatchObject({ status: 'failed', weightKg: undefined });
    }
  });

  it('the in-distribution fixtures are not flagged out_of_distribution', async () => {
    for (const f of inFixtures) {
      const estimate = await model.estimate(fs.readFileSync(path.join(inDir, f.file)));
      expect([f.file, estimate.qualityFlags.includes('out_of_distribution')]).toEqual([f.file, false]);
    }
  });

  it('with the check configured off, the same image is not flagged and keeps the quality-only confidence', async () => {
    const unchecked = await VisionModel.load({ ...shipped, oodOutput: '' });
    try {
      const bytes = fs.readFileSync(path.join(oodDir, oodFixtures[0].file));
      const [withCheck, without] = [await model.estimate(bytes), await unchecked.estimate(bytes)];
      expect(unchecked.checksOutOfDistribution).toBe(false);
      expect(without.qualityFlags).not.toContain('out_of_distribution');
      expect(without.oodScore).toBeUndefined();
      expect(without.estimatedWeightKg).toBe(withCheck.estimatedWeightKg);
      // confidence with the check = quality product × σ(threshold − score)
      const factor = 1 / (1 + Math.exp(withCheck.oodScore! - shippedManifest.out_of_distribution.threshold));
      expect(withCheck.confidence).toBeCloseTo(without.confidence * factor, 12);
    } finally {
      await unchecked.close();
    }
  });
});

describe('species the model serves', () => {
  it('the shipped model serves swine, not broilers', () => {
    expect(model.species).toEqual(['swine']);
    expect(model.serves('swine')).toBe(true);
    expect(model.serves('broiler')).toBe(false);
    expect(model.serves('pig')).toBe(false); // the flocks' word is swine; nothing is guessed
  });
});

describe('the manifest is checked against the model at load', () => {
  const sha = createHash('sha256').update(fs.readFileSync(modelFile)).digest('hex');
  const writeManifest = (name: string, content: unknown) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const loadError = (config: Partial<VisionModelConfig>) =>
    VisionModel.load({ ...shipped, ...config }).then(
      async (m) => {
        await m.close();
        return undefined;
      },
      (e: Error) => {
        expect(e).toBeInstanceOf(VisionModelLoadError);
        return e.message;
      },
    );

  it('the shipped manifest describes the shipped file', () => {
    expect(shippedManifest.sha256).toBe(sha);
    expect(shippedManifest.bytes).toBe(fs.statSync(modelFile).size);
  });

  it('refuses a manifest of another file (sha256 or size), naming both', async () => {
    const other = writeManifest('other.json', { ...shippedManifest, sha256: 'a'.repeat(64) });
    expect(await loadError({ manifestPath: other })).toMatch(/is not the model its manifest .*other\.json describes .*sha256 a{64}.*replaced together/);
    const size = writeManifest('size.json', { ...shippedManifest, bytes: shippedManifest.bytes + 1 });
    expect(await loadError({ manifestPath: size })).toMatch(/is not the model its manifest/);
  });

  it('refuses a missing, unreadable or invalid manifest', async () => {
    expect(await loadError({ manifestPath: path.join(tmp, 'none.json') })).toMatch(/manifest .*none\.json does not exist \(VISION_MANIFEST_PATH\)/);
    expect(await loadError({ manifestPath: writeManifest('broken.json', '{"model_id": ') })).toMatch(/broken\.json is not JSON/);
    expect(await loadError({ manifestPath: writeManifest('species.json', { ...shippedManifest, species: ['pigs'] }) })).toMatch(/species\.0: /);
    expect(await loadError({ manifestPath: writeManifest('nospecies.json', { ...shippedManifest, species: [] }) })).toMatch(/is not valid: species/);
  });

  it('refuses a manifest of another model id', async () => {
    const file = writeManifest('id.json', { ...shippedManifest, model_id: 'someone-else-v3' });
    expect(await loadError({ manifestPath: file })).toMatch(/is for model "someone-else-v3", but VISION_MODEL_ID is "farmiq-weighvision-v1"/);
  });

  it('refuses an OOD output the model lacks, or one the manifest did not calibrate, and says how to run without', async () => {
    const renamed = writeManifest('renamed.json', { ...shippedManifest, out_of_distribution: { ...shippedManifest.out_of_distribution, output: 'novelty' } });
    expect(await loadError({ manifestPath: renamed, oodOutput: 'novelty' })).toMatch(
      /no out-of-distribution output "novelty" \(VISION_OUTPUT_OOD\).*set VISION_OUTPUT_OOD= \(empty\)/,
    );
    expect(await loadError({ manifestPath: renamed })).toMatch(/VISION_OUTPUT_OOD is "ood_score" but the model's manifest calibrated output "novelty"/);
    const { out_of_distribution: _, ...withoutOod } = shippedManifest;
    const bare = writeManifest('bare.json', withoutOod);
    expect(await loadError({ manifestPath: bare })).toMatch(/manifest declares no out-of-distribution check; set VISION_OUTPUT_OOD= \(empty\)/);
    // and with the check off such a manifest loads
    expect(await loadError({ manifestPath: bare, oodOutput: '' })).toBeUndefined();
  });
});
