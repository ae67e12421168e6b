/**
 * The cloud's queue of commands per farm server (docs/downlink.md): the only writer of
 * edge_commands (migration cloud/0015). Enqueueing runs inside the caller's withTenant transaction
 * on the tenant pool, so row-level security admits only the tenant's own commands, and only for an
 * edge that serves the tenant; the edge's pull (gateways/http/downlink/) reads and settles them on
 * the owner pool, for the authenticated edge only.
 *
 * Each edge's commands carry a seq (1, 2, 3, …) across all its tenants; the edge applies them in
 * seq order. A command stays in the answers of the edge's pulls until the edge reports its outcome,
 * so a lost answer is delivered again and the edge, which records each command id, applies it once.
 */
import type { Pool } from 'pg';
import { withTenant } from '../../auth/tenant-db';
import type { Queryable } from '../../db/transaction';
import { isUuid } from '../../domain/contracts/identifiers';
import { maxCommandsPerPull, parseCommand, type CommandOutcome, type CommandType, type EdgeCommand } from '../../domain/downlink/commands';
import { edgeIdSchema } from '../edges';

/** The Postgres channel an enqueue notifies (payload: the edge id) when its transaction commits. */
export const edgeCommandsChannel = 'farmiq_edge_commands';

export type DownlinkErrorCode = 'edge_not_serving_tenant' | 'invalid_payload' | 'unknown_command_type' | 'invalid_input';

/** Why a command was not enqueued; `code` is stable (the dashboard API answers it). */
export class DownlinkError extends Error {
  constructor(
    readonly code: DownlinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DownlinkError';
  }
}

export interface NewCommand {
  tenantId: string;
  edgeId: string;
  type: CommandType;
  payload: unknown;
  /** Who asked: the dashboard user's email, or `system:<what>`. */
  createdBy: string;
  /** The same key again (per tenant and edge) returns the command already queued instead of a second one. */
  dedupeKey?: string;
}

export interface EnqueuedCommand {
  commandId: string;
  seq: number;
  duplicate: boolean;
}

/** Enqueues one command for the edge. `client` must be inside withTenant(…, input.tenantId). */
export async function enqueueCommand(client: Queryable, input: NewCommand): Promise<EnqueuedCommand> {
  const tenantId = input.tenantId.toLowerCase();
  if (!isUuid(tenantId)) throw new DownlinkError('invalid_input', `tenant id must be a uuid, got ${JSON.stringify(input.tenantId)}`);
  if (!edgeIdSchema.safeParse(input.edgeId).success) throw new DownlinkError('invalid_input', `not an edge id: ${JSON.stringify(input.edgeId)}`);
  if (!input.createdBy || input.createdBy.length > 200) throw new DownlinkError('invalid_input', 'created_by must be 1-200 characters');
  if (input.dedupeKey !== undefined && (input.dedupeKey.length < 1 || input.dedupeKey.length > 200)) {
    throw new DownlinkError('invalid_input', 'a dedupe key must be 1-200 characters');
  }
  const parsed = parseCommand({ type: input.type, payload: input.payload });
  if (!parsed.ok) {
    const code = parsed.reason === 'unknown_command_type' ? 'unknown_command_type' : 'invalid_payload';
    throw new DownlinkError(code, `command ${input.type} refused: ${parsed.reason}`);
  }

  if (input.dedupeKey !== undefined) {
    const existing = await client.query<{ command_id: string; seq: string }>(
      'SELECT command_id::text, seq FROM edge_commands WHERE tenant_id = $1 AND edge_id = $2 AND dedupe_key = $3',
      [tenantId, input.edgeId, input.dedupeKey],
    );
    if (existing.rows[0]) return { commandId: existing.rows[0].command_id, seq: Number(existing.rows[0].seq), duplicate: true };
  }

  // Null unless the edge serves the caller's tenant (and is not revoked); it also locks the edge's
  // queue until this transaction ends, so seqs commit in order.
  const next = await client.query<{ seq: string | null }>('SELECT next_edge_command_seq($1) AS seq', [input.edgeId]);
  const seq = next.rows[0]?.seq;
  if (seq === null || seq === undefined) {
    throw new DownlinkError('edge_not_serving_tenant', `edge ${input.edgeId} does not serve tenant ${tenantId} (or is revoked)`);
  }
  const inserted = await client.query<{ command_id: string }>(
    `INSERT INTO edge_commands (tenant_id, edge_id, seq, type, payload, dedupe_key, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING command_id::text`,
    [tenantId, input.edgeId, seq, parsed.command.type, JSON.stringify(parsed.command.payload), input.dedupeKey ?? null, input.createdBy],
  );
  // Delivered at commit, never for a transaction that rolls back: wakes the edge's held pull.
  await client.query('SELECT pg_notify($1, $2)', [edgeCommandsChannel, input.edgeId]);
  return { commandId: inserted.rows[0].command_id, seq: Number(seq), duplicate: false };
}

interface CommandRow {
  command_id: string;
  seq: string;
  tenant_id: string;
  type: string;
  payload: unknown;
  created_at: Date;
  created_by: string;
}

/**
 * The edge's commands after `afterSeq` still without an outcome, in seq order, restricted to the
 * tenants the edge serves now (a link removed since the enqueue stops delivery). Marks them
 * delivered. Owner pool: the caller authenticated the edge.
 */
