-- Up Migration
-- Signing in to the dashboard (issue 12, docs/auth.md): refresh sessions and the failed-attempt
-- counts that lock out password guessing.
--
-- Row-level security, decided: these tables are read BEFORE a tenant is known (a refresh cookie
-- names a session, not a tenant; a sign-in names an email that may exist in several tenants), so
-- a tenant policy cannot apply. They are owner-pool tables (CLOUD_DATABASE_URL, farmiq): the only
-- code that touches them is auth/sessions.ts and auth/sign-in-guard.ts. farmiq_app, the role of
-- request handlers' tenant data, gets NO privilege on them, and RLS is enabled WITHOUT a policy, so
-- even a grant added later by mistake shows that role nothing (the owner is not subject to RLS:
-- FORCE is not set). A refresh token is stored only as its SHA-256, so a leaked table holds no
-- usable token.

-- Sign-in looks users up by email across tenants (users_tenant_email leads with tenant_id).
CREATE INDEX users_email ON users (lower(email));

-- One row per signed-in browser: the family of refresh tokens that sign-in started. Its expiry is
-- absolute (AUTH_REFRESH_TTL after sign-in); refreshing never extends it.
CREATE TABLE auth_sessions (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid        NOT NULL,
  user_id           uuid        NOT NULL,
  created_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  last_refreshed_at timestamptz,
  revoked_at        timestamptz,
  revoked_reason    text        CHECK (revoked_reason IN ('signed_out', 'token_reused', 'password_changed', 'user_disabled')),
  client_address    text,
  user_agent        text,
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
  -- A deleted user takes their sessions along.
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

-- Every refresh token a session was given. Rotated ones are kept (rotated_at set) until the
-- session goes: presenting one again means it was copied, and the whole session is revoked.
CREATE TABLE auth_refresh_tokens (
  token_hash bytea       PRIMARY KEY, -- sha256 of the token; the token itself lives only in the cookie
  session_id uuid        NOT NULL REFERENCES auth_sessions ON DELETE CASCADE,
  issued_at  timestamptz NOT NULL,
  rotated_at timestamptz
);
CREATE INDEX auth_refresh_tokens_session ON auth_refresh_tokens (session_id);

-- Sign-in attempts per account (the lower-cased email, whether or not a user has it, so a lockout
-- does not tell which emails exist) and per client address, in a fixed window. Durable, so a
-- restart of the API does not hand a guesser a fresh count.
CREATE TABLE sign_in_failures (
  kind              text        NOT NULL CHECK (kind IN ('account', 'address')),
  subject           text        NOT NULL,
  failures          integer     NOT NULL CHECK (failures >= 0),
  window_started_at timestamptz NOT NULL,
  locked_until      timestamptz,
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (kind, subject)
);
CREATE INDEX sign_in_failures_updated ON sign_in_failures (updated_at);

ALTER TABLE auth_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_failures ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON auth_sessions, auth_refresh_tokens, sign_in_failures FROM PUBLIC;

-- Down Migration
DROP TABLE sign_in_failures;
DROP TABLE auth_refresh_tokens;
DROP TABLE auth_sessions;
DROP INDEX users_email;
