/** A vision model that cannot be used as configured: the message names the mismatch and the setting. */
export class VisionModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VisionModelLoadError';
  }
}
