-- "Request more rights": a signed-in user asks for another role with a reason; a key user of
-- the same tenant or an administrator decides (never the requester). One open request per user.
CREATE TABLE IF NOT EXISTS portal_rights_requests (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES portal_tenants (id),
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  from_role text NOT NULL,
  requested_role text NOT NULL CHECK (requested_role IN ('customer', 'key-user', 'partner', 'administrator')),
  reason text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
  decided_by text,
  decided_at bigint,
  decision_note text,
  created_at bigint NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS portal_rights_requests_open ON portal_rights_requests (user_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS portal_rights_requests_tenant ON portal_rights_requests (tenant_id, status, created_at);
