-- Recovery codes by generation (issue 17): a code is valid only while its generation is the
-- user's current `recovery_generation`, so two regenerations at once leave one valid set, not
-- both. Existing codes and users start at generation 0: codes from before stay valid.
ALTER TABLE portal_users ADD COLUMN IF NOT EXISTS recovery_generation bigint NOT NULL DEFAULT 0;
ALTER TABLE portal_recovery_codes ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0;
