/**
 * The downlink's activity (docs/downlink.md): one exchange with the cloud. It re-runs the effects
 * still pending, tells the cloud the outcomes it has not heard yet, pulls the commands after the
 * highest seq recorded (long-polling up to waitSeconds when it has nothing to tell), and applies
 * them (sync/downlink/applier.ts). Signed with the edge key like a sync batch.
 *
 * It never throws for the cloud being away or refusing: it answers what happened and the workflow
 * backs off (spec §7.4). Only the edge database failing throws (retried by the activity preset).
 */
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { commandsPullResponse, edgeCommandsPath, type CommandsPullRequest } from '../../domain/downlink/commands';
import { signRequest } from '../../domain/sync';
import type { Logger } from '../../platform/logger';
import type { CloudClient } from '../../sync/cloud-client';
import type { EdgeIdentitySource } from '../../sync/edge-identity';
import { DownlinkApplier } from '../../sync/downlink/applier';
import type { ExchangeResult } from '../../sync/downlink/downlink-contract';
import { highestSeq, markReported, unreportedOutcomes } from '../../sync/downlink/downlink-store';
import type { DownlinkHandlers } from '../../sync/downlink/handlers';

export interface DownlinkActivityDeps {
  pool: Pool;
  edgeId: string;
  /** A client whose request timeout is longer than the longest pull wait. */
  cloud: CloudClient;
  identity: Pick<EdgeIdentitySource, 'current'>;
  /** What applies each command type: the device handlers, the alarm handlers, … */
  handlers: DownlinkHandlers;
  /** EDGE_TENANTS (empty: the tenants the farm server holds devices or flocks of). */
  tenants: readonly string[];
  log: Logger;
}

/** Beats while `work` runs, when running as an activity (tests call it directly). */
function heartbeatWhile<T>(work: Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return work;
  }
  const beat = setInterval(() => ctx.heartbeat(), 1000);
  return work.finally(() => clearInterval(beat));
}

function errorCodeOf(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code.slice(0, 100) : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function createExchange(deps: DownlinkActivityDeps): (input: { waitSeconds: number }) => Promise<ExchangeResult> {
  const applier = new DownlinkApplier({ pool: deps.pool, edgeId: deps.edgeId, handlers: deps.handlers, tenants: deps.tenants, log: deps.log });

  // Beats for the whole exchange: applying a full answer (broker effects included) takes a while too.
  return (input) => heartbeatWhile(exchange(input));

  async function exchange({ waitSeconds }: { waitSeconds: number }): Promise<ExchangeResult> {
    const identity = deps.identity.current();
    if (!identity.configured) return { kind: 'not_configured', reason: identity.reason };
    await applier.runPendingEffects();

    const outcomes = await unreportedOutcomes(deps.pool, deps.edgeId, 1000);
    const request: CommandsPullRequest = {
      edge_id: deps.edgeId,
      after_seq: await highestSeq(deps.pool, deps.edgeId),
      // Outcomes to tell: answer at once, so the cloud hears them now rather than after the wait.
      wait_seconds: outcomes.length > 0 ? 0 : waitSeconds,
      outcomes,
    };
    const body = Buffer.from(JSON.stringify(request));
    const path = deps.cloud.pathOf(edgeCommandsPath);
    const answer = await deps.cloud.post(edgeCommandsPath, body, () => signRequest(identity.signer, 'POST', path, body));

    if (answer.kind !== 'answered') return { kind: 'unreachable', reason: answer.reason };
    if (answer.status === 503 || answer.status >= 500)
      return { kind: 'unreachable', reason: `the cloud answered ${answer.status} ${errorCodeOf(answer.body)}` };
    if (answer.status !== 200) {
      const code = errorCodeOf(answer.body);
      return { kind: 'refused', status: answer.status, code, reason: `the cloud refused the pull: ${answer.status} ${code}` };
    }
    let parsed: ReturnType<typeof commandsPullResponse.safeParse>;
    try {
      parsed = commandsPullResponse.safeParse(JSON.parse(answer.body.toString('utf8')));
    } catch {
      return { kind: 'refused', status: answer.status, code: 'invalid_answer', reason: 'the cloud answered something other than JSON' };
    }
    if (!parsed.success)
      return { kind: 'refused', status: answer.status, code: 'invalid_answer', reason: `the cloud's answer: ${parsed.error.issues[0].message}` };

    // The cloud has them now (recorded, or recorded before): not again.
    await markReported(
      deps.pool,
      outcomes.map((o) => o.command_id),
    );
    const applied = await applier.applyBatch(parsed.data.commands);
    return {
      kind: 'exchanged',
      received: parsed.data.commands.length,
      applied: applied.applied,
      refused: applied.refused,
      skipped: applied.skipped,
      reported: outcomes.length,
      recorded: parsed.data.outcomes_recorded,
      effectsPending: applied.effectsPending,
      ...(applied.failed ? { failed: applied.failed } : {}),
    };
  }
}
