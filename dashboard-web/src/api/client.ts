/**
 * Every call to the cloud API goes through here: the access token (kept in memory only — never
 * localStorage; the refresh cookie is httpOnly), an `x-request-id` on every request so support can
 * find it in the logs, one refresh on a 401 before giving up, and errors that carry the request id.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string,
    readonly field?: string,
    readonly body?: unknown,
    readonly headers?: Headers,
  ) {
    super(message);
  }
}

export interface Session {
  access_token: string;
  expires_in: number;
  user: Me;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  tenant_id: string;
  tenant_name: string;
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
export const hasRole = (role: Role | undefined, needed: Role): boolean => role !== undefined && rank[role] >= rank[needed];

let accessToken: string | null = null;
let onSignedOut: () => void = () => {};
let onSession: (s: Session) => void = () => {};

/** Called by the session provider: where a new session and a lost one are reported. */
export function bindSession(handlers: { session: (s: Session) => void; signedOut: () => void }): void {
  onSession = handlers.session;
  onSignedOut = handlers.signedOut;
}

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export const newRequestId = (): string => crypto.randomUUID();

async function errorOf(res: Response, requestId: string): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = (body as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
  const id = res.headers.get('x-request-id') ?? requestId;
  return new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText ?? 'request failed', id, e?.field, body, res.headers);
}

let refreshing: Promise<Session | null> | null = null;

/** POST /auth/refresh with the httpOnly cookie; one at a time. Null: no session (sign in again). */
export function refreshSession(): Promise<Session | null> {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'x-farmiq-csrf': '1', 'x-request-id': newRequestId() },
      });
      if (!res.ok) return null;
      const s = (await res.json()) as Session;
      accessToken = s.access_token;
      onSession(s);
      return s;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** A fixed request id (the insight request retries with the same one). */
  requestId?: string;
  query?: Record<string, string | number | undefined | null>;
  /** 'blob' for CSV downloads. */
  as?: 'json' | 'blob' | 'none';
}

function urlOf(path: string, query?: CallOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

async function send(path: string, opts: CallOptions, requestId: string): Promise<Response> {
  const headers: Record<string, string> = { 'x-request-id': requestId, accept: opts.as === 'blob' ? 'text/csv' : 'application/json' };
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
  return fetch(urlOf(path, opts.query), {
    method: opts.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

/** A call to /api/v1<path>; on 401 one refresh and one retry, then the sign-in page. */
export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const requestId = opts.requestId ?? newRequestId();
  let res = await send(path, opts, requestId);
  if (res.status === 401) {
    const s = await refreshSession();
    if (!s) {
      onSignedOut();
      throw await errorOf(res, requestId);
    }
    res = await send(path, opts, requestId);
    if (res.status === 401) {
      onSignedOut();
      throw await errorOf(res, requestId);
    }
  }
  if (!res.ok) throw await errorOf(res, requestId);
  if (opts.as === 'none' || res.status === 204) return undefined as T;
  if (opts.as === 'blob') return (await res.blob()) as T;
  return (await res.json()) as T;
}

/** A sign-in attempt: the answer as it is (the page shows 401, 409 and 429 itself). */
export async function signInRequest(body: { email: string; password: string; tenant_id?: string }): Promise<Session> {
  const requestId = newRequestId();
  const res = await fetch('/api/v1/auth/sign-in', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res, requestId);
  const s = (await res.json()) as Session;
  accessToken = s.access_token;
  return s;
}

export async function signOutRequest(): Promise<void> {
  try {
    await fetch('/api/v1/auth/sign-out', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-farmiq-csrf': '1', 'x-request-id': newRequestId() },
    });
  } finally {
    accessToken = null;
  }
}

/** Downloads `path?format=csv` with the token and saves it as a file. */
export async function downloadCsv(path: string, query: CallOptions['query'], filename: string): Promise<void> {
  const blob = await api<Blob>(path, { query: { ...query, format: 'csv' }, as: 'blob' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** When a lockout ends, from the 429's retry-after (seconds). */
export function retryAt(e: ApiError): string {
  const after = Number(e.headers?.get('retry-after'));
  const at = Number.isFinite(after) && after > 0 ? new Date(Date.now() + after * 1000) : null;
  return at ? at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : 'a few minutes';
}
