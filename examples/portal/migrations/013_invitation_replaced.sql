-- Resending an invitation (issue 19) issues a new link and retires the old one: the old row is
-- expired at once and names its successor, so its link can say "replaced" instead of "invalid".
ALTER TABLE portal_invitations ADD COLUMN IF NOT EXISTS replaced_by text;
