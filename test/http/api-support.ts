/**
 * An app of ApiRouters as createCloudApp mounts them (public routers before requireUser, the rest
 * after it, the one error handler), on an ephemeral port, with a call() that checks every answer
 * against the OpenAPI document built from the same routers (test/support/openapi.ts). Route tests
 * of the cloud API use it; test/http/openapi.test.ts checks the whole app's document.
 */
import express from 'express';
import type { ApiRouter } from '../../gateways/http/api/api-router';
import { buildOpenApiDocument } from '../../gateways/http/api/openapi';
import { requireUser } from '../../gateways/http/auth-middleware';
import { utf8Only } from '../../gateways/http/charset';
import { errorHandler, notFound } from '../../gateways/http/errors';
import { requestId } from '../../gateways/http/request-id';
import { logger } from '../../platform/logger';
import { ResponseChecker } from '../support/openapi';
import { call, listen, testTokens, type CallResult } from '../auth/support';

export interface ApiServer {
  url: string;
  checker: ResponseChecker;
  /** call() of test/auth/support.ts, and the answer checked against the document. */
  call(method: string, path: string, opts?: Parameters<typeof call>[3]): Promise<CallResult>;
  close(): Promise<void>;
}

export async function serveApi(opts: { routers: ApiRouter[]; publicRouters?: ApiRouter[] }): Promise<ApiServer> {
  const log = logger('api-test');
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(utf8Only());
  for (const r of opts.publicRouters ?? []) app.use(r.router);
  app.use(requireUser(testTokens));
  for (const r of opts.routers) app.use(r.router);
  app.use(notFound);
  app.use(errorHandler(log));
  const served = await listen(app);
  const routes = [...(opts.publicRouters ?? []), ...opts.routers].flatMap((r) => r.routes);
  const checker = new ResponseChecker(buildOpenApiDocument(routes, { title: 'test', version: '0' }) as never);
  return {
    url: served.url,
    checker,
    close: served.close,
    async call(method, path, callOpts = {}) {
      const r = await call(served.url, method, path, callOpts);
      checker.check(method, path, r.status, r.headers.get('content-type'), r.body);
      return r;
    },
  };
}
