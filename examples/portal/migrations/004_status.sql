-- Status page: maintenance windows announced by administrators and security update notes.
-- Times are epoch milliseconds; `components` is a comma-separated list of component ids
-- (portal, relay, acme, mailbox).

CREATE TABLE IF NOT EXISTS portal_maintenance (
  id text PRIMARY KEY,
  title_de text NOT NULL,
  title_en text NOT NULL,
  body_de text NOT NULL DEFAULT '',
  body_en text NOT NULL DEFAULT '',
  starts_at bigint NOT NULL,
  ends_at bigint NOT NULL,
  components text NOT NULL,
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  CHECK (ends_at > starts_at)
);

CREATE INDEX IF NOT EXISTS portal_maintenance_ends ON portal_maintenance (ends_at);

CREATE TABLE IF NOT EXISTS portal_security_notes (
  id text PRIMARY KEY,
  title_de text NOT NULL,
  title_en text NOT NULL,
  body_de text NOT NULL,
  body_en text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  published_at bigint NOT NULL,
  created_by text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

CREATE INDEX IF NOT EXISTS portal_security_notes_published ON portal_security_notes (published_at);
