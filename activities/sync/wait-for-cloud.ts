/** waitForCloud: while the cloud is away, the forwarder waits here for it to answer again. */
import { Context } from '@temporalio/activity';
import type { SyncActivityDeps } from './deps';

export interface WaitForCloudInput {
  maxWaitMs: number;
}

export interface WaitForCloudResult {
  reachable: boolean;
  waitedMs: number;
  probes: number;
  lastReason?: string;
}

/** Asks GET /health every probeEveryMs and returns as soon as the cloud answers 2xx, or at maxWaitMs. */
export async function waitForCloud(deps: SyncActivityDeps, { maxWaitMs }: WaitForCloudInput): Promise<WaitForCloudResult> {
  const { cloud } = deps;
  const probeEveryMs = deps.probeEveryMs ?? 1500;
  const ctx = Context.current();
  const started = Date.now();
  let probes = 0;
  for (;;) {
    const probe = await cloud.probe();
    probes++;
    const waitedMs = Date.now() - started;
    if (probe.reachable) return { reachable: true, waitedMs, probes };
    const left = maxWaitMs - waitedMs;
    if (left <= 0) return { reachable: false, waitedMs, probes, lastReason: probe.reason };
    ctx.heartbeat({ probes, lastReason: probe.reason });
    await ctx.sleep(Math.min(probeEveryMs, left));
  }
}
