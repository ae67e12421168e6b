/**
 * The edge's identity towards the cloud: its EDGE_ID and the Ed25519 private key at
 * EDGE_SIGNING_KEY_FILE (created on the cloud side by `farmiq edges provision`; only the
 * public key is kept there). Without a key the edge is simply not connected to a cloud: sync reports
 * `not_configured` and everything else keeps working.
 *
 * The file is a PKCS#8 PEM private key, or a JSON object holding one (`private_key_pem` or
 * `privateKeyPem`, optionally `key_id`/`keyId` and `edge_id`/`edgeId`). The key id defaults to the
 * one newEdgeKeyPair derives from the public key, so EDGE_KEY_ID is needed only to override it.
 */
import fs from 'node:fs';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { loadPrivateKey, type EdgeSigner } from '../domain/sync/request-signing';

export interface EdgeIdentityConfig {
  edgeId: string;
  keyFile?: string;
  keyId?: string;
}

export type EdgeIdentity = { configured: true; signer: EdgeSigner; keyFile: string } | { configured: false; reason: string };

/** The key id newEdgeKeyPair gives the same key pair. */
export function keyIdOf(privateKey: KeyObject): string {
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return createHash('sha256').update(publicKeyPem).digest('base64url').slice(0, 16);
}

interface KeyFileJson {
  private_key_pem?: string;
  privateKeyPem?: string;
  key_id?: string;
  keyId?: string;
  edge_id?: string;
  edgeId?: string;
}

export function parseKeyFile(text: string): { privateKey: KeyObject; keyId?: string; edgeId?: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const json = JSON.parse(trimmed) as KeyFileJson;
    const pem = json.private_key_pem ?? json.privateKeyPem;
    if (!pem) throw new Error('the JSON key file has no private_key_pem');
    return { privateKey: loadPrivateKey(pem), keyId: json.key_id ?? json.keyId, edgeId: json.edge_id ?? json.edgeId };
  }
  return { privateKey: loadPrivateKey(trimmed) };
}

/**
 * Reads the key (again when the file changed), so installing a key on a running edge needs no
 * restart: the forwarder's next check finds it.
 */
export class EdgeIdentitySource {
  private cached?: { mtimeMs: number; size: number; identity: EdgeIdentity };

  constructor(private readonly config: EdgeIdentityConfig) {}

  current(): EdgeIdentity {
    const { keyFile, edgeId } = this.config;
    if (!keyFile) return { configured: false, reason: 'EDGE_SIGNING_KEY_FILE is not set: this edge has no cloud identity' };
    let stat: fs.Stats;
    try {
      stat = fs.statSync(keyFile);
    } catch (err) {
      return { configured: false, reason: `EDGE_SIGNING_KEY_FILE ${keyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    if (this.cached && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size) return this.cached.identity;
    let identity: EdgeIdentity;
    try {
      const parsed = parseKeyFile(fs.readFileSync(keyFile, 'utf8'));
      if (parsed.privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`it holds a ${parsed.privateKey.asymmetricKeyType} key, not Ed25519`);
      if (parsed.edgeId && parsed.edgeId !== edgeId) throw new Error(`it belongs to edge ${parsed.edgeId}, but EDGE_ID is ${edgeId}`);
      identity = {
        configured: true,
        keyFile,
        signer: { edgeId, keyId: this.config.keyId ?? parsed.keyId ?? keyIdOf(parsed.privateKey), privateKey: parsed.privateKey },
      };
    } catch (err) {
      identity = { configured: false, reason: `EDGE_SIGNING_KEY_FILE ${keyFile} is not a usable Ed25519 private key: ${(err as Error).message}` };
    }
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, identity };
    return identity;
  }
}
