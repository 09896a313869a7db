/**
 * The SQL of `portal_sessions` (the `Sessions` class of src/server/sessions.ts is its only
 * user). Rows are keyed by the SHA-256 of the cookie value; the statements that spend
 * something (a session upgraded, a WebAuthn challenge) compare and delete or clear in one
 * statement, so of concurrent requests exactly one gets it.
 */
import type { Database } from '../../server/db.ts';

type Sql = Pick<Database, 'query'>;

/** A session row as stored (times in ms). */
export interface SessionRow {
  readonly idHash: string;
  readonly publicId: string;
  readonly userId: string;
  readonly stage: string;
  readonly csrf: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly reauthUntil: number | undefined;
  readonly challenge: string | undefined;
  readonly ip: string;
  readonly userAgent: string;
}

function toRow(r: Record<string, unknown>): SessionRow {
  return {
    idHash: String(r.id_hash),
    publicId: String(r.public_id),
    userId: String(r.user_id),
    stage: String(r.stage),
    csrf: String(r.csrf),
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at),
    reauthUntil: r.reauth_until == null ? undefined : Number(r.reauth_until),
    challenge: r.challenge == null ? undefined : String(r.challenge),
    ip: String(r.ip),
    userAgent: String(r.user_agent),
  };
}

export async function sessionByHash(db: Sql, idHash: string): Promise<SessionRow | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_sessions WHERE id_hash = $1', [idHash]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Deletes a session; true when this call removed it (of concurrent deletes, one). */
export async function deleteSession(db: Sql, idHash: string): Promise<boolean> {
  const { rows } = await db.query(
    'DELETE FROM portal_sessions WHERE id_hash = $1 RETURNING id_hash',
    [idHash],
  );
  return rows.length === 1;
}

export async function touchSession(db: Sql, idHash: string, now: number): Promise<void> {
  await db.query('UPDATE portal_sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, now]);
}

export async function insertSession(db: Sql, s: Omit<SessionRow, 'challenge'>): Promise<void> {
  await db.query(
    `INSERT INTO portal_sessions (id_hash, public_id, user_id, stage, csrf, created_at, last_seen_at, expires_at, reauth_until, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      s.idHash,
      s.publicId,
      s.userId,
      s.stage,
      s.csrf,
      s.createdAt,
      s.lastSeenAt,
      s.expiresAt,
      s.reauthUntil ?? null,
      s.ip,
      s.userAgent,
    ],
  );
}

export async function setSessionChallenge(db: Sql, idHash: string, challenge: string | null) {
  await db.query('UPDATE portal_sessions SET challenge = $2 WHERE id_hash = $1', [
    idHash,
    challenge,
  ]);
}

/** Clears the session's challenge if it is still `challenge`; true for exactly one caller. */
export async function takeSessionChallenge(
  db: Sql,
  idHash: string,
  challenge: string,
): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE portal_sessions SET challenge = NULL WHERE id_hash = $1 AND challenge = $2 RETURNING id_hash',
    [idHash, challenge],
  );
  return rows.length === 1;
}

export async function setSessionReauth(db: Sql, idHash: string, until: number): Promise<void> {
  await db.query('UPDATE portal_sessions SET reauth_until = $2 WHERE id_hash = $1', [
    idHash,
    until,
  ]);
}

/** The user's live signed-in sessions, newest first. */
export async function fullSessionsOf(db: Sql, userId: string, now: number, idleMs: number) {
  const { rows } = await db.query(
    "SELECT * FROM portal_sessions WHERE user_id = $1 AND stage = 'full' AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC",
    [userId, now, now - idleMs],
  );
  return rows.map(toRow);
}

/** Ends one session of a user by its public id; true when there was one. */
export async function deleteSessionOf(db: Sql, userId: string, publicId: string) {
  const { rows } = await db.query(
    'DELETE FROM portal_sessions WHERE user_id = $1 AND public_id = $2 RETURNING public_id',
    [userId, publicId],
  );
  return rows.length > 0;
}

/** Ends every session of a user except `keep` (an id hash, or '' for none); how many ended. */
export async function deleteSessionsOf(db: Sql, userId: string, keep: string): Promise<number> {
  const { rows } = await db.query(
    'DELETE FROM portal_sessions WHERE user_id = $1 AND id_hash <> $2 RETURNING public_id',
    [userId, keep],
  );
  return rows.length;
}
