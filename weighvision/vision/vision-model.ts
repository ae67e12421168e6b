/**
 * The WeighVision vision model: one ONNX InferenceSession per process, reused for every image,
 * estimating an animal's weight and what is wrong with the picture (docs/model-card.md).
 *
 * The model is swappable by configuration (VISION_* settings), so load() checks the file against
 * the configured contract — input name and size, output names, one quality column per label — and
 * against its sidecar manifest (VISION_MANIFEST_PATH: the sha256 and size of the very ONNX file,
 * its model id, the species it serves, its out-of-distribution threshold), and fails with a
 * sentence naming the mismatch instead of producing nonsense per image. A manifest, not ONNX
 * metadata, because onnxruntime-node does not expose a model's metadata_props.
 *
 * Confidence is the model's own probability that the image has none of its quality problems,
 * Π (1 − p_flag) over the quality columns, times how much the image looks like what the model was
 * trained on: σ(threshold − ood_score), 1 for a familiar image, ½ at the out-of-distribution
 * threshold (where out_of_distribution is raised), toward 0 beyond it. It says how much to trust
 * the image, not a weight error bar. With VISION_OUTPUT_OOD empty the model runs without that
 * check (a model that has no such output), and confidence is the quality product alone.
 *
 * Concurrency: onnxruntime-node runs a session synchronously on the JS thread (run() only defers
 * it with setImmediate), so concurrent estimate() calls interleave their decodes (sharp, on the
 * libuv pool) and take turns on the session; ONNX Runtime's Run is thread-safe in any case.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Settings } from '../../config/settings';
import { qualityFlags, type QualityFlag } from '../../domain/contracts/payloads';
import { sessionVerdictFlags } from '../../domain/contracts/quality-flags';
import { imageTensor } from './preprocess';
import { VisionModelLoadError } from './load-error';
import { readModelManifest, type ModelManifest } from './model-manifest';

const repoRoot = path.resolve(__dirname, '..', '..');

export interface VisionModelConfig {
  /** Absolute, or relative to the repository root. */
  modelPath: string;
  modelId: string;
  inputName: string;
  /** Square input side in pixels. */
  inputSize: number;
  weightOutput: string;
  qualityOutput: string;
  /** The quality flag of each column of the quality output, in order. */
  qualityLabels: string[];
  /** A quality probability at or above this raises its flag. */
  qualityThreshold: number;
  /** The sidecar manifest: absolute, or relative to the repository root. */
  manifestPath: string;
  /** The out-of-distribution score output; '' runs the model without that check. */
  oodOutput: string;
}

export interface ImageEstimate {
  estimatedWeightKg: number;
  /** 0..1: Π (1 − p) over the quality probabilities. */
  confidence: number;
  qualityFlags: QualityFlag[];
  /** Decode + resize + model run, milliseconds. */
  inferenceMs: number;
  /** The model's out-of-distribution score (a logit: higher is less familiar); absent when the check is off. */
  oodScore?: number;
}

/**
 * Flags a quality column may stand for: not the session's verdicts (scale_vision_disagree,
 * scale_drift_suspected), nor out_of_distribution, which the OOD check decides.
 */
const modelFlags: readonly QualityFlag[] = qualityFlags.filter((f) => !sessionVerdictFlags.includes(f) && f !== 'out_of_distribution');

export function visionModelConfig(s: Settings): VisionModelConfig {
  return {
    modelPath: s.VISION_MODEL_PATH,
    modelId: s.VISION_MODEL_ID,
    inputName: s.VISION_INPUT_NAME,
    inputSize: s.VISION_INPUT_SIZE,
    weightOutput: s.VISION_OUTPUT_WEIGHT,
    qualityOutput: s.VISION_OUTPUT_QUALITY,
    qualityLabels: s.VISION_QUALITY_LABELS.split(',')
      .map((l) => l.trim())
      .filter((l) => l.length > 0),
    qualityThreshold: s.VISION_QUALITY_THRESHOLD,
    manifestPath: s.VISION_MANIFEST_PATH,
    oodOutput: s.VISION_OUTPUT_OOD.trim(),
  };
}

export { VisionModelLoadError };

export class VisionModel {
  private constructor(
    private readonly session: InferenceSession,
    private readonly config: VisionModelConfig,
    private readonly labels: readonly QualityFlag[],
    private readonly manifest: ModelManifest,
    /** The out-of-distribution threshold; undefined when the check is off. */
    private readonly oodThreshold: number | undefined,
  ) {}

  get modelId(): string {
    return this.config.modelId;
  }

