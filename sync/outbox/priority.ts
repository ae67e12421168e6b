/** Which events go out first: the priorities producers write, and the forwarder's own monitoring events. */
import { eventCatalog, eventTypes, type EventType } from '../../domain/contracts/catalog';

/**
 * Claim order within a lane is priority DESC, then occurred_at (spec §7.3). Every producer takes
 * its priority from here.
 */
export const outboxPriority = {
  normal: 0,
  /** Feed intake goes ahead of the readings of the same time. */
  feedIntake: 1,
  /**
   * Alarm events go ahead of everything in either lane: claim order is priority first, so an alarm
   * raised while the cloud was away is the first thing sent when it is back, ahead of the backlog.
   */
  alarm: 10,
  /** The forwarder's monitoring events go out after everything else that is due. */
  monitoring: -1,
} as const;
export const monitoringPriority = outboxPriority.monitoring;

/**
 * Monitoring events the forwarder writes about itself (spec §8.6): the catalog's events for
 * internal-monitoring (domain/contracts/catalog.ts is where they are declared).
 */
export const monitoringEventTypes: readonly EventType[] = eventTypes.filter((t) => eventCatalog[t].consumers.includes('internal-monitoring'));

export function isMonitoringEvent(eventType: string): boolean {
  return (monitoringEventTypes as readonly string[]).includes(eventType);
}
