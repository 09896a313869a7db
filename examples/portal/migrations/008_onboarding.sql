-- Partner onboarding: self-service applications (e-mail verified, reviewed by an
-- administrator), the onboarded partner tenants with their sandbox credentials and the
-- certification checklist. Secrets: the e-mail verification token only as SHA-256; the webhook
-- signing secret sealed with @fluxel/crypto (the portal verifies and signs with it); the API
-- client secret is not created before the partner's first sign-in (then shown once, SHA-256
-- stored in portal_partner_clients).
CREATE TABLE IF NOT EXISTS portal_partner_applications (
  id text PRIMARY KEY,
  company_name text NOT NULL,
  company_address text NOT NULL,
  website text,
  contact_name text NOT NULL,
  contact_email text NOT NULL,
  locale text NOT NULL CHECK (locale IN ('de', 'en')),
  terms_version text NOT NULL,
  terms_sha256 text NOT NULL,
  adv_version text NOT NULL,
  adv_locale text NOT NULL CHECK (adv_locale IN ('de', 'en')),
  adv_sha256 text NOT NULL,
  ip text NOT NULL,
  user_agent text NOT NULL,
  status text NOT NULL CHECK (status IN ('unverified', 'pending', 'approved', 'rejected')),
  verify_hash text,
  verify_expires_at bigint NOT NULL,
  verified_at bigint,
  reviewed_by text,
  reviewed_at bigint,
  reject_reason text,
  tenant_id text REFERENCES portal_tenants (id),
  created_at bigint NOT NULL
);
-- One open application per contact address (an expired unverified one is removed first).
CREATE UNIQUE INDEX IF NOT EXISTS portal_partner_applications_open
  ON portal_partner_applications (contact_email) WHERE status IN ('unverified', 'pending', 'approved');
CREATE INDEX IF NOT EXISTS portal_partner_applications_status ON portal_partner_applications (status, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS portal_partner_applications_verify ON portal_partner_applications (verify_hash);

-- An onboarded partner tenant: its sandbox client, webhook secret, registered receiver and the
-- certification checklist (step states: open | passed | failed).
CREATE TABLE IF NOT EXISTS portal_partner_onboarding (
  tenant_id text PRIMARY KEY REFERENCES portal_tenants (id),
  application_id text NOT NULL REFERENCES portal_partner_applications (id),
  client_id text NOT NULL REFERENCES portal_partner_clients (id),
  webhook_secret_sealed text NOT NULL,
  secrets_revealed_at bigint,
  secrets_revealed_by text,
  webhook_url text,
  inbound_state text NOT NULL DEFAULT 'open' CHECK (inbound_state IN ('open', 'passed', 'failed')),
  inbound_at bigint,
  inbound_detail text,
  outbound_state text NOT NULL DEFAULT 'open' CHECK (outbound_state IN ('open', 'passed', 'failed')),
  outbound_at bigint,
  outbound_detail text,
  certified_at bigint,
  production_granted_at bigint,
  production_granted_by text,
  created_at bigint NOT NULL
);