  /** The species the model declares it serves (its manifest), in the flocks' words. */
  get species(): readonly string[] {
    return this.manifest.species;
  }

  /** Whether the model's estimates may weigh an animal of this species. */
  serves(species: string): boolean {
    return this.manifest.species.includes(species as ModelManifest['species'][number]);
  }

  /** Whether out-of-distribution images are detected (VISION_OUTPUT_OOD set). */
  get checksOutOfDistribution(): boolean {
    return this.oodThreshold !== undefined;
  }

  static async load(config: VisionModelConfig): Promise<VisionModel> {
    const labels = checkLabels(config.qualityLabels);
    const file = path.resolve(repoRoot, config.modelPath);
    if (!fs.existsSync(file)) throw new VisionModelLoadError(`vision model ${file} does not exist (VISION_MODEL_PATH)`);
    const manifest = checkManifest(config, file);
    const oodThreshold = checkOodDeclaration(config, manifest);
    let session: InferenceSession;
    try {
      // Tiny model, one image at a time: extra threads only contend with the rest of the worker.
      session = await InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new VisionModelLoadError(`vision model ${file} is not a loadable ONNX model: ${(err as Error).message}`);
    }
    const model = new VisionModel(session, config, labels, manifest, oodThreshold);
    try {
      checkSignature(session, config, file);
      await model.checkOutputs(file);
    } catch (err) {
      await session.release();
      throw err;
    }
    return model;
  }

  async estimate(bytes: Buffer): Promise<ImageEstimate> {
    const started = performance.now();
    const { inputSize: size } = this.config;
    const input = new Tensor('float32', await imageTensor(bytes, size), [1, 3, size, size]);
    const { weight, quality, ood } = await this.run(input);
    const inferenceMs = performance.now() - started;
    const estimatedWeightKg = weight[0];
    if (!Number.isFinite(estimatedWeightKg)) throw new Error(`vision model ${this.modelId} returned a non-finite weight`);
    const probabilities = Array.from(quality, (p) => Math.min(1, Math.max(0, p)));
    const flags = this.labels.filter((_, i) => probabilities[i] >= this.config.qualityThreshold);
    let confidence = probabilities.reduce((clean, p) => clean * (1 - p), 1);
    let oodScore: number | undefined;
    if (ood && this.oodThreshold !== undefined) {
      // A NaN score is no evidence of familiarity: it counts as out of distribution.
      oodScore = Number.isFinite(ood[0]) ? ood[0] : Number.POSITIVE_INFINITY;
      confidence *= inDistribution(oodScore, this.oodThreshold);
      if (oodScore >= this.oodThreshold) flags.push('out_of_distribution');
    }
    return {
      estimatedWeightKg: Math.max(0, estimatedWeightKg),
      confidence,
      qualityFlags: qualityFlags.filter((f) => flags.includes(f)),
      inferenceMs,
      ...(oodScore === undefined ? {} : { oodScore }),
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async run(input: Tensor): Promise<{ weight: Float32Array; quality: Float32Array; ood?: Float32Array }> {
    const { inputName, weightOutput, qualityOutput, oodOutput } = this.config;
    const names = oodOutput ? [weightOutput, qualityOutput, oodOutput] : [weightOutput, qualityOutput];
    const out = await this.session.run({ [inputName]: input }, names);
    return {
      weight: out[weightOutput].data as Float32Array,
      quality: out[qualityOutput].data as Float32Array,
      ood: oodOutput ? (out[oodOutput].data as Float32Array) : undefined,
    };
  }

  /** One run on a blank image: the outputs must hold one weight, one column per label and one score. */
  private async checkOutputs(file: string): Promise<void> {
    const { inputSize: size, weightOutput, qualityOutput, oodOutput } = this.config;
    let result;
    try {
      result = await this.run(new Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]));
    } catch (err) {
      throw new VisionModelLoadError(`vision model ${file} failed a test run on a ${size}x${size} image: ${(err as Error).message}`);
    }
    if (result.weight.length !== 1) {
      throw new VisionModelLoadError(`vision model ${file}: output "${weightOutput}" holds ${result.weight.length} values per image, expected 1`);
    }
    if (result.quality.length !== this.labels.length) {
      throw new VisionModelLoadError(
        `vision model ${file}: output "${qualityOutput}" holds ${result.quality.length} values per image, ` +
          `but VISION_QUALITY_LABELS names ${this.labels.length} (${this.labels.join(',')})`,
      );
    }
    if (result.ood && result.ood.length !== 1) {
      throw new VisionModelLoadError(`vision model ${file}: output "${oodOutput}" holds ${result.ood.length} values per image, expected 1`);
    }
  }
}

