/**
 * The tenant's farm servers (edges) in the dashboard API (docs/directory.md): operators see them
 * and how they are doing, admins register one and rotate its key. An edge is the tenant's when
 * edge_tenants links it; any other answers 404. The private key is in the answer once and kept
 * nowhere in the cloud.
 *
 *   GET  /api/v1/edges                          operator  { items: Edge[] }
 *   POST /api/v1/edges                          admin     201 { edge, private_key_pem }; 409 edge_exists
 *   POST /api/v1/edges/:edgeId/rotate-key       admin     { key_id, private_key_pem }; 409 edge_shared | edge_revoked
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { edgeIdSchema, edgeNameSchema, edgeStatuses, listTenantEdges, registerTenantEdge, rotateTenantEdgeKey, type TenantEdge } from '../../../cloud/edges';
import { errorBodySchema } from '../api/openapi';
import { ApiRouter } from '../api/api-router';
import { conflict, edgeParams, refusedAsHttp } from './directory-http';

export interface EdgesRouterDeps {
  /** The tenant pool (farmiq_app): edges under row-level security (migration 0013). */
  pool: Pool;
}

const iso = z.iso.datetime({ offset: true });

const edgeSchema = z
  .object({
    edge_id: z.string(),
    name: z.string().nullable(),
    key_id: z.string(),
    created_at: iso,
    revoked_at: iso.nullable(),
    last_batch_at: iso.nullable().meta({ description: 'when the newest event this edge brought the tenant arrived' }),
    status: z.enum(edgeStatuses).meta({ description: 'ok: a batch within 5 min; late: within 1 h; silent: longer ago; never; revoked' }),
  })
  .meta({ id: 'Edge' });

const privateKeyPem = z.string().meta({ description: 'PKCS#8 PEM of the Ed25519 key; shown only now: put it on the farm server' });

const newEdgeBody = z.strictObject({ edge_id: edgeIdSchema, name: edgeNameSchema.optional() }).meta({ id: 'NewEdge' });

function edgeJson(e: TenantEdge): z.infer<typeof edgeSchema> {
  return {
    edge_id: e.edgeId,
    name: e.name,
    key_id: e.keyId,
    created_at: e.createdAt.toISOString(),
    revoked_at: e.revokedAt?.toISOString() ?? null,
    last_batch_at: e.lastBatchAt?.toISOString() ?? null,
    status: e.status,
  };
}

export function createEdgesRouter({ pool }: EdgesRouterDeps): ApiRouter {
  const api = new ApiRouter('directory');

  api.route(
    {
      method: 'get',
      path: '/api/v1/edges',
      role: 'operator',
      summary: 'The farm servers that sync for the tenant',
      responses: { 200: { description: 'the edges, by edge id', schema: z.object({ items: z.array(edgeSchema) }) } },
    },
    async ({ auth }) => ({ body: { items: (await refusedAsHttp(() => listTenantEdges(pool, auth.tenantId))).map(edgeJson) } }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/edges',
      role: 'admin',
      summary: 'Register a farm server for the tenant',
      description:
        'Makes its Ed25519 key pair; the private key is in this answer only. On the farm server: EDGE_ID = edge_id, the key in the file EDGE_SIGNING_KEY_FILE names.',
      body: newEdgeBody,
      responses: {
        201: { description: 'the edge and its private key', schema: z.object({ edge: edgeSchema, private_key_pem: privateKeyPem }) },
        409: conflict,
      },
    },
    async ({ auth, body }) => {
      const { edge, privateKeyPem: pem } = await refusedAsHttp(() => registerTenantEdge(pool, auth.tenantId, { edgeId: body.edge_id, name: body.name }));
      return { status: 201, body: { edge: edgeJson(edge), private_key_pem: pem } };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/v1/edges/:edgeId/rotate-key',
      role: 'admin',
      summary: 'Give a farm server a new key',
      description:
        'The old key stops working at once. Refused (409 edge_shared) for an edge that also syncs for another tenant, ' +
        'and (409 edge_revoked) for a revoked one: the cloud operator handles those (`farmiq edges rotate-key`).',
      params: edgeParams,
      responses: {
        200: { description: 'the new key id and private key', schema: z.object({ key_id: z.string(), private_key_pem: privateKeyPem }) },
        409: { description: 'the edge serves another tenant too (edge_shared) or is revoked (edge_revoked)', schema: errorBodySchema },
      },
    },
    async ({ auth, params }) => {
      const key = await refusedAsHttp(() => rotateTenantEdgeKey(pool, auth.tenantId, params.edgeId));
      return { body: { key_id: key.keyId, private_key_pem: key.privateKeyPem } };
    },
  );

  return api;
}
