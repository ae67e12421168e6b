/**
 * The vision model as the edge worker holds it: loaded on the first inference, once per process.
 * The module itself (onnxruntime-node, sharp: native code) is required only then, so the worker
 * starts as fast as without it and keeps syncing even where those libraries cannot load; a failed
 * load is logged, fails that inference attempt (which Temporal retries) and is tried again.
 */
import type { Settings } from '../../config/settings';
import type { Logger } from '../../platform/logger';
import type * as VisionModelModule from './vision-model';

export function lazyVisionModel(s: Settings, log: Logger): () => Promise<VisionModelModule.VisionModel> {
  let model: Promise<VisionModelModule.VisionModel> | undefined;
  return () =>
    (model ??= Promise.resolve()
      .then(() => {
        // require, not import(): under module node16 a dynamic import() stays a real ESM import in this CommonJS
        // build, which jest loads only with --experimental-vm-modules.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { VisionModel, visionModelConfig } = require('./vision-model') as typeof VisionModelModule;
        return VisionModel.load(visionModelConfig(s));
      })
      .then((loaded) => {
        log.info({ modelId: loaded.modelId, species: loaded.species, outOfDistributionCheck: loaded.checksOutOfDistribution }, 'vision model loaded');
        if (!loaded.checksOutOfDistribution)
          log.warn({ modelId: loaded.modelId }, 'VISION_OUTPUT_OOD is empty: images unlike the training set are not detected');
        return loaded;
      })
      .catch((err: Error) => {
        model = undefined;
        log.error({ err: err.message, path: s.VISION_MODEL_PATH }, 'vision model failed to load');
        throw err;
      }));
}
