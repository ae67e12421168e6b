/**
 * The ApplicationFailure types of activities/failures.ts, on their own and pure so that the
 * workflows' presets (nonRetryableErrorTypes) import them from below without the helper's
 * dependencies (the workflow bundle is not tree-shaken). The strings are part of every recorded
 * history: never rename them.
 */

/** Postgres refuses this data, or Temporal would refuse this payload: retrying cannot help. */
export const dataRefusedType = 'DataRefused';
