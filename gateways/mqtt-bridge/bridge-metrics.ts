/** Prometheus counters and histograms of the MQTT bridge, served on its /metrics endpoint. */
import { Counter, Histogram, Gauge } from 'prom-client';

export const bridgeMetrics = {
  received: new Counter({ name: 'farmiq_bridge_messages_received_total', help: 'Device messages received', labelNames: ['family'] }),
  accepted: new Counter({ name: 'farmiq_bridge_events_accepted_total', help: 'New events committed', labelNames: ['event_type'] }),
  duplicates: new Counter({ name: 'farmiq_bridge_duplicates_total', help: 'Events dropped because (tenant_id, event_id) was already stored' }),
  rejected: new Counter({ name: 'farmiq_bridge_rejected_total', help: 'Messages quarantined with a reason', labelNames: ['reason'] }),
  commitFailures: new Counter({ name: 'farmiq_bridge_commit_failures_total', help: 'Batch commits that failed and were retried' }),
  batchSize: new Histogram({ name: 'farmiq_bridge_batch_size', help: 'Messages per committed batch', buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 4000] }),
  commitSeconds: new Histogram({
    name: 'farmiq_bridge_commit_seconds',
    help: 'Time to commit one batch',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  }),
  pending: new Gauge({ name: 'farmiq_bridge_uncommitted_messages', help: 'Messages received and not yet committed (not yet PUBACKed)' }),
};
