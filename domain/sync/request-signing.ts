/**
 * How an edge proves who it is to the cloud: every batch request is signed with the edge's
 * Ed25519 private key over method, path, timestamp, nonce and the SHA-256 of the body. The cloud
 * keeps only public keys, so a leaked cloud database cannot forge an edge. A stale timestamp or a
 * nonce seen before is refused, so a captured request cannot be replayed.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export const signatureHeaders = {
  edgeId: 'x-farmiq-edge-id',
  keyId: 'x-farmiq-key-id',
  timestamp: 'x-farmiq-timestamp',
  nonce: 'x-farmiq-nonce',
  signature: 'x-farmiq-signature',
} as const;

/** Requests older or newer than this (by the cloud's clock) are refused as stale. */
export const maxClockSkewSeconds = 300;

export function canonicalRequest(parts: { method: string; path: string; timestamp: string; nonce: string; body: Buffer | string }): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return ['FARMIQ-EDGE-V1', parts.method.toUpperCase(), parts.path, parts.timestamp, parts.nonce, bodyHash].join('\n');
}

export interface EdgeSigner {
  edgeId: string;
  keyId: string;
  privateKey: KeyObject;
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export function loadPublicKey(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** Headers to send with a request: the body must be sent byte for byte as signed. */
export function signRequest(signer: EdgeSigner, method: string, path: string, body: Buffer | string, now = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = randomBytes(18).toString('base64url');
  const signature = sign(null, Buffer.from(canonicalRequest({ method, path, timestamp, nonce, body })), signer.privateKey).toString('base64');
  return {
    [signatureHeaders.edgeId]: signer.edgeId,
    [signatureHeaders.keyId]: signer.keyId,
    [signatureHeaders.timestamp]: timestamp,
    [signatureHeaders.nonce]: nonce,
    [signatureHeaders.signature]: signature,
  };
}

export type SignatureProblem = 'missing_signature' | 'stale_timestamp' | 'bad_signature';

/** Checks everything but the nonce's novelty (which needs the database). */
export function checkSignature(
  publicKey: KeyObject,
  req: { method: string; path: string; body: Buffer; timestamp?: string; nonce?: string; signature?: string },
  now = new Date(),
): SignatureProblem | undefined {
  const { timestamp, nonce, signature } = req;
  if (!timestamp || !nonce || !signature || !/^\d{1,12}$/.test(timestamp) || nonce.length < 16 || nonce.length > 128) {
    return 'missing_signature';
  }
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > maxClockSkewSeconds) return 'stale_timestamp';
  const ok = verify(
    null,
    Buffer.from(canonicalRequest({ method: req.method, path: req.path, timestamp, nonce, body: req.body })),
    publicKey,
    Buffer.from(signature, 'base64'),
  );
  return ok ? undefined : 'bad_signature';
}

/** A new edge identity: the private key stays on the farm server, the public key goes to the cloud. */
export function newEdgeKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem,
    keyId: createHash('sha256').update(publicKeyPem).digest('base64url').slice(0, 16),
  };
}
