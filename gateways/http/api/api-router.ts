/**
 * One way to write a cloud API route, so that the route, its validation and its OpenAPI operation
 * come from the same zod schemas (gateways/http/api/openapi.ts builds the document from the routes
 * every ApiRouter declared):
 *
 *   const api = new ApiRouter('farms');
 *   api.route(
 *     { method: 'get', path: '/api/v1/farms/:farmId', role: 'viewer', summary: 'One farm',
 *       params: z.object({ farmId: farmIdSchema }), responses: { 200: { description: 'the farm', schema: farmSchema } } },
 *     async ({ params, auth }) => ({ body: await getFarm(pool, auth.tenantId, params.farmId) }),
 *   );
 *   app.use(api.router);
 *
 * Before the handler runs: the caller's role is checked (requireRole; 'public' routes sit outside
 * requireUser and check nothing), then path parameters and the query (400 invalid_query) and the
 * body (400 invalid_body) are parsed with their schemas, naming the offending field. The handler
 * gets the parsed values and answers with { status?, body, headers? } (status defaults to the
 * route's first 2xx response) or null when it wrote the response itself. A route with `csv` also
 * answers `?format=csv` (or Accept: text/csv) with its rows as CSV.
 */
import { stringify } from 'csv-stringify/sync';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AuthContext, Role } from '../../../auth/tokens';
import { authOf, requireRole } from '../auth-middleware';
import { HttpError } from '../errors';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiResponseSpec {
  description: string;
  /** The JSON body; absent for a response without one (204). */
  schema?: z.ZodType;
  /** Response headers the client may read (e.g. set-cookie), documented only. */
  headers?: Record<string, string>;
}

export interface CsvSpec {
  /**
   * The rows of the JSON answer, one object per CSV line. The body is the handler's answer; the
   * parameter is typed where the route is written (TypeScript cannot infer it from the handler
   * that follows the spec).
   */
  rows: (body: any) => Record<string, unknown>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Column order; the header line. */
  columns: string[];
  /** The file name offered to a browser, without .csv. */
  filename: (params: Record<string, string>) => string;
}

export interface ApiRouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Express-style path (`/api/v1/farms/:farmId`); the document spells it `{farmId}`. */
  path: string;
  /** 'public': no token needed (sign-in, the documents); otherwise the weakest role allowed. */
  role: Role | 'public';
  summary: string;
  description?: string;
  /** Defaults to the router's tag. */
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Success responses (and any error the route answers besides the standard ones). */
  responses: Record<number, ApiResponseSpec>;
  csv?: CsvSpec;
  /**
   * Run before everything else (the role check included): a router's own authentication, so it
   * also works mounted outside the app's requireUser(), or a service-token check on a 'public' route.
   */
  before?: RequestHandler[];
  /** The credential a 'public' route checks itself (in `before`), for the document: 'service' = INTERNAL_SERVICE_TOKEN. */
  security?: 'service';
  /** body-parser's limit for this route's JSON body; default 64kb. */
  bodyLimit?: string;
  /**
   * How this route words a refusal of its path, query or body (the code the kit would use is
   * passed); default: the kit's, naming the first offending field.
   */
  invalid?: (issues: z.core.$ZodIssue[], code: 'invalid_query' | 'invalid_body') => HttpError;
}

export interface ApiInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller; for a 'public' route a placeholder that throws when read. */
  auth: AuthContext;
  req: Request;
  res: Response;
}

export interface ApiAnswer<R = unknown> {
  status?: number;
  body?: R;
  headers?: Record<string, string>;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

/** The answer's body is checked against the route's response schemas by the API tests (test/support/openapi.ts), not by the compiler. */
export type ApiHandler<P, Q, B> = (input: ApiInput<P, Q, B>) => Promise<ApiAnswer | null>;

/** A route as the document generator sees it. */
export interface DeclaredRoute extends ApiRouteSpec {
  tags: string[];
}

function parse<T extends z.ZodType>(
  schema: T | undefined,
  value: unknown,
  code: 'invalid_query' | 'invalid_body',
  where: string,
  invalid: ApiRouteSpec['invalid'],
): z.infer<T> | undefined {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  if (invalid) throw invalid(r.error.issues, code);
  const issue = r.error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  throw new HttpError(400, code, `${field ? `${field}: ` : ''}${issue?.message ?? `the ${where} is not valid`}`, field);
}

function wantsCsv(req: Request): boolean {
  if (req.query.format === 'csv') return true;
  const accept = req.get('accept') ?? '';
  return /\btext\/csv\b/i.test(accept) && !/application\/json/i.test(accept);
}

/**
 * Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first: a device id or a
 * reason a device sent) is written with a leading apostrophe, so opening the export runs nothing.
 */
export function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Strips `format` from the query before the route's schema sees it (strict schemas would refuse it). */
function queryWithoutFormat(req: Request): Record<string, unknown> {
  const { format: _format, ...rest } = req.query as Record<string, unknown>;
  return rest;
}

export class ApiRouter {
  readonly router = Router();
  readonly routes: DeclaredRoute[] = [];

  constructor(private readonly tag: string) {}

  route<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(
    spec: ApiRouteSpec<P, Q, B>,
    handler: ApiHandler<Infer<P>, Infer<Q>, Infer<B>>,
  ): void {
    const declared = { ...spec, tags: spec.tags ?? [this.tag] } as DeclaredRoute;
    this.routes.push(declared);
    const success = Object.keys(spec.responses)
      .map(Number)
      .filter((s) => s >= 200 && s < 300)
      .sort()[0];
    const chain: RequestHandler[] = [...(spec.before ?? [])];
    if (spec.role !== 'public') chain.push(requireRole(spec.role));
    // Bodies are small JSON (the charset was checked by utf8Only() in the app); errors of the
    // parser become the one error body in errors.ts.
    if (spec.body) chain.push(express.json({ limit: spec.bodyLimit ?? '64kb' }));
    chain.push(async (req, res, next) => {
      try {
        const csv = spec.csv && wantsCsv(req);
        const input: ApiInput<Infer<P>, Infer<Q>, Infer<B>> = {
          params: parse(spec.params, req.params, 'invalid_query', 'path', spec.invalid) as Infer<P>,
          query: parse(spec.query, spec.csv ? queryWithoutFormat(req) : req.query, 'invalid_query', 'query', spec.invalid) as Infer<Q>,
          body: parse(spec.body, req.body ?? {}, 'invalid_body', 'body', spec.invalid) as Infer<B>,
          get auth() {
            return authOf(req);
          },
          req,
          res,
        };
        const answer = await handler(input);
        if (answer === null || res.headersSent) return;
        for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
        const status = answer.status ?? success ?? 200;
        if (csv && spec.csv && answer.body !== undefined) {
          const rows = spec.csv.rows(answer.body);
          res.status(status);
          res.setHeader('content-type', 'text/csv; charset=utf-8');
          res.setHeader(
            'content-disposition',
            `attachment; filename="${spec.csv.filename(req.params as Record<string, string>).replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`,
          );
          res.send(stringify(rows, { header: true, columns: spec.csv.columns, cast: { date: (d) => d.toISOString(), string: spreadsheetSafe } }));
          return;
        }
        if (answer.body === undefined) res.status(status).end();
        else res.status(status).json(answer.body);
      } catch (err) {
        next(err);
      }
    });
    this.router[spec.method](spec.path, ...chain);
  }
}
