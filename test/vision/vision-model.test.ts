/**
 * @jest-environment ./test/support/node-realm-environment.js
 *
 * The shipped WeighVision model (models/weighvision-v1.onnx) through vision/: contract, accuracy on
 * held-out generated fixtures against what ml/evaluate.py measured, quality flags, bad input, bad
 * configuration, and concurrent use of the one session.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { settings } from '../../config/settings';
import { imageTensor, VisionInputError } from '../../weighvision/vision/preprocess';
import { VisionModel, visionModelConfig, type ImageEstimate, type VisionModelConfig } from '../../weighvision/vision/vision-model';

const repoRoot = path.resolve(__dirname, '..', '..');
const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'weighvision');

interface Fixture {
  file: string;
  content_type: 'image/jpeg' | 'image/png';
  case: string;
  animal: string | null;
  true_weight_kg: number | null;
  true_flags: string[];
  input_mean_rgb: [number, number, number];
}

const fixtures: Fixture[] = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'manifest.json'), 'utf8')).images;
const bytesOf = (f: Fixture) => fs.readFileSync(path.join(fixtureDir, f.file));
const normals = fixtures.filter((f) => f.case === 'normal');
const flagged = fixtures.filter((f) => f.true_flags.length > 0);

// What ml/evaluate.py measured on the held-out split (absolute percentage error on normal images):
// one image may err as much as the 99th percentile did, a station's median of three the 95th.
const evaluation = JSON.parse(fs.readFileSync(path.join(repoRoot, 'ml', 'results', 'evaluation.json'), 'utf8'));
const p99HeldOutPct: number = evaluation.network.weight_normal.ape_p99_pct;
const p95HeldOutPct: number = evaluation.network.weight_normal.ape_p95_pct;

const shipped: VisionModelConfig = visionModelConfig(settings());
let model: VisionModel;

beforeAll(async () => {
  model = await VisionModel.load(shipped);
});
afterAll(async () => {
  await model?.close();
});

const pctError = (estimate: ImageEstimate, trueKg: number) => (Math.abs(estimate.estimatedWeightKg - trueKg) / trueKg) * 100;

describe('the shipped model', () => {
  it('has the contract the edge settings assume', async () => {
    const session = await InferenceSession.create(path.resolve(repoRoot, shipped.modelPath));
    try {
      expect(session.inputNames).toEqual(['image']);
      // ood_score since issue 10: the out-of-distribution check (ml/ood.py), from the same weights.
      expect(session.outputNames.slice().sort()).toEqual(['ood_score', 'quality', 'weight_kg']);
      const [input] = session.inputMetadata;
      expect(input.isTensor && input.type).toBe('float32');
      expect(input.isTensor && input.shape.slice(1)).toEqual([3, 96, 96]);
      const shapes = Object.fromEntries(session.outputMetadata.map((m) => [m.name, m.isTensor ? m.shape.slice(1) : null]));
      expect(shapes).toEqual({ weight_kg: [1], quality: [4], ood_score: [1] });
    } finally {
      await session.release();
    }
    expect(fs.statSync(path.resolve(repoRoot, shipped.modelPath)).size).toBeLessThan(2 * 1024 * 1024);
    expect(model.modelId).toBe('farmiq-weighvision-v1');
  });
});

describe('preprocessing', () => {
  it.each(fixtures.map((f) => [f.file, f] as const))('%s becomes an RGB 0..1 NCHW tensor like the training pipeline', async (_, f) => {
    const t = await imageTensor(bytesOf(f), 96);
    expect(t.length).toBe(3 * 96 * 96);
    const plane = 96 * 96;
    const means = [0, 1, 2].map((c) => t.subarray(c * plane, (c + 1) * plane).reduce((a, b) => a + b, 0) / plane);
    expect(Math.min(...t)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t)).toBeLessThanOrEqual(1);
    // Channel means as PIL computed them in ml/generate.py: a channel swap, a missing /255 or
    // planar/interleaved confusion moves at least one far outside this.
    means.forEach((m, c) => expect(Math.abs(m - f.input_mean_rgb[c])).toBeLessThan(0.005));
  });

  it('throws image_undecodable for bytes that are not an image, or a cut-off JPEG', async () => {
    const jpeg = bytesOf(normals[0]);
    for (const bytes of [Buffer.from('not an image at all'), Buffer.alloc(0), jpeg.subarray(0, jpeg.length / 2), Buffer.from(jpeg.subarray(0, 200))]) {
      const err = await model.estimate(bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VisionInputError);
      expect((err as VisionInputError).code).toBe('image_undecodable');
    }
  });
});

describe('estimates', () => {
  it.each(normals.map((f) => [f.file, f] as const))('%s: weight within the held-out p99 error, no flag', async (_, f) => {
    const estimate = await model.estimate(bytesOf(f));
    expect(pctError(estimate, f.true_weight_kg!)).toBeLessThanOrEqual(p99HeldOutPct);
    expect(estimate.qualityFlags).toEqual([]);
    expect(estimate.confidence).toBeGreaterThan(0.5);
    expect(estimate.confidence).toBeLessThanOrEqual(1);
    expect(estimate.inferenceMs).toBeGreaterThan(0);
  });

  it("a station's three photos of one pig agree: their median is within the held-out p95 error", async () => {
    const station = normals.filter((f) => f.animal === 'station-pig');
    expect(station).toHaveLength(3);
    const kg = (await Promise.all(station.map((f) => model.estimate(bytesOf(f))))).map((e) => e.estimatedWeightKg).sort((a, b) => a - b);
    const trueKg = station[0].true_weight_kg!;
    expect((Math.abs(kg[1] - trueKg) / trueKg) * 100).toBeLessThanOrEqual(p95HeldOutPct);
  });

  it('reads a PNG as well as a JPEG', async () => {
    const png = normals.find((f) => f.content_type === 'image/png')!;
    expect(bytesOf(png).subarray(1, 4).toString()).toBe('PNG');
    const estimate = await model.estimate(bytesOf(png));
    expect(pctError(estimate, png.true_weight_kg!)).toBeLessThanOrEqual(p99HeldOutPct);
  });

  it.each(flagged.map((f) => [f.file, f] as const))('%s raises its flag and confidence drops', async (_, f) => {
    const estimate = await model.estimate(bytesOf(f));
    for (const flag of f.true_flags) expect(estimate.qualityFlags).toContain(flag);
    expect(estimate.qualityFlags).not.toContain('scale_vision_disagree');
    expect(estimate.confidence).toBeGreaterThanOrEqual(0);
    expect(estimate.confidence).toBeLessThanOrEqual(0.5);
  });

  it('a stricter threshold raises fewer flags, a threshold of 0 raises every one', async () => {
    const strict = await VisionModel.load({ ...shipped, qualityThreshold: 1 });
    const eager = await VisionModel.load({ ...shipped, qualityThreshold: 0 });
    try {
      const blurred = fixtures.find((f) => f.case === 'blurred')!;
      expect((await strict.estimate(bytesOf(blurred))).qualityFlags).toEqual([]);
      expect((await eager.estimate(bytesOf(blurred))).qualityFlags).toEqual(shipped.qualityLabels);
    } finally {
      await strict.close();
      await eager.close();
    }
  });

  it('concurrent estimates on the one session equal sequential ones', async () => {
    const sequential: ImageEstimate[] = [];
    for (const f of fixtures) sequential.push(await model.estimate(bytesOf(f)));
    const concurrent = await Promise.all([...fixtures, ...fixtures, ...fixtures].map((f) => model.estimate(bytesOf(f))));
    const strip = ({ inferenceMs: _, ...rest }: ImageEstimate) => rest;
    concurrent.forEach((e, i) => expect(strip(e)).toEqual(strip(sequential[i % fixtures.length])));
  });
});

describe('loading a model against the configured contract', () => {
  const loadError = (config: Partial<VisionModelConfig>) =>
    VisionModel.load({ ...shipped, ...config }).then(
      async (m) => {
        await m.close();
        return undefined;
      },
      (e: Error) => e.message,
    );

  it('names a missing output', async () => {
    expect(await loadError({ weightOutput: 'weight' })).toMatch(/no output "weight" \(VISION_OUTPUT_WEIGHT\); its outputs: .*weight_kg/);
    expect(await loadError({ qualityOutput: 'flags' })).toMatch(/no output "flags" \(VISION_OUTPUT_QUALITY\)/);
  });

  it('names a missing input and an input size the model does not take', async () => {
    expect(await loadError({ inputName: 'pixels' })).toMatch(/no input "pixels" \(VISION_INPUT_NAME\); its inputs: image/);
    expect(await loadError({ inputSize: 128 })).toMatch(/shape \[N, 3, 96, 96\].*VISION_INPUT_SIZE=128/);
  });

  it('rejects quality labels the model may not raise, or too few for its quality columns', async () => {
    expect(await loadError({ qualityLabels: ['not_fully_in_frame', 'multiple_animals', 'empty_frame', 'wet'] })).toMatch(/"wet" is not a quality flag/);
    expect(await loadError({ qualityLabels: ['not_fully_in_frame', 'multiple_animals', 'empty_frame', 'scale_vision_disagree'] })).toMatch(
      /"scale_vision_disagree" is not a quality flag the model may raise/,
    );
    expect(await loadError({ qualityLabels: ['not_fully_in_frame', 'blurred'] })).toMatch(/holds 4 values per image, but VISION_QUALITY_LABELS names 2/);
  });

  it('names a model file that is missing or not ONNX', async () => {
    expect(await loadError({ modelPath: 'models/nope.onnx' })).toMatch(/nope\.onnx does not exist \(VISION_MODEL_PATH\)/);
    // A file that is not ONNX, with a manifest that does describe it (else the manifest check refuses it first).
    const notOnnx = path.join(fixtureDir, 'manifest.json');
    const bytes = fs.readFileSync(notOnnx);
    const manifestPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'farmiq-vision-')), 'not-onnx.json');
    fs.writeFileSync(
      manifestPath,
      JSON.stringify({ model_id: shipped.modelId, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, species: ['swine'] }),
    );
    expect(await loadError({ modelPath: notOnnx, manifestPath, oodOutput: '' })).toMatch(/is not a loadable ONNX model/);
    fs.rmSync(path.dirname(manifestPath), { recursive: true });
  });
});
