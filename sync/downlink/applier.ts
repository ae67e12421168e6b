/**
 * Applies a pulled batch of downlink commands on the farm server, exactly once each, in seq order
 * (docs/downlink.md):
 *
 *   per command, one transaction: record its id first (already recorded → skip, and tell the cloud
 *   its stored outcome again: the cloud would not resend it if it had that); refuse it when its
 *   tenant is not one this farm server serves, its payload fails parseCommand or no handler takes
 *   its type; otherwise run the handler, whose writes commit with the record (a CommandRefused
 *   undoes the handler's writes and keeps the refusal).
 *
 *   after commit: the handler's afterCommit effect, then the row is marked effect_done. Effects run
 *   in seq order and stop at the first that fails, so a later command's effect never overtakes an
 *   earlier one (a revoke after a provision stays after it); pending effects are retried with every
 *   exchange (runPendingEffects).
 *
 * A handler that fails with anything else rolls the command back, unrecorded, and stops the batch:
 * the next pull answers it again, and nothing after it is applied before it.
 */
import type { Pool } from 'pg';
import { inSavepoint, inTransaction } from '../../db/transaction';
import { parseCommand, type CommandType, type EdgeCommand } from '../../domain/downlink/commands';
import type { Logger } from '../../platform/logger';
import { CommandRefused, type DownlinkHandler, type DownlinkHandlers } from './handlers';
import {
  findCommand,
  markEffectDone,
  markEffectFailed,
  markUnreported,
  pendingEffects,
  recordCommand,
  servedTenants,
  settleCommand,
  type RecordedCommand,
} from './downlink-store';

export interface ApplierDeps {
  pool: Pool;
  /** EDGE_ID: the cloud numbers each edge id's commands on their own. */
  edgeId: string;
  handlers: DownlinkHandlers;
  /** EDGE_TENANTS; empty: the tenants the farm server holds devices or flocks of. */
  tenants: readonly string[];
  log: Logger;
}

export type AppliedStatus = 'applied' | 'refused' | 'skipped';

export interface BatchResult {
  applied: number;
  refused: number;
  /** Recorded before: not applied again. */
  skipped: number;
  /** The command that failed (not recorded; the batch stopped there), if one did. */
  failed?: { commandId: string; seq: number; error: string };
  /** Effects still pending after this batch. */
  effectsPending: number;
}

type Effect = () => Promise<void>;

class Rollback extends Error {}

function handlerFor(handlers: DownlinkHandlers, type: CommandType): DownlinkHandler<CommandType> | undefined {
  return handlers[type];
}

export class DownlinkApplier {
  /** Effects of commands applied by this process, until they ran (a restart re-derives them). */
  private readonly effects = new Map<string, Effect>();

  constructor(private readonly deps: ApplierDeps) {}

  async applyBatch(commands: readonly EdgeCommand[]): Promise<BatchResult> {
    const result: BatchResult = { applied: 0, refused: 0, skipped: 0, effectsPending: 0 };
    // The cloud answers in seq order; a shuffled answer is applied in seq order all the same.
    const ordered = [...commands].sort((a, b) => a.seq - b.seq);
    const served = await servedTenants(this.deps.pool, this.deps.tenants);
    for (const command of ordered) {
      let status: AppliedStatus;
      try {
        status = await this.applyOne(command, served);
      } catch (err) {
        result.failed = { commandId: command.command_id, seq: command.seq, error: (err as Error).message };
        this.deps.log.warn(
          { commandId: command.command_id, seq: command.seq, type: command.type, err: (err as Error).message },
          'downlink command failed; retried with the next pull',
        );
        break;
      }
      result[status] += 1;
    }
    result.effectsPending = await this.runPendingEffects();
    return result;
  }

  /**
   * Runs the effects still pending, in seq order, until one fails. How many are left pending.
   */
  async runPendingEffects(): Promise<number> {
    const pending = await pendingEffects(this.deps.pool, this.deps.edgeId, 1000);
    for (const [i, row] of pending.entries()) {
      try {
        const effect = this.effects.get(row.commandId) ?? (await this.rederive(row));
        if (effect) await effect();
        await markEffectDone(this.deps.pool, row.commandId);
        this.effects.delete(row.commandId);
      } catch (err) {
        await markEffectFailed(this.deps.pool, row.commandId, (err as Error).message);
        this.deps.log.warn(
          { commandId: row.commandId, seq: row.seq, type: row.type, err: (err as Error).message },
          'downlink effect failed; retried with the next exchange',
        );
        return pending.length - i;
      }
    }
    return 0;
  }

  private async applyOne(command: EdgeCommand, served: ReadonlySet<string>): Promise<AppliedStatus> {
    let effect: Effect | undefined;
    const status = await inTransaction(this.deps.pool, async (tx): Promise<AppliedStatus> => {
      if (await findCommand(tx, command.command_id)) {
        await markUnreported(tx, command.command_id);
        return 'skipped';
      }
      const refuse = async (reason: string): Promise<AppliedStatus> => {
        const recorded = await recordCommand(tx, this.deps.edgeId, command, { status: 'refused', result: reason, hasEffect: false });
        return recorded ? 'refused' : 'skipped';
      };
      if (!served.has(command.tenant_id.toLowerCase())) return refuse('tenant_not_served');
      const parsed = parseCommand(command);
      if (!parsed.ok) return refuse(parsed.reason);
      const handler = handlerFor(this.deps.handlers, parsed.command.type);
      if (!handler) return refuse('unsupported_command_type');

      // The id first: a second apply racing this one waits on it and then finds it.
      if (!(await recordCommand(tx, this.deps.edgeId, command, { status: 'applied', result: 'applying', hasEffect: false }))) return 'skipped';
      try {
        const done = await inSavepoint(tx, () => handler.apply(tx, parsed.command.payload, command));
        effect = done.afterCommit;
        await settleCommand(tx, command.command_id, { status: 'applied', result: done.result, hasEffect: effect !== undefined });
        return 'applied';
      } catch (err) {
        if (!(err instanceof CommandRefused)) throw err;
        effect = undefined;
        await settleCommand(tx, command.command_id, { status: 'refused', result: err.reason, hasEffect: false });
        return 'refused';
      }
    });
    if (effect) this.effects.set(command.command_id, effect);
    this.deps.log.info({ commandId: command.command_id, seq: command.seq, type: command.type, status }, 'downlink command');
    return status;
  }

  /** The effect of a command applied before a restart: apply again in a transaction that is rolled back. */
  private async rederive(row: RecordedCommand): Promise<Effect | undefined> {
    const command: EdgeCommand = {
      command_id: row.commandId,
      seq: row.seq,
      tenant_id: row.tenantId,
      type: row.type,
      payload: row.payload,
      created_at: row.createdAt.toISOString(),
      created_by: row.createdBy,
    };
    const parsed = parseCommand(command);
    const handler = parsed.ok ? handlerFor(this.deps.handlers, parsed.command.type) : undefined;
    if (!parsed.ok || !handler) return undefined;
    let effect: Effect | undefined;
    await inTransaction(this.deps.pool, async (tx) => {
      effect = (await handler.apply(tx, parsed.command.payload, command)).afterCommit;
      throw new Rollback();
    }).catch((err: unknown) => {
      // Refused now (what it acted on is gone): there is nothing left to do after the commit.
      if (!(err instanceof Rollback) && !(err instanceof CommandRefused)) throw err;
    });
    return effect;
  }
}
