/**
 * The part of jsonwebtoken's API that auth/tokens.ts uses. @types/jsonwebtoken is not installed
 * on purpose: it pulls in @types/ms, which gives Temporal's `Duration` (typed from 'ms') a strict
 * template-literal type and breaks call sites elsewhere that pass durations as plain strings.
 * No triple-slash reference needed: tsconfig.json includes auth/, so this file is in the program
 * (tsc, ESLint); jest transpiles without types (isolatedModules).
 */
declare module 'jsonwebtoken' {
  export interface JwtPayload {
    [key: string]: unknown;
    iss?: string;
    sub?: string;
    aud?: string | string[];
    exp?: number;
    nbf?: number;
    iat?: number;
    jti?: string;
  }

  export type Algorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512' | 'none';

  export interface SignOptions {
    algorithm?: Algorithm;
    /** Seconds, or a duration string such as "15m" or "1h". */
    expiresIn?: number | string;
    notBefore?: number | string;
    audience?: string | string[];
    subject?: string;
    issuer?: string;
    jwtid?: string;
    keyid?: string;
    noTimestamp?: boolean;
  }

  export interface VerifyOptions {
    algorithms?: Algorithm[];
    audience?: string | RegExp | Array<string | RegExp>;
    issuer?: string | string[];
    subject?: string;
    clockTimestamp?: number;
    clockTolerance?: number;
    maxAge?: string | number;
    ignoreExpiration?: boolean;
  }

  export class JsonWebTokenError extends Error {
    inner: Error;
  }
  export class TokenExpiredError extends JsonWebTokenError {
    expiredAt: Date;
  }
  export class NotBeforeError extends JsonWebTokenError {
    date: Date;
  }

  export function sign(payload: string | Buffer | object, secret: string | Buffer, options?: SignOptions): string;
  export function verify(token: string, secret: string | Buffer, options?: VerifyOptions): JwtPayload | string;
  export function decode(token: string, options?: { complete?: boolean; json?: boolean }): null | JwtPayload | string;

  const jwt: {
    sign: typeof sign;
    verify: typeof verify;
    decode: typeof decode;
    JsonWebTokenError: typeof JsonWebTokenError;
    TokenExpiredError: typeof TokenExpiredError;
    NotBeforeError: typeof NotBeforeError;
  };
  export default jwt;
}
