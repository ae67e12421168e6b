/**
 * The workflows the edge worker registers (namespace farmiq-edge, EDGE_TASK_QUEUE).
 * Everything exported here becomes a workflow type; export workflows only.
 */
export { farmAlarm } from './alarms/alarm';
export { sweepAlarmRules } from './alarms/sweep';
export { edgeDownlink } from './downlink/downlink';
export { publishTelemetryRollups } from './ingest/rollups';
export { syncForwarder } from './sync/forwarder';
export { pruneSyncOutbox } from './sync/retention';
export { weighVisionSession } from './weighvision/session';
