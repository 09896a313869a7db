-- The portal's own TLS certificate through ACME (HTTP-01): the settings (one row), and the
-- orders with their progress. Certificates and keys are files in the acme-lite layout under
-- the data directory (letsencrypt/<directory-host-reversed>/orders/<order-id>/), never rows.
CREATE TABLE IF NOT EXISTS portal_certificate_settings (
  id text PRIMARY KEY CHECK (id = 'portal'),
  address text NOT NULL DEFAULT '',
  email text NOT NULL DEFAULT '',
  directory text NOT NULL DEFAULT 'staging' CHECK (directory IN ('production', 'staging', 'custom')),
  -- The certificate in use: its ACME directory URL and order folder (empty: the dev certificate).
  installed_directory text NOT NULL DEFAULT '',
  installed_order text NOT NULL DEFAULT '',
  installed_domain text NOT NULL DEFAULT '',
  updated_at bigint NOT NULL,
  updated_by text
);

CREATE TABLE IF NOT EXISTS portal_certificate_orders (
  id text PRIMARY KEY,
  domain text NOT NULL,
  directory_url text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'validating', 'issuing', 'installed', 'failed')),
  message text,
  store_order text,
  started_by text,
  started_at bigint NOT NULL,
  finished_at bigint
);

CREATE INDEX IF NOT EXISTS portal_certificate_orders_started ON portal_certificate_orders (started_at);
