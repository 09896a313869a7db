/**
 * Removing a second factor without ever leaving an account with no strong one (a factor that
 * is not SMS). Checking "another strong factor remains" and then deleting is a write skew:
 * two removals at once — each of the other factor — both pass the check and the account is
 * left with none (and the next sign-in with the password alone would enrol a new factor).
 *
 * One statement therefore locks all the user's confirmed factors in id order (`FOR UPDATE`;
 * one order, so removals at once wait for each other instead of deadlocking) and deletes the
 * target only if another strong factor is among the locked rows. The second removal waits for
 * the first, no longer finds the deleted factor, and is refused.
 */
import type { Database } from '../db.ts';

type Sql = Pick<Database, 'query'>;

// $1 factor id, $2 user id.
const REMOVE = `WITH mine AS (
    SELECT id, type FROM portal_factors WHERE user_id = $2 AND confirmed ORDER BY id FOR UPDATE
  ), gone AS (
    DELETE FROM portal_factors
    WHERE id = $1 AND user_id = $2
      AND (SELECT count(*) FROM mine WHERE id <> $1 AND type <> 'sms') > 0
      AND $1 IN (SELECT id FROM mine)
    RETURNING type
  )
  SELECT (SELECT count(*) FROM mine WHERE id = $1)::int AS found,
         (SELECT type FROM gone) AS removed`;

export type RemoveOutcome =
  | { readonly ok: true; readonly type: string }
  | { readonly ok: false; readonly reason: 'not_found' | 'last_strong' };

/** Deletes confirmed factor `factorId` of `userId` unless it is the last strong one. */
export async function removeFactor(
  db: Sql,
  userId: string,
  factorId: string,
): Promise<RemoveOutcome> {
  const { rows } = await db.query(REMOVE, [factorId, userId]);
  const row = rows[0];
  if (row?.removed != null) return { ok: true, type: String(row.removed) };
  if (Number(row?.found) !== 1) return { ok: false, reason: 'not_found' };
  return { ok: false, reason: 'last_strong' };
}