export async function pullCommands(pool: Pool, edge: { edgeId: string; tenants: ReadonlySet<string> }, afterSeq: number): Promise<EdgeCommand[]> {
  const { rows } = await pool.query<CommandRow>(
    `WITH next AS (
       SELECT command_id FROM edge_commands
       WHERE edge_id = $1 AND seq > $2 AND outcome IS NULL AND tenant_id = ANY($3::uuid[])
       ORDER BY seq LIMIT $4
     )
     UPDATE edge_commands c SET delivered_at = coalesce(c.delivered_at, now())
     FROM next WHERE c.command_id = next.command_id
     RETURNING c.command_id::text, c.seq, c.tenant_id::text, c.type, c.payload, c.created_at, c.created_by`,
    [edge.edgeId, afterSeq, [...edge.tenants], maxCommandsPerPull],
  );
  return rows
    .map((r) => ({
      command_id: r.command_id,
      seq: Number(r.seq),
      tenant_id: r.tenant_id,
      type: r.type,
      payload: r.payload,
      created_at: r.created_at.toISOString(),
      created_by: r.created_by,
    }))
    .sort((a, b) => a.seq - b.seq);
}

/** Whether a pull would answer anything now (the long-poll's check). */
export async function hasOpenCommands(pool: Pool, edge: { edgeId: string; tenants: ReadonlySet<string> }, afterSeq: number): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM edge_commands WHERE edge_id = $1 AND seq > $2 AND outcome IS NULL AND tenant_id = ANY($3::uuid[]) LIMIT 1', [
    edge.edgeId,
    afterSeq,
    [...edge.tenants],
  ]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * Records the edge's outcomes in one statement: only for commands of this edge that have none yet
 * (a repeated outcome, or one for another edge's command, records nothing). How many it recorded.
 */
export async function recordOutcomes(pool: Pool, edgeId: string, outcomes: readonly CommandOutcome[]): Promise<number> {
  if (outcomes.length === 0) return 0;
  const r = await pool.query(
    `UPDATE edge_commands c SET outcome = o.status, result = o.result, applied_at = o.applied_at, recorded_at = now(),
            delivered_at = coalesce(c.delivered_at, now())
     FROM (SELECT DISTINCT ON (command_id) * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
             AS u(command_id, status, result, applied_at)) o
     WHERE c.command_id = o.command_id AND c.edge_id = $1 AND c.outcome IS NULL`,
    [edgeId, outcomes.map((o) => o.command_id), outcomes.map((o) => o.status), outcomes.map((o) => o.result), outcomes.map((o) => o.applied_at)],
  );
  return r.rowCount ?? 0;
}

export const commandStatuses = ['pending', 'delivered', 'applied', 'refused'] as const;
export type CommandStatus = (typeof commandStatuses)[number];

export interface QueuedCommand {
  commandId: string;
  seq: number;
  type: string;
  status: CommandStatus;
  payload: unknown;
  createdAt: Date;
  createdBy: string;
  deliveredAt: Date | null;
  appliedAt: Date | null;
  result: string | null;
}

/** The tenant's commands for one of its edges, newest first; null when the edge does not serve the tenant. */
export async function listEdgeCommands(
  tenantPool: Pool,
  tenantId: string,
  edgeId: string,
  opts: { limit: number; status?: CommandStatus },
): Promise<QueuedCommand[] | null> {
  return withTenant(tenantPool, tenantId, async (client) => {
    const link = await client.query('SELECT 1 FROM edge_tenants WHERE edge_id = $1 AND tenant_id = $2', [edgeId, tenantId]);
    if (link.rowCount === 0) return null;
    const { rows } = await client.query<
      CommandRow & { delivered_at: Date | null; applied_at: Date | null; outcome: 'applied' | 'refused' | null; result: string | null; status: CommandStatus }
    >(
      `SELECT * FROM (
         SELECT command_id::text, seq, type, payload, created_at, created_by, delivered_at, applied_at, outcome, result,
                coalesce(outcome, CASE WHEN delivered_at IS NULL THEN 'pending' ELSE 'delivered' END) AS status
         FROM edge_commands WHERE tenant_id = $1 AND edge_id = $2
       ) c WHERE ($3::text IS NULL OR status = $3)
       ORDER BY seq DESC LIMIT $4`,
      [tenantId, edgeId, opts.status ?? null, opts.limit],
    );
    return rows.map((r) => ({
      commandId: r.command_id,
      seq: Number(r.seq),
      type: r.type,
      status: r.status,
      payload: r.payload,
      createdAt: r.created_at,
      createdBy: r.created_by,
      deliveredAt: r.delivered_at,
      appliedAt: r.applied_at,
      result: r.result,
    }));
  });
}

/**
 * The farm server a farm's commands go to. The cloud does not link farms to farm servers; a
 * tenant's farm server serves all its farms, so the tenant's one non-revoked edge is the farm's.
 * With none, or several (which one runs the farm is not recorded), null: the caller keeps the
 * manual path. `client` inside withTenant.
 */
export async function farmEdge(client: Queryable, tenantId: string): Promise<string | null> {
  const { rows } = await client.query<{ edge_id: string }>(
    `SELECT e.edge_id FROM edge_tenants t JOIN edges e ON e.edge_id = t.edge_id
     WHERE t.tenant_id = $1 AND e.revoked_at IS NULL LIMIT 2`,
    [tenantId],
  );
  return rows.length === 1 ? rows[0].edge_id : null;
}
