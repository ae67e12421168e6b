/**
 * The cloud API's OpenAPI 3.1 document, generated from the routes the ApiRouters declared (the
 * same zod schemas that validate the requests), and a docs page that works offline (Swagger UI
 * from the swagger-ui-dist package, served from node_modules):
 *
 *   GET /api/v1/openapi.json   the document
 *   GET /api/docs              the docs page (reads the document above)
 *
 * Every operation also documents the one error body (errors.ts) for the answers any route may
 * give: 400, 401, 403, 404, 429, 503.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { Router } from 'express';
import { z } from 'zod';
import type { DeclaredRoute } from './api-router';

export const openApiPath = '/api/v1/openapi.json';
export const docsPath = '/api/docs';

/** The one error body of errors.ts sendError(). */
export const errorBodySchema = z
  .object({
    error: z.looseObject({
      code: z.string().meta({ description: 'stable, machine-readable; never renamed' }),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

/**
 * `schema` or null, for a schema with an id (`.meta({ id })`). Not `.nullable()`: on such a schema
 * zod-to-openapi 9 writes a bare $ref and drops the null, so the document would refuse every null
 * the API answers (asteasolutions/zod-to-openapi#387). Plain schemas may use `.nullable()`.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

const standardErrors: Record<number, string> = {
  400: 'the request is not valid (invalid_query, invalid_body, invalid_json, …)',
  401: 'no valid access token (unauthenticated)',
  403: 'the role may not do this (forbidden)',
  404: 'no such resource, or another tenant’s (not_found)',
  415: 'a body that is not UTF-8 JSON (unsupported_charset, unsupported_content_encoding)',
  503: 'a dependency is unavailable; retry (database_unavailable, …)',
};

const openApiParam = (p: string) => p.replace(/:(\w+)/g, '{$1}');

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

export function buildOpenApiDocument(routes: DeclaredRoute[], info: DocumentInfo): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  if (routes.some((r) => r.security === 'service')) {
    registry.registerComponent('securitySchemes', 'service', {
      type: 'http',
      scheme: 'bearer',
      description: 'the internal service token (INTERNAL_SERVICE_TOKEN) of FarmIQ services; a dashboard token is 403',
    });
  }
  for (const r of routes) {
    const responses: Record<
      string,
      { description: string; content?: Record<string, { schema: z.ZodType }>; headers?: Record<string, { description: string; schema: { type: 'string' } }> }
    > = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema ? { content: { 'application/json': { schema: spec.schema } } } : {}),
        ...(spec.headers
          ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' as const } }])) }
          : {}),
      };
      if (r.csv && Number(status) >= 200 && Number(status) < 300 && spec.schema) {
        (responses[status].content as Record<string, unknown>)['text/csv'] = {
          schema: z.string().meta({ description: `columns: ${r.csv.columns.join(', ')}` }),
        };
      }
    }
    // A service route is 'public' to the kit but checks its token itself: 401 without it, 403 for a user's.
    const service = r.security === 'service';
    for (const [status, description] of Object.entries(standardErrors)) {
      if (status === '401' && r.role === 'public' && !service) continue;
      if (status === '403' && (r.role === 'public' || r.role === 'viewer') && !service) continue;
      responses[status] ??= { description, content: { 'application/json': { schema: errorBodySchema } } };
    }
    const query = r.csv
      ? ((r.query as z.ZodObject | undefined)?.extend({ format: z.enum(['json', 'csv']).optional() }) ??
        z.object({ format: z.enum(['json', 'csv']).optional() }))
      : r.query;
    registry.registerPath({
      method: r.method,
      path: openApiParam(r.path),
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      ...(service ? { security: [{ service: [] }] } : r.role === 'public' ? {} : { security: [{ bearer: [] }], 'x-farmiq-role': r.role }),
      request: {
        ...(r.params ? { params: r.params as z.ZodObject } : {}),
        ...(query ? { query: query as z.ZodObject } : {}),
        ...(r.body ? { body: { content: { 'application/json': { schema: r.body } } } } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info: { ...info }, servers: [{ url: '/' }] });
}

const swaggerDist = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The document and its docs page; `routes` is read when the document is first asked for. */
export function openApiRouter(routes: () => DeclaredRoute[], info: DocumentInfo): Router {
  const router = Router();
  let document: unknown;
  router.get(openApiPath, (_req, res) => {
    document ??= buildOpenApiDocument(routes(), info);
    res.json(document);
  });
  const page = fs
    .readFileSync(path.join(__dirname, 'docs-page.html'), 'utf8')
    .replaceAll('{{TITLE}}', info.title)
    .replaceAll('{{DOCUMENT}}', openApiPath)
    .replaceAll('{{ASSETS}}', `${docsPath}/assets`)
    .replaceAll('{{INIT}}', `${docsPath}/init.js`);
  router.get(`${docsPath}/init.js`, (_req, res) => res.sendFile(path.join(__dirname, 'docs-init.js')));
  router.get(docsPath, (_req, res) => {
    res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'");
    res.type('html').send(page);
  });
  router.use(`${docsPath}/assets`, express.static(swaggerDist, { index: false, maxAge: '1h' }));
  return router;
}
