-- Partner API (OAuth2 client credentials), partner events, webhook subscriptions and their
-- delivery log. Secrets: API client secrets only as SHA-256 (256-bit random secrets), access
-- tokens only as SHA-256, webhook signing secrets sealed with @fluxel/crypto (they must be
-- usable to sign). Events hold metadata only; deliveries keep no response bodies.
CREATE TABLE IF NOT EXISTS portal_partner_clients (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES portal_tenants (id),
  name text NOT NULL,
  secret_hash text NOT NULL,
  scopes text NOT NULL,
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint,
  revoked_at bigint
);
CREATE INDEX IF NOT EXISTS portal_partner_clients_tenant ON portal_partner_clients (tenant_id);

CREATE TABLE IF NOT EXISTS portal_partner_tokens (
  token_hash text PRIMARY KEY,
  client_id text NOT NULL REFERENCES portal_partner_clients (id) ON DELETE CASCADE,
  scopes text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_partner_tokens_expiry ON portal_partner_tokens (expires_at);

CREATE TABLE IF NOT EXISTS portal_partner_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  tenant_id text NOT NULL,
  data text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_partner_events_tenant ON portal_partner_events (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS portal_partner_subscriptions (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES portal_tenants (id),
  url text NOT NULL,
  event_types text NOT NULL,
  secret_sealed text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_by text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_partner_subscriptions_tenant ON portal_partner_subscriptions (tenant_id);

CREATE TABLE IF NOT EXISTS portal_partner_deliveries (
  id text PRIMARY KEY,
  subscription_id text NOT NULL REFERENCES portal_partner_subscriptions (id) ON DELETE CASCADE,
  event_id text NOT NULL REFERENCES portal_partner_events (id),
  status text NOT NULL CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  last_attempt_at bigint,
  last_status integer,
  last_error text,
  delivered_at bigint,
  created_at bigint NOT NULL,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX IF NOT EXISTS portal_partner_deliveries_due ON portal_partner_deliveries (status, next_attempt_at);
