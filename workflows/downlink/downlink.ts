/**
 * The farm server's downlink (docs/downlink.md): one long-running workflow per edge, id
 * downlinkWorkflowId(edge), started by the edge worker. It loops on one activity — tell the
 * outcomes, pull (long-poll) and apply the cloud's commands — and while the cloud cannot be
 * reached, or refuses, it backs off per spec §7.4 (domain/sync/retry-policy.ts: 1 s, 2 s, 4 s, …
 * capped at 300 s) and keeps trying for as long as it takes: a farm offline for days drains its
 * queue, in order, when the link is back. It continues as new every exchangesPerRun exchanges.
 */
import { continueAsNew, log, proxyActivities, sleep } from '@temporalio/workflow';
import { maxPullWaitSeconds } from '../../domain/downlink/commands';
import { retryDelayMs } from '../../domain/sync/retry-policy';
import type { DownlinkActivities, DownlinkInput, ExchangeResult } from '../../sync/downlink/downlink-contract';

const { exchangeDownlinkCommands } = proxyActivities<DownlinkActivities>({
  // The longest pull, plus the request timeout around it, plus applying up to 100 commands.
  startToCloseTimeout: `${maxPullWaitSeconds + 150} seconds`,
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** Without a key the edge has no cloud; the key file is read again this often. */
const notConfiguredPauseMs = 60_000;
export const defaultExchangesPerRun = 200;
/**
 * An empty answer sooner than this (a proxy that cuts long polls short, a cloud that does not hold
 * them) is followed by a pause up to it, so the farm server never polls in a tight loop.
 */
export const minEmptyExchangeMs = 1000;

export async function edgeDownlink(input: DownlinkInput): Promise<void> {
  const perRun = input.exchangesPerRun ?? defaultExchangesPerRun;
  let failures = input.failures ?? 0;
  for (let i = 0; i < perRun; i++) {
    let result: ExchangeResult;
    const started = Date.now();
    try {
      result = await exchangeDownlinkCommands({ waitSeconds: Math.min(input.waitSeconds, maxPullWaitSeconds) });
    } catch (err) {
      // The edge database failed for all the activity's attempts: back off like an unreachable cloud.
      result = { kind: 'unreachable', reason: `the exchange failed: ${(err as Error).message}` };
    }
    if (result.kind === 'not_configured') {
      await sleep(notConfiguredPauseMs);
      continue;
    }
    if (result.kind === 'exchanged' && !result.failed) {
      failures = 0;
      const early = minEmptyExchangeMs - (Date.now() - started);
      if (result.received === 0 && early > 0) await sleep(early);
      continue;
    }
    failures += 1;
    const delay = retryDelayMs(failures);
    log.warn('downlink exchange did not go through; backing off', { failures, delayMs: Math.round(delay), result });
    await sleep(delay);
  }
  await continueAsNew<typeof edgeDownlink>({ ...input, failures });
}
