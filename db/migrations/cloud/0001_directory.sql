-- Up Migration
-- Cloud directory: tenants, their farms, barns and devices, dashboard users, and the edges
-- (farm servers) allowed to sync events for a tenant.

CREATE TABLE tenants (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE farms (
  tenant_id          uuid         NOT NULL REFERENCES tenants,
  farm_id            text         NOT NULL, -- the id devices use in MQTT topics
  name               text         NOT NULL,
  species            text         NOT NULL, -- selects the reference growth curve
  timezone           text         NOT NULL DEFAULT 'UTC', -- where a farm's "day" starts for daily KPIs
  -- Default thermal comfort band for alarms and insights; null when not configured.
  comfort_temp_min_c numeric(4,1),
  comfort_temp_max_c numeric(4,1),
  created_at         timestamptz  NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id),
  CHECK (comfort_temp_min_c < comfort_temp_max_c)
);

-- A barn holds one placement (flock or batch) at a time; animal age on a given day is
-- age_at_placement_days + (day - placed_at), which is what growth curves are indexed by.
CREATE TABLE barns (
  tenant_id             uuid        NOT NULL,
  farm_id               text        NOT NULL,
  barn_id               text        NOT NULL,
  name                  text        NOT NULL,
  animal_count          integer     CHECK (animal_count >= 0),
  placed_at             date,
  age_at_placement_days integer     NOT NULL DEFAULT 0 CHECK (age_at_placement_days >= 0),
  created_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id),
  FOREIGN KEY (tenant_id, farm_id) REFERENCES farms ON DELETE CASCADE
);

CREATE TABLE devices (
  tenant_id  uuid        NOT NULL,
  farm_id    text        NOT NULL,
  barn_id    text        NOT NULL,
  device_id  text        NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('sensor', 'weighvision-station', 'feed-dispenser')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, farm_id, barn_id, device_id),
  FOREIGN KEY (tenant_id, farm_id, barn_id) REFERENCES barns ON DELETE CASCADE
);

CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid        NOT NULL REFERENCES tenants,
  email         text        NOT NULL,
  display_name  text,
  role          text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash text,       -- null for users who sign in through an identity provider
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz,
  -- Lets other tables reference (tenant_id, user_id) so a row can never point at another
  -- tenant's user.
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email));

-- Edges are not tenant-owned: one farm server may sync for several tenants (edge_tenants).
-- Requests are signed with Ed25519; the cloud keeps only the public key, so a leaked database
-- cannot be used to forge an edge's requests (a shared HMAC secret would have to be kept in
-- clear, a hash of it cannot verify a signature).
CREATE TABLE edges (
  edge_id    text        PRIMARY KEY,
  name       text,
  key_id     text        NOT NULL UNIQUE,
  public_key text        NOT NULL, -- SPKI PEM
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE edge_tenants (
  edge_id    text        NOT NULL REFERENCES edges ON DELETE CASCADE,
  tenant_id  uuid        NOT NULL REFERENCES tenants ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (edge_id, tenant_id)
);
CREATE INDEX edge_tenants_tenant ON edge_tenants (tenant_id);

-- Nonces of signed requests seen within the accepted clock skew; a replayed request is refused.
-- Rows older than the skew window can be deleted.
CREATE TABLE edge_request_nonces (
  edge_id text        NOT NULL,
  nonce   text        NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (edge_id, nonce)
);
CREATE INDEX edge_request_nonces_seen ON edge_request_nonces (seen_at);

-- Down Migration
DROP TABLE edge_request_nonces;
DROP TABLE edge_tenants;
DROP TABLE edges;
DROP TABLE users;
DROP TABLE devices;
DROP TABLE barns;
DROP TABLE farms;
DROP TABLE tenants;
