-- The alerts inbox (issue 19, last mile 5): every alert the portal's rules raise, and every
-- alert the relay reports, as one row per kind and subject while it is not resolved. A
-- repetition counts up (`count`, `last_seen`) in one `INSERT … ON CONFLICT … DO UPDATE` on the
-- partial unique index below instead of adding a row; once resolved, the next one opens a new
-- row. `subject_id` is what the rule grouped by (`<tenant>/<user id>`, an IP pseudonym, a
-- license id); who or what that is in words is looked up when the inbox is read (names and
-- e-mails are not copied here, so an erasure needs nothing in this table).
CREATE TABLE IF NOT EXISTS portal_alerts (
  id text PRIMARY KEY,
  source text NOT NULL,
  kind text NOT NULL,
  severity text NOT NULL,
  tenant_id text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  subject_label text,
  details jsonb,
  count integer NOT NULL,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  last_event_id text,
  state text NOT NULL DEFAULT 'open',
  acknowledged_by text,
  acknowledged_at bigint,
  resolved_by text,
  resolved_at bigint
);
CREATE UNIQUE INDEX IF NOT EXISTS portal_alerts_unresolved
  ON portal_alerts (source, tenant_id, kind, subject_type, subject_id) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS portal_alerts_tenant_state ON portal_alerts (tenant_id, state, last_seen);
