/**
 * The ApplicationFailure types of activities/failures.ts, on their own so that the workflows'
 * presets import them without the helper's dependencies (the workflow bundle is not tree-shaken).
 */

/** Postgres refuses this data, or Temporal would refuse this payload: retrying cannot help. */
export const dataRefusedType = 'DataRefused';
