/**
 * The object store as the inference activity sees it: an image's bytes, or undefined when the
 * object is not there (a non-retryable failure for that image, unlike a store that is down).
 */
import type { ImageSource } from '../session-contract';
import { isNotFound, type ObjectStore } from './object-store';

export function objectStoreImageSource(store: ObjectStore): ImageSource {
  return {
    async fetch(objectKey) {
      try {
        return await store.get(objectKey);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}
