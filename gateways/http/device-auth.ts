/**
 * Devices authenticate to the edge HTTP API with their MQTT credentials, as HTTP Basic: the same
 * username and password the broker knows, checked against the device registry (edge_devices,
 * gateways/mqtt-bridge/broker/credentials.ts), so provisioning and revoking a device covers both.
 *
 *   requireDevice()   401 device_unauthenticated unless the credentials belong to a device that is
 *                     not revoked; sets res.locals.device
 *
 * The registry row is read on every request, so a revocation or a new password takes effect at
 * once; only the (deliberately slow) password hash check is remembered, for a short while.
 */
import { createHash, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Pool } from 'pg';
import { isBrokerUsername } from '../mqtt-bridge/broker/credentials';
import { HttpError } from './errors';

export interface AuthenticatedDevice {
  username: string;
  tenantId: string;
  farmId: string;
  barnId: string;
  deviceId: string;
  kind: string;
}

function decode(b64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  return Buffer.from(b64, 'base64');
}

/**
 * Checks a password against a mosquitto_passwd hash: `$7$<iterations>$<salt>$<hash>` (PBKDF2-SHA512,
 * Mosquitto 2's default) or `$6$<salt>$<hash>` (one SHA-512 of password + salt, Mosquitto 1.x).
 * Salt and hash are base64. Anything else (a plain-text entry, an unknown scheme) never matches.
 */
export function verifyMosquittoPassword(password: string, stored: string): boolean {
  const parts = stored.split('$');
  let expected: Buffer | undefined;
  let actual: Buffer;
  if (parts.length === 5 && parts[0] === '' && parts[1] === '7') {
    const iterations = Number(parts[2]);
    const salt = decode(parts[3]);
    expected = decode(parts[4]);
    // Bounds keep a corrupt row from costing seconds of CPU per request.
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000 || !salt || !expected || expected.length === 0) return false;
    actual = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, expected.length, 'sha512');
  } else if (parts.length === 4 && parts[0] === '' && parts[1] === '6') {
    const salt = decode(parts[2]);
    expected = decode(parts[3]);
    if (!salt || !expected) return false;
    actual = createHash('sha512').update(Buffer.from(password, 'utf8')).update(salt).digest();
  } else {
    return false;
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Remembers which (username, stored hash, password) triples verified, for ttlMs. */
class VerifiedCredentials {
  private readonly entries = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  private key(username: string, hash: string, password: string): string {
    // A digest, so the cache never holds a password; the stored hash is part of it, so a new password invalidates.
    return createHash('sha256').update(username).update('\0').update(hash).update('\0').update(password).digest('base64');
  }

  has(username: string, hash: string, password: string): boolean {
    const k = this.key(username, hash, password);
    const until = this.entries.get(k);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.entries.delete(k);
      return false;
    }
    return true;
  }

  add(username: string, hash: string, password: string): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(this.key(username, hash, password), Date.now() + this.ttlMs);
  }
}

export interface RequireDeviceOptions {
  /** How long a verified password is remembered; 0 disables the cache. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

/** A well-formed $7$ hash of nothing anyone knows, at Mosquitto 2's default cost. */
const decoyHash = '$7$101$' + Buffer.alloc(12, 1).toString('base64') + '$' + Buffer.alloc(64, 2).toString('base64');

const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i;

export function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? basic.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function deviceOf(res: Response): AuthenticatedDevice {
  const device = res.locals.device as AuthenticatedDevice | undefined;
  if (!device) throw new HttpError(401, 'device_unauthenticated', 'this route needs device credentials');
  return device;
}

export function requireDevice(pool: Pool, opts: RequireDeviceOptions = {}): RequestHandler {
  const verified = new VerifiedCredentials(opts.cacheTtlMs ?? 60_000, opts.cacheMaxEntries ?? 10_000);
  const unauthenticated = (res: Response, message: string) => {
    res.setHeader('www-authenticate', 'Basic realm="farmiq-edge", charset="UTF-8"');
    return new HttpError(401, 'device_unauthenticated', message);
  };

  return async (req, res, next) => {
    try {
      const creds = parseBasicAuth(req.get('authorization'));
      if (!creds) return next(unauthenticated(res, "send the device's MQTT username and password as HTTP Basic credentials"));
      if (!isBrokerUsername(creds.username))
        return next(unauthenticated(res, 'the device credentials are not valid (unknown or revoked device, or wrong password)'));
      res.locals.authUsername = creds.username;
      const { rows } = await pool.query<{ tenant_id: string; farm_id: string; barn_id: string; device_id: string; kind: string; password_hash: string }>(
        'SELECT tenant_id, farm_id, barn_id, device_id, kind, password_hash FROM edge_devices WHERE username = $1 AND revoked_at IS NULL',
        [creds.username],
      );
      const row = rows[0];
      // One message for unknown, revoked and wrong password alike: the answer must not tell which.
      const refused = 'the device credentials are not valid (unknown or revoked device, or wrong password)';
      if (!row) {
        // The same work as a wrong password, so the answer's timing does not tell which usernames exist.
        verifyMosquittoPassword(creds.password, decoyHash);
        return next(unauthenticated(res, refused));
      }
      if (!verified.has(creds.username, row.password_hash, creds.password)) {
        if (!verifyMosquittoPassword(creds.password, row.password_hash)) return next(unauthenticated(res, refused));
        verified.add(creds.username, row.password_hash, creds.password);
      }
      const device: AuthenticatedDevice = {
        username: creds.username,
        tenantId: row.tenant_id,
        farmId: row.farm_id,
        barnId: row.barn_id,
        deviceId: row.device_id,
        kind: row.kind,
      };
      res.locals.device = device;
      next();
    } catch (err) {
      next(err);
    }
  };
}