/** σ(threshold − score): the model's belief that the image is like its training images. */
function inDistribution(score: number, threshold: number): number {
  return 1 / (1 + Math.exp(score - threshold));
}

/** The manifest must describe this very file (sha256 and size) and this model id. */
function checkManifest(config: VisionModelConfig, file: string): ModelManifest {
  const manifestFile = path.resolve(repoRoot, config.manifestPath);
  const manifest = readModelManifest(manifestFile);
  const bytes = fs.readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (manifest.sha256 !== sha256 || manifest.bytes !== bytes.length) {
    throw new VisionModelLoadError(
      `vision model ${file} is not the model its manifest ${manifestFile} describes ` +
        `(file: ${bytes.length} bytes, sha256 ${sha256}; manifest: ${manifest.bytes} bytes, sha256 ${manifest.sha256}); ` +
        `a model and its manifest are replaced together (VISION_MODEL_PATH, VISION_MANIFEST_PATH)`,
    );
  }
  if (manifest.model_id !== config.modelId) {
    throw new VisionModelLoadError(`vision model manifest ${manifestFile} is for model "${manifest.model_id}", but VISION_MODEL_ID is "${config.modelId}"`);
  }
  return manifest;
}

/** The OOD output configured must be the one the manifest calibrated; returns its threshold. */
function checkOodDeclaration(config: VisionModelConfig, manifest: ModelManifest): number | undefined {
  if (!config.oodOutput) return undefined;
  const declared = manifest.out_of_distribution;
  if (!declared) {
    throw new VisionModelLoadError(
      `VISION_OUTPUT_OOD is "${config.oodOutput}" but the model's manifest declares no out-of-distribution check; ` +
        `set VISION_OUTPUT_OOD= (empty) to run this model without one`,
    );
  }
  if (declared.output !== config.oodOutput) {
    throw new VisionModelLoadError(`VISION_OUTPUT_OOD is "${config.oodOutput}" but the model's manifest calibrated output "${declared.output}"`);
  }
  return declared.threshold;
}

function checkLabels(labels: readonly string[]): QualityFlag[] {
  for (const label of labels) {
    if (!(modelFlags as readonly string[]).includes(label)) {
      throw new VisionModelLoadError(`VISION_QUALITY_LABELS: "${label}" is not a quality flag the model may raise (${modelFlags.join(', ')})`);
    }
  }
  if (new Set(labels).size !== labels.length) throw new VisionModelLoadError(`VISION_QUALITY_LABELS names a flag twice: ${labels.join(',')}`);
  return labels as QualityFlag[];
}

function checkSignature(session: InferenceSession, config: VisionModelConfig, file: string): void {
  const { inputName, inputSize, weightOutput, qualityOutput } = config;
  if (!session.inputNames.includes(inputName)) {
    throw new VisionModelLoadError(`vision model ${file} has no input "${inputName}" (VISION_INPUT_NAME); its inputs: ${session.inputNames.join(', ')}`);
  }
  for (const [name, setting] of [
    [weightOutput, 'VISION_OUTPUT_WEIGHT'],
    [qualityOutput, 'VISION_OUTPUT_QUALITY'],
  ] as const) {
    if (!session.outputNames.includes(name)) {
      throw new VisionModelLoadError(`vision model ${file} has no output "${name}" (${setting}); its outputs: ${session.outputNames.join(', ')}`);
    }
  }
  if (config.oodOutput && !session.outputNames.includes(config.oodOutput)) {
    throw new VisionModelLoadError(
      `vision model ${file} has no out-of-distribution output "${config.oodOutput}" (VISION_OUTPUT_OOD); its outputs: ${session.outputNames.join(', ')}; ` +
        `set VISION_OUTPUT_OOD= (empty) to run it without an out-of-distribution check`,
    );
  }
  const meta = session.inputMetadata.find((m) => m.name === inputName);
  if (meta?.isTensor) {
    if (meta.type !== 'float32') throw new VisionModelLoadError(`vision model ${file}: input "${inputName}" is ${meta.type}, expected float32`);
    const expected = ['N', 3, inputSize, inputSize];
    const fits = meta.shape.length === 4 && meta.shape.every((dim, i) => i === 0 || typeof dim !== 'number' || dim === expected[i]);
    if (!fits) {
      throw new VisionModelLoadError(
        `vision model ${file}: input "${inputName}" has shape [${meta.shape.join(', ')}], ` +
          `which does not take [N, 3, ${inputSize}, ${inputSize}] images (VISION_INPUT_SIZE=${inputSize})`,
      );
    }
  }
}
