-- The portal's own tables. Licenses live in the relay (reached through its admin gRPC API),
-- credentials in the relay's vault; the portal keeps accounts, factors, sessions and tenants.
CREATE TABLE IF NOT EXISTS portal_tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('customer', 'partner', 'operator')),
  created_at bigint NOT NULL
);

-- Which customer tenants a partner tenant looks after.
CREATE TABLE IF NOT EXISTS portal_partner_customers (
  partner_id text NOT NULL REFERENCES portal_tenants (id),
  customer_id text NOT NULL REFERENCES portal_tenants (id),
  PRIMARY KEY (partner_id, customer_id)
);

CREATE TABLE IF NOT EXISTS portal_users (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES portal_tenants (id),
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('customer', 'key-user', 'partner', 'administrator')),
  status text NOT NULL CHECK (status IN ('active', 'disabled')),
  locale text NOT NULL DEFAULT 'de',
  password_hash text NOT NULL,
  phone text,
  created_at bigint NOT NULL,
  last_sign_in_at bigint
);

CREATE TABLE IF NOT EXISTS portal_invitations (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  tenant_id text NOT NULL REFERENCES portal_tenants (id),
  email text NOT NULL,
  role text NOT NULL,
  invited_by text,
  expires_at bigint NOT NULL,
  used_at bigint
);

-- Second factors. `secret` is sealed with @fluxel/crypto (TOTP seed); passkeys keep their
-- public key and counter; `last_step` is the TOTP replay guard.
CREATE TABLE IF NOT EXISTS portal_factors (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('totp', 'email', 'sms', 'passkey')),
  label text NOT NULL,
  secret text,
  last_step bigint NOT NULL DEFAULT 0,
  credential_id text UNIQUE,
  public_key text,
  counter bigint NOT NULL DEFAULT 0,
  transports text,
  confirmed boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  last_used_at bigint
);

CREATE TABLE IF NOT EXISTS portal_recovery_codes (
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at bigint,
  PRIMARY KEY (user_id, code_hash)
);

-- Sessions: only a hash of the cookie value is stored.
CREATE TABLE IF NOT EXISTS portal_sessions (
  id_hash text PRIMARY KEY,
  public_id text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  stage text NOT NULL CHECK (stage IN ('password', 'enrol', 'full')),
  csrf text NOT NULL,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  reauth_until bigint,
  challenge text,
  ip text NOT NULL,
  user_agent text NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_sessions_user ON portal_sessions (user_id);

-- E-mail / SMS one-time codes (hash only) and their send history.
CREATE TABLE IF NOT EXISTS portal_codes (
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  purpose text NOT NULL,
  hash text NOT NULL,
  target text,
  expires_at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, purpose)
);
CREATE TABLE IF NOT EXISTS portal_code_sends (
  user_id text NOT NULL,
  channel text NOT NULL,
  sent_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_code_sends_user ON portal_code_sends (user_id, channel, sent_at);

-- Login throttling per account and per IP.
CREATE TABLE IF NOT EXISTS portal_throttle (
  key text PRIMARY KEY,
  failures integer NOT NULL,
  last_failure_at bigint NOT NULL,
  locked_until bigint
);

CREATE TABLE IF NOT EXISTS portal_password_resets (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  expires_at bigint NOT NULL,
  used_at bigint
);

CREATE TABLE IF NOT EXISTS portal_migrations (version text PRIMARY KEY, applied_at bigint NOT NULL);

-- WebAuthn challenges of sign-ins that have no session yet (single use, short-lived).
CREATE TABLE IF NOT EXISTS portal_challenges (
  challenge text PRIMARY KEY,
  purpose text NOT NULL,
  expires_at bigint NOT NULL
);
