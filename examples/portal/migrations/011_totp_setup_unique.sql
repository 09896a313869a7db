-- One TOTP set-up in progress per user (issue 17): starting a set-up replaces the unconfirmed
-- TOTP row in one `INSERT … ON CONFLICT` on this partial unique index, so set-ups started at
-- once leave one row (whose secret the confirmation checks), never two.
-- Older duplicates first: keep each user's newest unconfirmed TOTP row.
DELETE FROM portal_factors f
WHERE f.type = 'totp' AND NOT f.confirmed
  AND EXISTS (
    SELECT 1 FROM portal_factors g
    WHERE g.user_id = f.user_id AND g.type = 'totp' AND NOT g.confirmed
      AND (g.created_at > f.created_at OR (g.created_at = f.created_at AND g.id > f.id))
  );
CREATE UNIQUE INDEX IF NOT EXISTS portal_factors_totp_setup
  ON portal_factors (user_id) WHERE type = 'totp' AND NOT confirmed;
