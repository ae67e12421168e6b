/**
 * Who is sending this batch: the edge named by the signature headers, if its key signed exactly
 * these bytes, recently, with a nonce never seen before (domain/sync/request-signing.ts). Runs on
 * the raw body before any JSON parsing, so an unauthenticated caller costs one indexed lookup and
 * one Ed25519 verification at most.
 */
import type { KeyObject } from 'node:crypto';
import type { Pool } from 'pg';
import { isDatabaseUnavailable } from '../../db/errors';
import { checkSignature, loadPublicKey, maxClockSkewSeconds, signatureHeaders } from '../../domain/sync';
import type { Logger } from '../../platform/logger';
import { unauthorized, unavailable } from './errors';

export interface SignedRequest {
  method: string;
  /** The path the edge signed (no query string). */
  path: string;
  body: Buffer;
  header(name: string): string | undefined;
}

export interface AuthenticatedEdge {
  edgeId: string;
  /** Tenants this edge may send events for (lower-case uuids). */
  tenants: ReadonlySet<string>;
}

interface EdgeRow {
  key_id: string;
  public_key: string;
  revoked: boolean;
  tenants: string[];
}

const edgeSql = `
SELECT e.key_id, e.public_key, e.revoked_at IS NOT NULL AS revoked,
       coalesce(array_agg(t.tenant_id::text) FILTER (WHERE t.tenant_id IS NOT NULL), '{}') AS tenants
FROM edges e
LEFT JOIN edge_tenants t ON t.edge_id = e.edge_id
WHERE e.edge_id = $1
GROUP BY e.edge_id`;

const nonceSql = `
INSERT INTO edge_request_nonces (edge_id, nonce) VALUES ($1, $2)
ON CONFLICT DO NOTHING
RETURNING 1`;

// A request is accepted while its timestamp is within the skew of the cloud's clock, so its nonce
// must be remembered for twice the skew after it was first seen; older rows can never match.
const pruneSql = `DELETE FROM edge_request_nonces WHERE seen_at < now() - make_interval(secs => $1)`;

export interface EdgeAuthenticatorOptions {
  pool: Pool;
  log: Logger;
  now?: () => Date;
  /** How often old nonces are deleted (at most; piggybacks on requests). */
  pruneEveryMs?: number;
}

export class EdgeAuthenticator {
  /** Parsed public keys by PEM: parsing is cheap but not free, and revocation is still read per request. */
  private readonly keys = new Map<string, KeyObject>();
  private lastPrune = 0;

  constructor(private readonly opts: EdgeAuthenticatorOptions) {}

  async authenticate(req: SignedRequest): Promise<AuthenticatedEdge> {
    const edgeId = req.header(signatureHeaders.edgeId);
    const keyId = req.header(signatureHeaders.keyId);
    const timestamp = req.header(signatureHeaders.timestamp);
    const nonce = req.header(signatureHeaders.nonce);
    const signature = req.header(signatureHeaders.signature);
    if (!edgeId || !keyId || !timestamp || !nonce || !signature || edgeId.length > 128 || keyId.length > 128) {
      throw unauthorized('missing_signature', `every request needs the ${Object.values(signatureHeaders).join(', ')} headers`);
    }

    const edge = await this.query(() => this.opts.pool.query<EdgeRow>(edgeSql, [edgeId]));
    const row = edge.rows[0];
    if (!row || row.revoked || row.key_id !== keyId) {
      throw unauthorized('unknown_edge', row?.revoked ? `edge ${edgeId} has been revoked` : `no edge ${edgeId} with key ${keyId}`);
    }

    let problem: ReturnType<typeof checkSignature>;
    try {
      problem = checkSignature(this.publicKey(row.public_key), { method: req.method, path: req.path, body: req.body, timestamp, nonce, signature }, this.now());
    } catch {
      problem = 'bad_signature'; // a signature of the wrong length for Ed25519
    }
    if (problem === 'missing_signature') throw unauthorized(problem, 'the signature headers are malformed');
    if (problem === 'stale_timestamp') throw unauthorized(problem, `the request timestamp is more than ${maxClockSkewSeconds} s from the cloud's clock`);
    if (problem === 'bad_signature') throw unauthorized(problem, 'the signature does not match this request and the edge key');

    const fresh = await this.query(() => this.opts.pool.query(nonceSql, [edgeId, nonce]));
    if (fresh.rowCount === 0) throw unauthorized('replayed_nonce', 'this nonce has been used before; every request needs a new one');
    this.maybePrune();

    return { edgeId, tenants: new Set(row.tenants.map((t) => t.toLowerCase())) };
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private publicKey(pem: string): KeyObject {
    let key = this.keys.get(pem);
    if (!key) {
      key = loadPublicKey(pem);
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(pem, key);
    }
    return key;
  }

  private async query<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw unavailable();
      throw err;
    }
  }

  private maybePrune(): void {
    const now = Date.now();
    if (now - this.lastPrune < (this.opts.pruneEveryMs ?? 60_000)) return;
    this.lastPrune = now;
    this.opts.pool.query(pruneSql, [2 * maxClockSkewSeconds]).then(
      (r) => {
        if (r.rowCount) this.opts.log.debug({ pruned: r.rowCount }, 'pruned old request nonces');
      },
      (err: Error) => this.opts.log.warn({ err: err.message }, 'pruning request nonces failed'),
    );
  }
}
