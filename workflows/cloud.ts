/**
 * The workflows the cloud worker registers (namespace farmiq-cloud, CLOUD_TASK_QUEUE).
 * Everything exported here becomes a workflow type; export workflows only.
 *
 * Empty until the first cloud workflow (sync ingestion, insights) lands: an empty index bundles
 * and the worker polls the task queue, ready for it (docs/temporal.md).
 */
export {};
