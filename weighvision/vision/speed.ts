/**
 * Per-image cost of a vision estimate on this machine: decode + resize + model run, the figure
 * docs/model-card.md quotes. Usage: npx tsx weighvision/vision/speed.ts [rounds]
 *
 * Runs the test fixtures one at a time through one loaded model (as a worker does), after a warm-up
 * round, and prints the distribution of ImageEstimate.inferenceMs and the wall time per image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { settings } from '../../config/settings';
import { VisionModel, visionModelConfig, type VisionModelConfig } from './vision-model';

const fixtureDir = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'weighvision');

async function main(modelConfig: VisionModelConfig, rounds: number): Promise<void> {
  const manifest = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'manifest.json'), 'utf8')) as { images: { file: string }[] };
  const images: Buffer[] = manifest.images.map((f) => fs.readFileSync(path.join(fixtureDir, f.file)));
  const model = await VisionModel.load(modelConfig);
  for (const bytes of images) await model.estimate(bytes);
  const ms: number[] = [];
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const bytes of images) ms.push((await model.estimate(bytes)).inferenceMs);
  const wall = (performance.now() - started) / ms.length;
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2);
  console.log(`${ms.length} images: inferenceMs p50 ${at(0.5)} p95 ${at(0.95)} max ${at(1)}; wall ${wall.toFixed(2)} ms/image`);
  await model.close();
}

void main(visionModelConfig(settings()), Number(process.argv[2] ?? 50));
