/**
 * Server-side sessions behind a `__Host-` cookie. Only the SHA-256 of the cookie value is
 * stored, a new id is issued on every authentication step (no fixation), and every session has
 * an idle timeout and an absolute lifetime (ASVS V7).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from './db.ts';
import { fail } from './http.ts';

export const SESSION_COOKIE = '__Host-fluxel_session';

export interface SessionPolicy {
  /** Idle timeout; default 30 min. */
  readonly idleMs: number;
  /** Absolute lifetime of a signed-in session; default 12 h. */
  readonly absoluteMs: number;
  /** Lifetime of a half-signed-in session (password ok, 2FA pending); default 10 min. */
  readonly pendingMs: number;
  /** Lifetime of a session that must enrol a first factor; default 30 min. */
  readonly enrolMs: number;
  /** How long a re-authentication counts; default 5 min. */
  readonly reauthMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
  pendingMs: 10 * 60_000,
  enrolMs: 30 * 60_000,
  reauthMs: 5 * 60_000,
};

export type Stage = 'password' | 'enrol' | 'full';

export interface Session {
  readonly idHash: string;
  readonly publicId: string;
  readonly userId: string;
  readonly stage: Stage;
  readonly csrf: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly reauthUntil: number | undefined;
  readonly challenge: string | undefined;
  readonly ip: string;
  readonly userAgent: string;
}

const replaced = () =>
  fail(401, 'unauthenticated', 'this sign-in step was already completed; please sign in again');

const token = (bytes: number) => randomBytes(bytes).toString('base64url');
export const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

function readCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) {
      const value = rest.join('=');
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

function toSession(r: Record<string, unknown>): Session {
  return {
    idHash: String(r.id_hash),
    publicId: String(r.public_id),
    userId: String(r.user_id),
    stage: r.stage as Stage,
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

export class Sessions {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
    readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
  ) {}

  /** The request's live session (expired or idle ones are deleted and ignored). */
  async read(req: FastifyRequest): Promise<Session | undefined> {
    const cached = (req as { fluxelSession?: Session | null }).fluxelSession;
    if (cached !== undefined) return cached ?? undefined;
    const value = readCookie(req);
    let session: Session | undefined;
    if (value) {
      const { rows } = await this.db.query('SELECT * FROM portal_sessions WHERE id_hash = $1', [
        sha256(value),
      ]);
      const row = rows[0];
      if (row) {
        const s = toSession(row);
        const now = this.now();
        if (now >= s.expiresAt || now - s.lastSeenAt >= this.policy.idleMs) {
          await this.db.query('DELETE FROM portal_sessions WHERE id_hash = $1', [s.idHash]);
        } else {
          session = s;
          if (now - s.lastSeenAt > 15_000)
            await this.db.query('UPDATE portal_sessions SET last_seen_at = $2 WHERE id_hash = $1', [
              s.idHash,
              now,
            ]);
        }
      }
    }
    (req as { fluxelSession?: Session | null }).fluxelSession = session ?? null;
    return session;
  }

  /**
   * Starts a session at `stage` for `userId`, replacing the request's current session (a new
   * id every time: the old cookie value is worthless afterwards).
   *
   * `upgrade`: the current session is spent by this step (second factor, first enrolment), so
   * it must still exist; of concurrent upgrades of one session only the one whose delete
   * removed it goes on, the others get a 401 `unauthenticated`.
   */
  async start(
    req: FastifyRequest,
    reply: FastifyReply,
    userId: string,
    stage: Stage,
    carry: { reauthUntil?: number; upgrade?: boolean } = {},
  ): Promise<Session> {
    const old = await this.read(req);
    if (old) {
      const { rows } = await this.db.query(
        'DELETE FROM portal_sessions WHERE id_hash = $1 RETURNING id_hash',
        [old.idHash],
      );
      if (carry.upgrade && rows.length !== 1) replaced();
    } else if (carry.upgrade) replaced();
    const value = token(32);
    const now = this.now();
    const lifetime = {
      full: this.policy.absoluteMs,
      enrol: this.policy.enrolMs,
      password: this.policy.pendingMs,
    };
    const expiresAt = now + lifetime[stage];
    const session: Session = {
      idHash: sha256(value),
      publicId: token(12),
      userId,
      stage,
      csrf: token(24),
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      reauthUntil: carry.reauthUntil,
      challenge: undefined,
      ip: req.ip,
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200),
    };
    await this.db.query(
      `INSERT INTO portal_sessions (id_hash, public_id, user_id, stage, csrf, created_at, last_seen_at, expires_at, reauth_until, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        session.idHash,
        session.publicId,
        userId,
        stage,
        session.csrf,
        now,
        now,
        expiresAt,
        carry.reauthUntil ?? null,
        session.ip,
        session.userAgent,
      ],
    );
    void reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${Math.ceil(
        (expiresAt - now) / 1000,
      )}`,
    );
    (req as { fluxelSession?: Session | null }).fluxelSession = session;
    return session;
  }

  /** An anonymous visitor still needs a CSRF token for sign-in: a pre-session cookie-less token. */
  async end(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const s = await this.read(req);
    if (s) await this.db.query('DELETE FROM portal_sessions WHERE id_hash = $1', [s.idHash]);
    (req as { fluxelSession?: Session | null }).fluxelSession = null;
    void reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`,
    );
  }

  async setChallenge(session: Session, challenge: string | null): Promise<void> {
    await this.db.query('UPDATE portal_sessions SET challenge = $2 WHERE id_hash = $1', [
      session.idHash,
      challenge,
    ]);
  }

  /**
   * Spends the session's WebAuthn challenge (compare-and-clear): of concurrent requests
   * carrying it exactly one gets it back; the others get `undefined`.
   */
  async takeChallenge(session: Session): Promise<string | undefined> {
    if (!session.challenge) return undefined;
    const { rows } = await this.db.query(
      'UPDATE portal_sessions SET challenge = NULL WHERE id_hash = $1 AND challenge = $2 RETURNING id_hash',
      [session.idHash, session.challenge],
    );
    return rows.length === 1 ? session.challenge : undefined;
  }

  async setReauth(session: Session): Promise<number> {
    const until = this.now() + this.policy.reauthMs;
    await this.db.query('UPDATE portal_sessions SET reauth_until = $2 WHERE id_hash = $1', [
      session.idHash,
      until,
    ]);
    return until;
  }

  /** The user's live full sessions, newest first: not expired, and not idle past the limit. */
  async list(userId: string): Promise<Session[]> {
    const now = this.now();
    const { rows } = await this.db.query(
      "SELECT * FROM portal_sessions WHERE user_id = $1 AND stage = 'full' AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC",
      [userId, now, now - this.policy.idleMs],
    );
    return rows.map(toSession);
  }

  async revoke(userId: string, publicId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'DELETE FROM portal_sessions WHERE user_id = $1 AND public_id = $2 RETURNING public_id',
      [userId, publicId],
    );
    return rows.length > 0;
  }

  /** Ends every session of a user, except `keep` (by id hash); how many ended. */
  async revokeAll(userId: string, keep?: string): Promise<number> {
    const { rows } = await this.db.query(
      'DELETE FROM portal_sessions WHERE user_id = $1 AND id_hash <> $2 RETURNING public_id',
      [userId, keep ?? ''],
    );
    return rows.length;
  }
}
