/**
 * Prometheus metrics of the cloud ingestion path, on the process's default registry (served by
 * /metrics). Created once per process even when several apps or consumers are built (tests do).
 */
import { Counter, Histogram, register } from 'prom-client';

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}

function histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
  return (register.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets });
}

export const ingestionMetrics = {
  /** One per event: outcome accepted | duplicate | rejected; reason is the code without its path. */
  events: counter('farmiq_cloud_ingestion_events_total', 'Edge events by outcome', ['outcome', 'reason']),
  /** One per request: status and code (ok, or the error code). */
  requests: counter('farmiq_cloud_ingestion_requests_total', 'Edge batch requests by HTTP status and code', ['status', 'code']),
  seconds: histogram('farmiq_cloud_ingestion_batch_seconds', 'Time to answer an edge batch', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
};

export const relayMetrics = {
  published: counter('farmiq_cloud_relay_published_total', 'Outbox rows published with a confirm', []),
  failures: counter('farmiq_cloud_relay_failures_total', 'Relay rounds that failed (rows stay unpublished)', ['reason']),
  unroutable: counter('farmiq_cloud_relay_unroutable_total', 'Messages RabbitMQ returned as unroutable', ['routing_key']),
  pruned: counter('farmiq_cloud_relay_pruned_total', 'Published outbox rows deleted after the retention period', []),
};

export const consumerMetrics = {
  messages: counter('farmiq_cloud_consumer_messages_total', 'Messages handled by the cloud consumers', ['consumer', 'outcome']),
  batchSeconds: histogram(
    'farmiq_cloud_consumer_batch_seconds',
    'Time to commit one consumer batch',
    ['consumer'],
    [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  ),
  deadLetters: counter('farmiq_cloud_dead_letters_total', 'Messages stored in dead_letters', ['queue', 'reason']),
  syncBatches: counter('farmiq_cloud_sync_batches_total', 'sync.batch.* events reported by edges', ['event_type']),
  syncBatchEvents: counter('farmiq_cloud_sync_batch_events_total', 'Events counted in sync.batch.acked, by outcome', ['outcome']),
};
