/**
 * A user's second factors (`portal_factors`): listing them, adding a confirmed e-mail, SMS or
 * passkey factor, and removing one. TOTP set-ups in progress are at the end of this file.
 *
 * Removing never leaves an account with no strong factor (a factor that is not SMS). Checking
 * "another strong factor remains" and then deleting is a write skew: two removals at once —
 * each of the other factor — both pass the check and the account is left with none (and the
 * next sign-in with the password alone would enrol a new factor). One statement therefore
 * locks all the user's confirmed factors in id order (`FOR UPDATE`; one order, so removals at
 * once wait for each other instead of deadlocking) and deletes the target only if another
 * strong factor is among the locked rows. The second removal waits for the first, no longer
 * finds the deleted factor, and is refused.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../server/db.ts';
import type { Factor, FactorType } from '../../shared/api.ts';

type Sql = Pick<Database, 'query'>;

export const newFactorId = (): string => `fac_${randomBytes(12).toString('base64url')}`;

/** The confirmed factors of `userId`, oldest first. */
export async function factorsOf(db: Sql, userId: string): Promise<Factor[]> {
  const { rows } = await db.query(
    'SELECT id, type, label, created_at, last_used_at FROM portal_factors WHERE user_id = $1 AND confirmed ORDER BY created_at',
    [userId],
  );
  return rows.map((r) => ({
    id: String(r.id),
    type: r.type as Factor['type'],
    label: String(r.label),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(r.last_used_at == null
      ? {}
      : { lastUsedAt: new Date(Number(r.last_used_at)).toISOString() }),
  }));
}

/** Whether `userId` has a confirmed authenticator app or passkey (SMS comes only next to one). */
export async function hasStrongFactor(db: Sql, userId: string): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM portal_factors WHERE user_id = $1 AND type IN ('totp', 'passkey') AND confirmed",
    [userId],
  );
  return rows.length > 0;
}

/** The credential ids of the passkeys of `userId` (a registration excludes them). */
export async function passkeyCredentialIds(db: Sql, userId: string): Promise<string[]> {
  const { rows } = await db.query(
    "SELECT credential_id FROM portal_factors WHERE user_id = $1 AND type = 'passkey' AND confirmed",
    [userId],
  );
  return rows.map((r) => String(r.credential_id));
}

/** A user has at most one e-mail and one SMS factor: a new one replaces the earlier. */
export async function replaceCodeFactor(
  db: Sql,
  factor: { userId: string; type: 'email' | 'sms'; label: string; now: number },
): Promise<void> {
  await db.query('DELETE FROM portal_factors WHERE user_id = $1 AND type = $2', [
    factor.userId,
    factor.type,
  ]);
  await db.query(
    'INSERT INTO portal_factors (id, user_id, type, label, confirmed, created_at) VALUES ($1, $2, $3, $4, true, $5)',
    [newFactorId(), factor.userId, factor.type, factor.label, factor.now],
  );
}

export interface NewPasskey {
  readonly userId: string;
  readonly label: string;
  readonly credentialId: string;
  /** base64url */
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly now: number;
}

/**
 * Adds a confirmed passkey; false if its credential id is registered already. A credential id
 * is registered once, to one account (UNIQUE): a second registration of it — replayed, or a
 * forged response naming someone else's credential — adds nothing.
 */
export async function addPasskey(db: Sql, passkey: NewPasskey): Promise<boolean> {
  const added = await db.query(
    `INSERT INTO portal_factors (id, user_id, type, label, credential_id, public_key, counter, transports, confirmed, created_at)
     VALUES ($1, $2, 'passkey', $3, $4, $5, $6, $7, true, $8)
     ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
    [
      newFactorId(),
      passkey.userId,
      passkey.label,
      passkey.credentialId,
      passkey.publicKey,
      passkey.counter,
      passkey.transports.join(','),
      passkey.now,
    ],
  );
  return added.rows.length === 1;
}

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

// ------------------------------------------------------------ TOTP set-up in progress
// The TOTP set-up in progress: at most one unconfirmed TOTP row per user (the partial unique
// index `portal_factors_totp_setup`, migration 011).
//
// "Delete the unconfirmed row, insert a new one" as two statements lets set-ups started at
// once both delete before either inserts: two unconfirmed rows, and the confirmation checks
// whichever it reads first, so the code from the app showing the other secret fails.
// `startTotpSetup` is one `INSERT … ON CONFLICT DO UPDATE` on the index instead: the row is
// replaced in place — with a fresh id, so a confirmation that checked a code against the
// replaced secret no longer matches it (`confirmTotpSetup` compares and sets by id) and is
// refused rather than confirming the new secret with the old one's code.

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
