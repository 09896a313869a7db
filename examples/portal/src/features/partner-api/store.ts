/**
 * Replay protection for the onboarding sandbox (`POST /partner-api/v1/sandbox/events`): the
 * Standard Webhooks `webhook-id`s accepted per partner tenant are remembered until the message's
 * timestamp leaves the 5-minute window (after that the timestamp check refuses the message
 * anyway). Remembering is the atomic step — `INSERT … ON CONFLICT … RETURNING` — so of
 * concurrent copies of one message exactly one is accepted.
 */

import { WEBHOOK_TOLERANCE_SECONDS } from '@fluxel-example/kit/webhooks';
import type { Database } from '../../server/db.ts';

/** At most this many expired ids are purged per accepted message (bounded work). */
const PURGE_BATCH = 100;
/** Longest `webhook-id` remembered; longer ids are refused. */
export const MAX_WEBHOOK_ID_LENGTH = 256;

/**
 * Remembers `webhookId` for `tenantId` (message timestamp `timestampS`). `true`: first time
 * (accept); `false`: already accepted inside the window (a replay — refuse). A record whose
 * window has passed is taken over (the id may then be used again).
 */
export async function rememberWebhookId(
  db: Database,
  tenantId: string,
  webhookId: string,
  timestampS: number,
  nowMs: number,
): Promise<boolean> {
  // Until the message could no longer pass the timestamp check, plus a minute of clock skew.
  const expiresAt = (timestampS + WEBHOOK_TOLERANCE_SECONDS + 60) * 1000;
  const { rows } = await db.query(
    `INSERT INTO portal_partner_sandbox_ids (tenant_id, webhook_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, webhook_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE portal_partner_sandbox_ids.expires_at <= $4
     RETURNING webhook_id`,
    [tenantId, webhookId, Math.max(expiresAt, nowMs), nowMs],
  );
  if (rows.length === 0) return false;
  await db.query(
    `DELETE FROM portal_partner_sandbox_ids WHERE (tenant_id, webhook_id) IN (
       SELECT tenant_id, webhook_id FROM portal_partner_sandbox_ids WHERE expires_at <= $1
       ORDER BY expires_at LIMIT ${PURGE_BATCH})`,
    [nowMs],
  );
  return true;
}
