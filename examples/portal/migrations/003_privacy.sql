-- GDPR: consent records, per-person data keys (crypto-shredding) and scheduled erasures.

-- Consent records: one row per change (grant or withdrawal), never updated. `evidence` (IP and
-- user agent of the request) is sealed under the person's data key, so it is shredded with it.
CREATE TABLE IF NOT EXISTS portal_consents (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  purpose text NOT NULL,
  version text NOT NULL,
  granted boolean NOT NULL,
  at bigint NOT NULL,
  source text NOT NULL CHECK (source IN ('web', 'api', 'admin')),
  evidence text
);
CREATE INDEX IF NOT EXISTS portal_consents_user ON portal_consents (user_id, purpose, at);

-- One data key per person, sealed under the portal keyring. Erasure deletes the key material
-- (a tombstone stays, so the key is never silently recreated): everything sealed under it,
-- in the database and in every backup of it, no longer opens. No foreign key on purpose.
CREATE TABLE IF NOT EXISTS portal_person_keys (
  user_id text PRIMARY KEY,
  material text,
  created_at bigint NOT NULL,
  destroyed_at bigint
);

-- Erasure requests: scheduled → (cancelled | erasing → done). The account is disabled while
-- scheduled; `previous_status` is restored on cancel. Only the hash of the cancel link's token.
CREATE TABLE IF NOT EXISTS portal_erasures (
  user_id text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'erasing', 'done')),
  requested_at bigint NOT NULL,
  requested_by text NOT NULL,
  due_at bigint NOT NULL,
  previous_status text NOT NULL,
  cancel_token_hash text UNIQUE,
  cancelled_at bigint,
  cancelled_by text,
  claimed_at bigint,
  done_at bigint
);
CREATE INDEX IF NOT EXISTS portal_erasures_due ON portal_erasures (state, due_at);
