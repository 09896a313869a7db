/** The portal's accounts (`portal_users`): the only SQL on that table. */

import type { Database } from '../../server/db.ts';
import type { Locale } from '../../shared/api.ts';

type Sql = Pick<Database, 'query'>;

// --- for account ---

/** A complete sign-in of `userId` at `at` (shown to administrators as "last sign-in"). */
export async function setLastSignIn(db: Sql, userId: string, at: number): Promise<void> {
  await db.query('UPDATE portal_users SET last_sign_in_at = $2 WHERE id = $1', [userId, at]);
}

/** The phone number SMS codes go to (verified by a code first). */
export async function setPhone(db: Sql, userId: string, phone: string): Promise<void> {
  await db.query('UPDATE portal_users SET phone = $2 WHERE id = $1', [userId, phone]);
}

/** The fields of the own profile given (absent ones stay). */
export async function updateProfile(
  db: Sql,
  userId: string,
  profile: { readonly name?: string | undefined; readonly locale?: Locale | undefined },
): Promise<void> {
  if (profile.name !== undefined)
    await db.query('UPDATE portal_users SET name = $2 WHERE id = $1', [userId, profile.name]);
  if (profile.locale !== undefined)
    await db.query('UPDATE portal_users SET locale = $2 WHERE id = $1', [userId, profile.locale]);
}

export async function setPasswordHash(db: Sql, userId: string, hash: string): Promise<void> {
  await db.query('UPDATE portal_users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}
