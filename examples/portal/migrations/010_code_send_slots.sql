-- The recent send times of e-mail/SMS codes per user and channel in one row, so the send limit
-- (one per 30 s, three per 15 minutes) is decided and recorded in one atomic upsert: codes
-- requested at once cannot all pass a check made before any of them was recorded.
-- `portal_code_sends` keeps the history (data export).
CREATE TABLE IF NOT EXISTS portal_code_send_slots (
  user_id text NOT NULL REFERENCES portal_users (id) ON DELETE CASCADE,
  channel text NOT NULL,
  sends bigint[] NOT NULL,
  PRIMARY KEY (user_id, channel)
);
