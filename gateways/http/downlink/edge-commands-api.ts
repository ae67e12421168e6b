/**
 * The downlink in the dashboard API (docs/downlink.md): what the cloud has queued for one of the
 * tenant's farm servers and what became of it. Operators and admins read; an edge that does not
 * serve the tenant answers 404 (row-level security shows a tenant only its own commands).
 *
 *   GET /api/v1/edges/:edgeId/commands?status=&limit=     operator  { items: EdgeCommand[] }
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { commandStatuses, listEdgeCommands, type QueuedCommand } from '../../../cloud/downlink/command-queue';
import { ApiRouter } from '../api/api-router';
import { errorBodySchema } from '../api/openapi';
import { edgeParams } from '../directory/directory-http';
import { HttpError } from '../errors';

export interface EdgeCommandsApiDeps {
  /** The tenant pool (farmiq_app). */
  pool: Pool;
}

const iso = z.iso.datetime({ offset: true });

const commandSchema = z
  .object({
    command_id: z.uuid(),
    seq: z.number().int(),
    type: z.string(),
    status: z.enum(commandStatuses).meta({
      description: 'pending: not yet fetched by the farm server; delivered: fetched, no outcome yet; applied / refused: the outcome it reported',
    }),
    created_at: iso,
    created_by: z.string(),
    delivered_at: iso.nullable(),
    applied_at: iso.nullable().meta({ description: 'when the farm server applied or refused it (its clock)' }),
    result: z.string().nullable().meta({ description: 'applied: what it did; refused: the reason code' }),
    payload: z.unknown(),
  })
  .meta({ id: 'EdgeCommand' });

const commandsQuery = z.strictObject({
  status: z.enum(commandStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

function commandJson(c: QueuedCommand): z.infer<typeof commandSchema> {
  return {
    command_id: c.commandId,
    seq: c.seq,
    type: c.type,
    status: c.status,
    created_at: c.createdAt.toISOString(),
    created_by: c.createdBy,
    delivered_at: c.deliveredAt?.toISOString() ?? null,
    applied_at: c.appliedAt?.toISOString() ?? null,
    result: c.result,
    payload: c.payload,
  };
}

export function createEdgeCommandsApi({ pool }: EdgeCommandsApiDeps): ApiRouter {
  const api = new ApiRouter('downlink');

  api.route(
    {
      method: 'get',
      path: '/api/v1/edges/:edgeId/commands',
      role: 'operator',
      summary: 'The commands queued for one of the tenant’s farm servers',
      description: 'Newest first (by seq); the farm server applies them in seq order. `status` filters, `limit` caps (default 100).',
      params: edgeParams,
      query: commandsQuery,
      responses: {
        200: { description: 'the commands, newest first', schema: z.object({ items: z.array(commandSchema) }) },
        404: { description: 'no such farm server syncs for the tenant (edge_not_found)', schema: errorBodySchema },
      },
    },
    async ({ auth, params, query }) => {
      const items = await listEdgeCommands(pool, auth.tenantId, params.edgeId, { limit: query.limit, status: query.status });
      if (items === null) throw new HttpError(404, 'edge_not_found', `no edge ${params.edgeId} syncs for this tenant`);
      return { body: { items: items.map(commandJson) } };
    },
  );

  return api;
}
