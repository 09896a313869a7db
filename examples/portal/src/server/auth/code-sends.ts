/**
 * The send limit of e-mail/SMS codes (`sendAllowed` in `codes.ts`) kept atomically in
 * `portal_code_send_slots`: one `INSERT … ON CONFLICT DO UPDATE … WHERE <the policy allows a
 * send> RETURNING` both decides and records the send, so of N code requests at once exactly
 * as many go out as the policy allows (one per 30 s). The `WHERE` is the SQL form of
 * `sendAllowed`; the pure function still words the refusal (`retryAfterMs`).
 */
import type { Database } from '../db.ts';
import { type SendDecision, type SendPolicy, sendAllowed } from './codes.ts';

type Sql = Pick<Database, 'query'>;

export const SEND_POLICY: Required<SendPolicy> = Object.freeze({
  perWindow: 3,
  windowMs: 15 * 60_000,
  minIntervalMs: 30_000,
});

// $1 user, $2 channel, $3 now, $4 windowMs, $5 minIntervalMs, $6 perWindow; `s` the stored row.
const RECENT = 'x > $3::bigint - $4::bigint AND x <= $3::bigint';
const RESERVE = `INSERT INTO portal_code_send_slots AS s (user_id, channel, sends)
  VALUES ($1, $2, ARRAY[$3::bigint])
  ON CONFLICT (user_id, channel) DO UPDATE SET
    sends = ARRAY(SELECT x FROM unnest(s.sends) AS x WHERE ${RECENT} ORDER BY x) || $3::bigint
  WHERE NOT EXISTS (SELECT 1 FROM unnest(s.sends) AS x WHERE x > $3::bigint - $5::bigint AND x <= $3::bigint)
    AND (SELECT count(*) FROM unnest(s.sends) AS x WHERE ${RECENT}) < $6::int
  RETURNING user_id`;

/** Records a send of a code to `userId` on `channel` if the policy allows one now. */
export async function reserveSend(
  db: Sql,
  userId: string,
  channel: string,
  now: number,
  policy: Required<SendPolicy> = SEND_POLICY,
): Promise<SendDecision> {
  const { rows } = await db.query(RESERVE, [
    userId,
    channel,
    now,
    policy.windowMs,
    policy.minIntervalMs,
    policy.perWindow,
  ]);
  if (rows.length === 1) return { ok: true };
  // Only to word the answer: the decision is already taken.
  const { rows: stored } = await db.query(
    'SELECT sends FROM portal_code_send_slots WHERE user_id = $1 AND channel = $2',
    [userId, channel],
  );
  const sends = ((stored[0]?.sends as unknown[] | undefined) ?? []).map(Number);
  const decision = sendAllowed(sends, now, policy);
  return decision.ok ? { ok: false, retryAfterMs: 1000 } : decision;
}
