/**
 * The TOTP set-up in progress: at most one unconfirmed TOTP row per user (the partial unique
 * index `portal_factors_totp_setup`, migration 011).
 *
 * "Delete the unconfirmed row, insert a new one" as two statements lets set-ups started at
 * once both delete before either inserts: two unconfirmed rows, and the confirmation checks
 * whichever it reads first, so the code from the app showing the other secret fails.
 * `startTotpSetup` is one `INSERT … ON CONFLICT DO UPDATE` on the index instead: the row is
 * replaced in place — with a fresh id, so a confirmation that checked a code against the
 * replaced secret no longer matches it (`confirmTotpSetup` compares and sets by id) and is
 * refused rather than confirming the new secret with the old one's code.
 */
import type { Database } from '../db.ts';

type Sql = Pick<Database, 'query'>;

// $1 id, $2 user, $3 label, $4 sealed secret, $5 now.
const START = `INSERT INTO portal_factors AS f (id, user_id, type, label, secret, confirmed, created_at)
  VALUES ($1, $2, 'totp', $3, $4, false, $5)
  ON CONFLICT (user_id) WHERE type = 'totp' AND NOT confirmed
  DO UPDATE SET id = EXCLUDED.id, label = EXCLUDED.label, secret = EXCLUDED.secret,
    last_step = 0, created_at = EXCLUDED.created_at
  RETURNING id`;

const PENDING =
  "SELECT id, secret FROM portal_factors WHERE user_id = $1 AND type = 'totp' AND NOT confirmed";

// $1 id, $2 user, $3 step, $4 label.
const CONFIRM = `UPDATE portal_factors SET confirmed = true, last_step = $3, label = $4
  WHERE id = $1 AND user_id = $2 AND type = 'totp' AND NOT confirmed RETURNING id`;

export interface TotpSetup {
  readonly id: string;
  /** The sealed secret, as stored. */
  readonly secret: string;
}

/** Makes `sealedSecret` the user's one TOTP set-up in progress (replacing any earlier one). */
export async function startTotpSetup(
  db: Sql,
  setup: {
    readonly id: string;
    readonly userId: string;
    readonly label: string;
    readonly sealedSecret: string;
    readonly now: number;
  },
): Promise<void> {
  await db.query(START, [setup.id, setup.userId, setup.label, setup.sealedSecret, setup.now]);
}

/** The user's TOTP set-up in progress, if any. */
export async function pendingTotpSetup(db: Sql, userId: string): Promise<TotpSetup | undefined> {
  const { rows } = await db.query(PENDING, [userId]);
  const row = rows[0];
  return row ? { id: String(row.id), secret: String(row.secret) } : undefined;
}

/**
 * Confirms set-up `id` if it is still the one in progress (compare-and-set): of confirmations
 * at once one wins, and a set-up replaced meanwhile is not confirmed.
 */
export async function confirmTotpSetup(
  db: Sql,
  id: string,
  userId: string,
  step: number,
  label: string,
): Promise<boolean> {
  const { rows } = await db.query(CONFIRM, [id, userId, step, label]);
  return rows.length === 1;
}
