/**
 * The downlink workflow's activities (workflows/downlink/downlink.ts imports them as types). The
 * handler registry is a parameter: the edge worker passes the device handlers
 * (sync/downlink/device-commands.ts) and the alarm handlers, each for its command types.
 */
import type { DownlinkActivities } from '../../sync/downlink/downlink-contract';
import { createExchange, type DownlinkActivityDeps } from './exchange';

export type { DownlinkActivityDeps };

export function createDownlinkActivities(deps: DownlinkActivityDeps): DownlinkActivities {
  return { exchangeDownlinkCommands: createExchange(deps) };
}
