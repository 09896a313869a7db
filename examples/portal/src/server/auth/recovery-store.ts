/**
 * A user's recovery codes in `portal_recovery_codes`, one valid set at a time.
 *
 * Replacing a set is a race when done as "delete the old codes, insert the new ones": two
 * regenerations at once can each delete before either inserts, and both new sets stay valid
 * (20 codes while the user keeps only the 10 shown last). Locking the user row does not help
 * on its own: in READ COMMITTED the rest of a statement still reads the codes as of its start,
 * so the second regeneration cannot see — and delete — the first one's codes.
 *
 * So validity is not "the row exists" but a generation number: `replaceRecoveryCodes` raises
 * `portal_users.recovery_generation` and inserts the new codes with that generation in one
 * statement (the increment locks the user row: regenerations at once get distinct, ordered
 * generations), and a code counts — for use, for the count shown, for the sign-in methods —
 * only while its generation is the user's current one. Of N regenerations at once exactly the
 * set with the highest generation works; older sets are deleted afterwards (tidying, not
 * correctness: a leftover row of an older generation is never accepted). Codes from before
 * the generation existed have generation 0, like every user: they stay valid.
 */
import type { Database } from '../db.ts';

type Sql = Pick<Database, 'query'>;

/** The generation that counts: the user's current one. `$1` is the user id. */
const CURRENT = '(SELECT recovery_generation FROM portal_users WHERE id = $1)';

// $1 user id, $2 code hashes. One statement: the new generation and its codes commit together.
const REPLACE = `WITH generation AS (
    UPDATE portal_users SET recovery_generation = recovery_generation + 1
    WHERE id = $1 RETURNING recovery_generation
  ), added AS (
    INSERT INTO portal_recovery_codes (user_id, code_hash, generation)
    SELECT $1, hash, g.recovery_generation FROM generation g, unnest($2::text[]) AS hash
    RETURNING 1
  )
  SELECT g.recovery_generation AS generation, (SELECT count(*) FROM added)::int AS added
  FROM generation g`;

// $1 user id, $2 the generation just made. Runs after REPLACE committed, with a fresh view:
// every lower generation has committed by then (they got their numbers before this one).
const TIDY = 'DELETE FROM portal_recovery_codes WHERE user_id = $1 AND generation < $2';

// $1 user id, $2 code hash, $3 now.
const USE = `UPDATE portal_recovery_codes SET used_at = $3
  WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL AND generation = ${CURRENT}
  RETURNING code_hash`;

const LEFT = `SELECT count(*)::int AS n FROM portal_recovery_codes
  WHERE user_id = $1 AND used_at IS NULL AND generation = ${CURRENT}`;

/**
 * Makes `hashes` the user's only valid recovery codes (replacing any earlier set). Returns
 * false when the user does not exist (nothing stored).
 */
export async function replaceRecoveryCodes(
  db: Sql,
  userId: string,
  hashes: readonly string[],
): Promise<boolean> {
  const { rows } = await db.query(REPLACE, [userId, [...hashes]]);
  const row = rows[0];
  if (!row) return false;
  await db.query(TIDY, [userId, Number(row.generation)]);
  return true;
}

/** Spends the user's unused code `hash` of the current set; true once per code, also at once. */
export async function spendRecoveryCode(
  db: Sql,
  userId: string,
  hash: string,
  now: number,
): Promise<boolean> {
  const { rows } = await db.query(USE, [userId, hash, now]);
  return rows.length === 1;
}

/** How many codes of the user's current set are still unused. */
export async function recoveryCodesLeft(db: Sql, userId: string): Promise<number> {
  const { rows } = await db.query(LEFT, [userId]);
  return Number(rows[0]?.n ?? 0);
}
