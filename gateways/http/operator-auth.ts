/**
 * The edge operator API's credential check (docs/security.md, "Farm server"):
 *
 *   requireOperator(pool)   401 operator_unauthenticated unless `Authorization: Bearer <operator
 *                           token>` names an active operator (operator-credentials.ts); sets
 *                           res.locals.operator = { name }
 *
 * Device credentials are no operator credentials: a station's HTTP Basic login (its MQTT username
 * and password) is refused here without being looked at, and a device password sent as a bearer
 * token does not have the shape of an operator token. The table is read on every request, so a
 * revocation takes effect at once.
 */
import type { RequestHandler, Response } from 'express';
import type { Pool } from 'pg';
import { HttpError } from './errors';
import { findOperator } from './operator-credentials';

export interface AuthenticatedOperator {
  name: string;
}

const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export function operatorOf(res: Response): AuthenticatedOperator | undefined {
  return res.locals.operator as AuthenticatedOperator | undefined;
}

export function requireOperator(pool: Pool): RequestHandler {
  const refuse = (res: Response, message: string) => {
    res.setHeader('www-authenticate', 'Bearer realm="farmiq-edge-operator"');
    return new HttpError(401, 'operator_unauthenticated', message);
  };
  return async (req, res, next) => {
    try {
      const header = req.get('authorization');
      if (!header) return next(refuse(res, 'send an operator token as "Authorization: Bearer <token>" (make one with `farmiq operators add`)'));
      if (/^Basic\b/i.test(header.trimStart())) {
        return next(refuse(res, 'device credentials are not accepted on the operator API; send an operator token as "Authorization: Bearer <token>"'));
      }
      const m = bearer.exec(header);
      const operator = m ? await findOperator(pool, m[1]) : undefined;
      if (!operator) return next(refuse(res, 'the operator token is not valid (unknown or revoked)'));
      res.locals.operator = { name: operator.name } satisfies AuthenticatedOperator;
      next();
    } catch (err) {
      next(err);
    }
  };
}
