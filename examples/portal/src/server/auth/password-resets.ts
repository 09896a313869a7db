/**
 * Password-reset tokens in `portal_password_resets`, stored as SHA-256 hashes. A token is spent
 * by compare-and-set (`UPDATE … WHERE used_at IS NULL … RETURNING`): of concurrent
 * confirmations exactly one claims it, and a claimed token is never released again.
 */
import type { Database } from '../db.ts';
import { sha256 as hash } from '../sessions.ts';

type Sql = Pick<Database, 'query'>;

/** Stores a new token for `userId`, valid until `expiresAt` (ms). */
export async function storeResetToken(
  db: Sql,
  token: string,
  userId: string,
  expiresAt: number,
): Promise<void> {
  await db.query(
    'INSERT INTO portal_password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)',
    [hash(token), userId, expiresAt],
  );
}

/** The user a live, unspent token belongs to (without spending it). */
export async function resetTokenOwner(db: Sql, token: string, now: number) {
  const { rows } = await db.query(
    'SELECT user_id FROM portal_password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [hash(token), now],
  );
  return rows[0] ? String(rows[0].user_id) : undefined;
}

/** Spends a live token; the user id for the one call that spent it, else undefined. */
export async function spendResetToken(db: Sql, token: string, now: number) {
  const { rows } = await db.query(
    'UPDATE portal_password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id',
    [hash(token), now],
  );
  return rows[0] ? String(rows[0].user_id) : undefined;
}
