/** Every cloud consumer service of spec §8; topology.ts binds each one's queue from the catalog. */
import { analyticsService } from './analytics-service';
import { alarmService } from './alarm-service';
import type { ConsumerService } from './event-consumer';
import { feedService } from './feed-service';
import { flockService } from './flock-service';
import { internalMonitoring } from './internal-monitoring';
import { mediaStore } from './media-store';
import { telemetryService } from './telemetry-service';

export const consumerServiceList: readonly ConsumerService[] = [
  telemetryService,
  feedService,
  flockService,
  analyticsService,
  mediaStore,
  internalMonitoring,
  alarmService,
];
