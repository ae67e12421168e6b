/**
 * The edge's HTTP client for the cloud ingestion API: POST one signed batch, GET /health.
 *
 * It reports *how far* a request got, because that decides whether the events' attempts are spent
 * (DESIGN.md §4, offline-first):
 *
 *   unreachable  nothing was delivered or nothing answered in time: connection refused, DNS,
 *                connect timeout, a connection that broke while the request was still being
 *                written, no response before the timeout. The cloud is not there.
 *   broken       the request went out whole, then the connection broke before a complete answer.
 *                The cloud may have failed on this batch: counts as a failed attempt.
 *   answered     a complete HTTP response (any status); the caller reads the status and body.
 *
 * Plain node:http(s) rather than fetch, so that "the request was fully written" is an observable
 * event ('finish') and the two failure kinds can be told apart.
 */
import http from 'node:http';
import https from 'node:https';

export type CloudExchange =
  | { kind: 'answered'; status: number; body: Buffer; contentType: string | undefined }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'broken'; reason: string };

export interface CloudProbe {
  reachable: boolean;
  status?: number;
  reason?: string;
}

export interface CloudClient {
  readonly baseUrl: string;
  /** The path the request is signed for (the URL's path as the cloud will see it). */
  pathOf(route: string): string;
  /** `headers` is called once per request sent, so a resend carries a fresh signature and nonce. */
  post(route: string, body: Buffer, headers: () => Record<string, string>): Promise<CloudExchange>;
  probe(): Promise<CloudProbe>;
  close(): void;
}

export interface CloudClientOptions {
  baseUrl: string;
  /** No response (status line) within this long counts as unreachable. */
  requestTimeoutMs: number;
  probeTimeoutMs?: number;
  /** Largest response body read; a larger one is a broken exchange. */
  maxResponseBytes?: number;
}

/** Errors raised before the request could be delivered at all. */
const connectErrors = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'ECONNABORTED',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describe(err: NodeJS.ErrnoException): string {
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

export function createCloudClient(opts: CloudClientOptions): CloudClient {
  const base = new URL(opts.baseUrl);
  const transport = base.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 16 });
  const maxResponseBytes = opts.maxResponseBytes ?? 16 * 1024 * 1024;
  const urlOf = (route: string) => new URL(`${base.pathname.replace(/\/+$/, '')}${route}`, base);

  function exchange(
    method: 'GET' | 'POST',
    url: URL,
    body: Buffer | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    fresh: boolean,
  ): Promise<CloudExchange & { staleSocket?: boolean }> {
    return new Promise((resolve) => {
      let written = false;
      let responded = false;
      let settled = false;
      const done = (r: CloudExchange & { staleSocket?: boolean }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = transport.request(
        url,
        {
          method,
          agent: fresh ? false : agent,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(body.byteLength) } : {}) },
        },
        (res) => {
          responded = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > maxResponseBytes) {
              req.destroy(new Error(`response larger than ${maxResponseBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => done({ kind: 'answered', status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers['content-type'] }));
          res.on('error', (err) => done({ kind: 'broken', reason: `the response broke off: ${describe(err)}` }));
          res.on('aborted', () => done({ kind: 'broken', reason: 'the response broke off' }));
        },
      );
      req.on('finish', () => {
        written = true;
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (responded) return done({ kind: 'broken', reason: `the response broke off: ${describe(err)}` });
        // A kept-alive socket the server had already closed: nothing reached the cloud.
        const staleSocket = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        if (!written || (err.code !== undefined && connectErrors.has(err.code)) || staleSocket) {
          return done({ kind: 'unreachable', reason: describe(err), staleSocket });
        }
        done({ kind: 'broken', reason: `the connection broke after the request was sent: ${describe(err)}` });
      });
      const timer = setTimeout(() => {
        const what = responded ? 'broken' : 'unreachable';
        const reason = responded ? `the response did not complete within ${timeoutMs} ms` : `no response within ${timeoutMs} ms`;
        done(what === 'broken' ? { kind: 'broken', reason } : { kind: 'unreachable', reason });
        req.destroy();
      }, timeoutMs);
      req.end(body);
    });
  }

  return {
    baseUrl: base.toString(),
    pathOf: (route) => urlOf(route).pathname,
    async post(route, body, headers) {
      const url = urlOf(route);
      const first = await exchange('POST', url, body, headers(), opts.requestTimeoutMs, false);
      // Node's advice for keep-alive races: retry once on a new connection when a reused socket
      // turned out to be closed. Signed afresh, so the cloud never sees a nonce twice.
      if (first.kind === 'unreachable' && first.staleSocket) {
        const { staleSocket: _stale, ...second } = await exchange('POST', url, body, headers(), opts.requestTimeoutMs, true);
        return second;
      }
      const { staleSocket: _ignored, ...result } = first;
      return result;
    },
    async probe() {
      const r = await exchange('GET', urlOf('/health'), undefined, {}, opts.probeTimeoutMs ?? 2000, true);
      if (r.kind !== 'answered') return { reachable: false, reason: r.reason };
      return { reachable: r.status >= 200 && r.status < 300, status: r.status, ...(r.status >= 300 ? { reason: `GET /health answered ${r.status}` } : {}) };
    },
    close() {
      agent.destroy();
    },
  };
}
