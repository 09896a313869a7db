/**
 * Server-side sessions behind a `__Host-` cookie. Only the SHA-256 of the cookie value is
 * stored, a new id is issued on every authentication step (no fixation), and every session has
 * an idle timeout and an absolute lifetime (ASVS V7).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  deleteSession,
  deleteSessionOf,
  deleteSessionsOf,
  fullSessionsOf,
  insertSession,
  type SessionRow,
  sessionByHash,
  setSessionChallenge,
  setSessionReauth,
  takeSessionChallenge,
  touchSession,
} from '../features/sessions/store.ts';
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

const toSession = (row: SessionRow): Session => ({ ...row, stage: row.stage as Stage });

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
      const row = await sessionByHash(this.db, sha256(value));
      if (row) {
        const s = toSession(row);
        const now = this.now();
        if (now >= s.expiresAt || now - s.lastSeenAt >= this.policy.idleMs) {
          await deleteSession(this.db, s.idHash);
        } else {
          session = s;
          if (now - s.lastSeenAt > 15_000) await touchSession(this.db, s.idHash, now);
        }
      }
    }
    (req as { fluxelSession?: Session | null }).fluxelSession = session ?? null;
    return session;
  }

  /**
   * Whether the request names a session that is no longer live: signed out, expired, or
   * replaced by a later sign-in step of a request that raced this one.
   */
  async ended(req: FastifyRequest): Promise<boolean> {
    return readCookie(req) !== undefined && (await this.read(req)) === undefined;
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
      const removed = await deleteSession(this.db, old.idHash);
      if (carry.upgrade && !removed) replaced();
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
    await insertSession(this.db, session);
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
    if (s) await deleteSession(this.db, s.idHash);
    (req as { fluxelSession?: Session | null }).fluxelSession = null;
    void reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`,
    );
  }

  async setChallenge(session: Session, challenge: string | null): Promise<void> {
    await setSessionChallenge(this.db, session.idHash, challenge);
  }

  /**
   * Spends the session's WebAuthn challenge (compare-and-clear): of concurrent requests
   * carrying it exactly one gets it back; the others get `undefined`.
   */
  async takeChallenge(session: Session): Promise<string | undefined> {
    if (!session.challenge) return undefined;
    const taken = await takeSessionChallenge(this.db, session.idHash, session.challenge);
    return taken ? session.challenge : undefined;
  }

  async setReauth(session: Session): Promise<number> {
    const until = this.now() + this.policy.reauthMs;
    await setSessionReauth(this.db, session.idHash, until);
    return until;
  }

  /** The user's live full sessions, newest first: not expired, and not idle past the limit. */
  async list(userId: string): Promise<Session[]> {
    return (await fullSessionsOf(this.db, userId, this.now(), this.policy.idleMs)).map(toSession);
  }

  async revoke(userId: string, publicId: string): Promise<boolean> {
    return deleteSessionOf(this.db, userId, publicId);
  }

  /** Ends every session of a user, except `keep` (by id hash); how many ended. */
  async revokeAll(userId: string, keep?: string): Promise<number> {
    return deleteSessionsOf(this.db, userId, keep ?? '');
  }
}
