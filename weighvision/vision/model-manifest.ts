/**
 * A vision model's sidecar manifest (models/weighvision-v1.json, written by ml/ood.py beside the
 * ONNX file): which file it describes (sha256 and size), the model id, the species the model serves
 * (in the flocks' words, domain/contracts/flock-payloads.ts) and how its out-of-distribution
 * output was calibrated. vision-model.ts checks it against the file at load.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { flockSpecies } from '../../domain/contracts/flock-payloads';
import { VisionModelLoadError } from './load-error';

const manifestSchema = z.object({
  model_id: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'),
  bytes: z.number().int().positive(),
  species: z.array(z.enum(flockSpecies)).min(1),
  out_of_distribution: z
    .object({
      output: z.string().min(1),
      /** ood_score at or above this raises out_of_distribution. */
      threshold: z.number().finite(),
    })
    .passthrough()
    .optional(),
});

export type ModelManifest = z.infer<typeof manifestSchema>;

export function readModelManifest(file: string): ModelManifest {
  if (!fs.existsSync(file)) {
    throw new VisionModelLoadError(
      `vision model manifest ${file} does not exist (VISION_MANIFEST_PATH): a model is loaded only with the manifest that declares its species`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VisionModelLoadError(`vision model manifest ${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new VisionModelLoadError(`vision model manifest ${file} is not valid: ${problems}`);
  }
  return parsed.data;
}
