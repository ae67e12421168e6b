/**
 * Station image bytes → the vision model's input tensor: decode (JPEG or PNG), squash the whole
 * frame to size×size (fit: fill, so an animal cut by the border stays visibly cut), RGB, NCHW
 * float32 scaled to 0..1. Any per-channel normalisation lives inside the model graph.
 *
 * Bytes that do not decode are the station's fault, not a passing outage: they throw
 * VisionInputError('image_undecodable'), which callers treat as non-retryable.
 */
import sharp from 'sharp';

export type VisionInputProblem = 'image_undecodable';

export class VisionInputError extends Error {
  constructor(
    readonly code: VisionInputProblem,
    message: string,
  ) {
    super(message);
    this.name = 'VisionInputError';
  }
}

/** One decoded image as the model's input: [1, 3, size, size], RGB, 0..1. */
export async function imageTensor(bytes: Buffer, size: number): Promise<Float32Array> {
  let rgb: Buffer;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: 40_000_000 })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
    }
    rgb = data;
  } catch (err) {
    throw new VisionInputError('image_undecodable', `image could not be decoded as JPEG or PNG: ${(err as Error).message}`);
  }
  return toPlanarUnit(rgb, size);
}

/** Interleaved RGB bytes (HWC) → planar float (CHW), each value / 255. */
function toPlanarUnit(rgb: Buffer, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0, p = 0; p < plane; p++, i += 3) {
    out[p] = rgb[i] / 255;
    out[plane + p] = rgb[i + 1] / 255;
    out[2 * plane + p] = rgb[i + 2] / 255;
  }
  return out;
}
