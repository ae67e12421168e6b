/**
 * What the farm server does with each downlink command type (docs/downlink.md). The applier
 * (./applier.ts) runs a handler inside the command's own transaction, right after it recorded the
 * command id: whatever the handler writes commits together with that record, or not at all.
 *
 * Effects outside the edge database (a Temporal signal, the broker's password file) go in
 * `afterCommit`: it runs once the transaction committed and is retried on every exchange until it
 * succeeds. A retry after a restart has no closure to call, so the applier derives it again by
 * running `apply` in a transaction it rolls back: `afterCommit` must therefore be idempotent and
 * act on what the first commit stored (read it back), never on a value `apply` made up (a random
 * password, a timestamp).
 */
import type { z } from 'zod';
import type { Queryable } from '../../db/transaction';
import type { CommandType, EdgeCommand, commandPayloads } from '../../domain/downlink/commands';

export interface DownlinkHandler<T extends CommandType> {
  /** In the command's transaction on the edge database; throw CommandRefused(reason) to refuse. */
  apply(tx: Queryable, payload: z.infer<(typeof commandPayloads)[T]>, command: EdgeCommand): Promise<{ result: string; afterCommit?: () => Promise<void> }>;
}

export type DownlinkHandlers = { [T in CommandType]?: DownlinkHandler<T> };

/** A command this farm server will not apply, with a stable reason code; reported, never retried. */
export class CommandRefused extends Error {
  constructor(readonly reason: string) {
    super(`command refused: ${reason}`);
    this.name = 'CommandRefused';
  }
}
