-- Webhook delivery attempts and sandbox replays (issue 17).
-- attempt_token: set by the worker that claims an attempt; the attempt's result is written only
-- while the token is still its own, so a redelivery or a takeover after an expired lease is
-- never overwritten by an older attempt's late result.
ALTER TABLE portal_partner_deliveries ADD COLUMN IF NOT EXISTS attempt_token text;

-- Standard Webhooks ids the onboarding sandbox accepted, per partner tenant, kept until the
-- message's timestamp leaves the 5-minute window (a replay inside it is refused).
CREATE TABLE IF NOT EXISTS portal_partner_sandbox_ids (
  tenant_id text NOT NULL REFERENCES portal_tenants (id) ON DELETE CASCADE,
  webhook_id text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, webhook_id)
);
CREATE INDEX IF NOT EXISTS portal_partner_sandbox_ids_expiry ON portal_partner_sandbox_ids (expires_at);
