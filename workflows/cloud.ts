/**
 * The workflows the cloud worker registers (namespace farmiq-cloud, CLOUD_TASK_QUEUE).
 * Everything exported here becomes a workflow type; export workflows only.
 */
export { generateInsight } from './insights/generation';
export { notifyInsight } from './insights/notification';
