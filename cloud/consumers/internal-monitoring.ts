/**
 * internal-monitoring (spec §8.6): what edges report about their own sync (sync.batch.sent /
 * sync.batch.acked), turned into log lines and Prometheus counters. Nothing is stored beyond the
 * consumer_dedupe row, so a redelivered report is not counted twice.
 */
import { consumerMetrics } from '../metrics';
import type { ConsumerService } from './event-consumer';

export const internalMonitoring: ConsumerService = {
  name: 'internal-monitoring',
  writers: {
    async 'sync.batch.sent'(_client, events, { log }) {
      consumerMetrics.syncBatches.inc({ event_type: 'sync.batch.sent' }, events.length);
      for (const e of events) {
        log.info({ tenantId: e.tenant_id, traceId: e.trace_id, ...e.payload }, 'edge sent a sync batch');
      }
    },
    async 'sync.batch.acked'(_client, events, { log }) {
      consumerMetrics.syncBatches.inc({ event_type: 'sync.batch.acked' }, events.length);
      for (const e of events) {
        const { accepted, duplicate, rejected } = e.payload;
        consumerMetrics.syncBatchEvents.inc({ outcome: 'accepted' }, accepted);
        consumerMetrics.syncBatchEvents.inc({ outcome: 'duplicate' }, duplicate);
        consumerMetrics.syncBatchEvents.inc({ outcome: 'rejected' }, rejected);
        (rejected > 0 ? log.warn.bind(log) : log.info.bind(log))({ tenantId: e.tenant_id, traceId: e.trace_id, ...e.payload }, 'edge sync batch acknowledged');
      }
    },
  },
};
