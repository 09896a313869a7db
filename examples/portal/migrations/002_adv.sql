-- ADV / DPA: versions published by administrators (the shipped ones live in data/adv/) and the
-- tenants' acceptances. An acceptance is evidence: it keeps the acceptor's name and id as they
-- were (no foreign key to the user, so it outlives the account), the text's SHA-256, and where
-- it came from.
CREATE TABLE IF NOT EXISTS portal_adv_versions (
  id text PRIMARY KEY,
  published_at bigint NOT NULL,
  published_by text NOT NULL,
  text_de text NOT NULL,
  text_en text NOT NULL,
  sha256_de text NOT NULL,
  sha256_en text NOT NULL
);

CREATE TABLE IF NOT EXISTS portal_adv_acceptances (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES portal_tenants (id) ON DELETE CASCADE,
  version text NOT NULL,
  locale text NOT NULL CHECK (locale IN ('de', 'en')),
  text_sha256 text NOT NULL,
  user_id text NOT NULL,
  user_name text NOT NULL,
  accepted_at bigint NOT NULL,
  ip text NOT NULL,
  user_agent text NOT NULL,
  UNIQUE (tenant_id, version)
);
CREATE INDEX IF NOT EXISTS portal_adv_acceptances_tenant ON portal_adv_acceptances (tenant_id, accepted_at);
