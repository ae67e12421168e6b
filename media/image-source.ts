/**
 * The object store as the inference activity sees it: an image's bytes, or undefined when the
 * object is not there (a non-retryable failure for that image, unlike a store that is down).
 */
import type { ImageSource } from '../activities/weighvision-session';
import type { ObjectStore } from './object-store';

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export function objectStoreImageSource(store: ObjectStore): ImageSource {
  return {
    async fetch(objectKey) {
      try {
        return await store.get(objectKey);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
  };
}
