-- Up Migration
-- Operator credentials of the farm server's operator API (ingress rejects, sync status and control,
-- DLQ; gateways/http/operator-auth.ts), made by `scripts/operator-credentials.ts add`. A token is
-- 32 random bytes, shown once; only its SHA-256 is kept (a slow hash protects guessable passwords,
-- not 256 random bits), so a stolen database dump holds no usable credential. Operators administer
-- the whole farm server, across its tenants: no tenant_id here.
CREATE TABLE edge_operators (
  name        text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
  token_hash  bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- a new token for the same name (add again) replaces the old one
  rotated_at  timestamptz,
  revoked_at  timestamptz
);

-- Down Migration
DROP TABLE edge_operators;
