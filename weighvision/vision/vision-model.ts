/**
 * The WeighVision vision model: one ONNX InferenceSession per process, reused for every image,
 * estimating an animal's weight and what is wrong with the picture (docs/model-card.md).
 *
 * The model is swappable by configuration (VISION_* settings), so load() checks the file against
 * the configured contract — input name and size, output names, one quality column per label —
 * and fails with a sentence naming the mismatch instead of producing nonsense per image.
 *
 * Confidence is the model's own probability that the image has none of its quality problems,
 * Π (1 − p_flag) over the quality columns: 1 for a clean frame, falling toward 0 as any problem
 * becomes likely. It says how much to trust the image, not a weight error bar.
 *
 * Concurrency: onnxruntime-node runs a session synchronously on the JS thread (run() only defers
 * it with setImmediate), so concurrent estimate() calls interleave their decodes (sharp, on the
 * libuv pool) and take turns on the session; ONNX Runtime's Run is thread-safe in any case.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Settings } from '../../config/settings';
import { qualityFlags, type QualityFlag } from '../../domain/contracts/payloads';
import { sessionVerdictFlags } from '../../domain/contracts/quality-flags';
import { imageTensor } from './preprocess';

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
}

export interface ImageEstimate {
  estimatedWeightKg: number;
  /** 0..1: Π (1 − p) over the quality probabilities. */
  confidence: number;
  qualityFlags: QualityFlag[];
  /** Decode + resize + model run, milliseconds. */
  inferenceMs: number;
}

/** Flags the model may raise; scale_vision_disagree is the session's verdict, never the model's. */
const modelFlags: readonly QualityFlag[] = qualityFlags.filter((f) => !sessionVerdictFlags.includes(f));

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
  };
}

export class VisionModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VisionModelLoadError';
  }
}

export class VisionModel {
  private constructor(
    private readonly session: InferenceSession,
    private readonly config: VisionModelConfig,
    private readonly labels: readonly QualityFlag[],
  ) {}

  get modelId(): string {
    return this.config.modelId;
  }

  static async load(config: VisionModelConfig): Promise<VisionModel> {
    const labels = checkLabels(config.qualityLabels);
    const file = path.resolve(repoRoot, config.modelPath);
    if (!fs.existsSync(file)) throw new VisionModelLoadError(`vision model ${file} does not exist (VISION_MODEL_PATH)`);
    let session: InferenceSession;
    try {
      // Tiny model, one image at a time: extra threads only contend with the rest of the worker.
      session = await InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new VisionModelLoadError(`vision model ${file} is not a loadable ONNX model: ${(err as Error).message}`);
    }
    const model = new VisionModel(session, config, labels);
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
    const { weight, quality } = await this.run(input);
    const inferenceMs = performance.now() - started;
    const estimatedWeightKg = weight[0];
    if (!Number.isFinite(estimatedWeightKg)) throw new Error(`vision model ${this.modelId} returned a non-finite weight`);
    const probabilities = Array.from(quality, (p) => Math.min(1, Math.max(0, p)));
    return {
      estimatedWeightKg: Math.max(0, estimatedWeightKg),
      confidence: probabilities.reduce((clean, p) => clean * (1 - p), 1),
      qualityFlags: this.labels.filter((_, i) => probabilities[i] >= this.config.qualityThreshold),
      inferenceMs,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async run(input: Tensor): Promise<{ weight: Float32Array; quality: Float32Array }> {
    const { inputName, weightOutput, qualityOutput } = this.config;
    const out = await this.session.run({ [inputName]: input }, [weightOutput, qualityOutput]);
    return { weight: out[weightOutput].data as Float32Array, quality: out[qualityOutput].data as Float32Array };
  }

  /** One run on a blank image: the outputs must hold one weight and one column per label. */
  private async checkOutputs(file: string): Promise<void> {
    const { inputSize: size, weightOutput, qualityOutput } = this.config;
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
  }
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
