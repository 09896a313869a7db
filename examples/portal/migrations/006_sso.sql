-- Single sign-on (OpenID Connect, SAML 2.0): which IdP identity belongs to which account, the
-- pending sign-ins (state / nonce / PKCE verifier or the SAML request id, bound to the browser
-- that started them, single use, short-lived) and the assertion ids already consumed.

CREATE TABLE IF NOT EXISTS portal_sso_identities (
  provider text NOT NULL,
  subject text NOT NULL,
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  last_used_at bigint,
  PRIMARY KEY (provider, subject)
);

CREATE INDEX IF NOT EXISTS portal_sso_identities_user ON portal_sso_identities (user_id);

CREATE TABLE IF NOT EXISTS portal_sso_flows (
  id text PRIMARY KEY,
  provider text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('oidc', 'saml')),
  binding_hash text NOT NULL,
  code_verifier text,
  nonce text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS portal_sso_assertions (
  provider text NOT NULL,
  assertion_id text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (provider, assertion_id)
);
