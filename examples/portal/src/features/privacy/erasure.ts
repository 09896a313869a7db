/**
 * Erasure (GDPR Art. 17) with a grace period. Requesting it disables the account at once and
 * ends its sessions; the user (by the link mailed to them) or an administrator can cancel it
 * until it is due. {@link runErasures} then removes the person's data:
 *
 * - rows that exist only for the person are deleted (factors, recovery codes, sessions, codes,
 *   code sends, password resets, consents, throttle records, invitations to their address);
 * - the user row stays as a pseudonymous tombstone (`usr_…` id, tenant, role, creation time):
 *   the audit log and other records refer to that id, which no longer leads to a person;
 *   e-mail, name and phone are replaced, the password hash is made unusable;
 * - the person's data key is destroyed, so everything sealed under it (consent evidence, and
 *   any copy in a backup) no longer opens;
 * - the audit log is not rewritten: its events name the pseudonymous id only, so the chain
 *   still verifies.
 */
import { randomBytes } from 'node:crypto';
import { type Context, OPERATOR_TENANT, toUser, type UserRecord } from '../../server/context.ts';
import { sha256 } from '../../server/sessions.ts';
import { shredPerson } from './person-keys.ts';

export const DEFAULT_GRACE_MS = 30 * 86_400_000;
/** A claimed erasure that did not finish (crash) is taken up again after this long. */
const STALE_CLAIM_MS = 10 * 60_000;

/** Other features' tables with personal data register their clean-up here. */
export type ErasureHook = (ctx: Context, user: UserRecord) => Promise<void>;
const hooks: ErasureHook[] = [];
export function onErasure(hook: ErasureHook): void {
  hooks.push(hook);
}

export interface Scheduled {
  readonly dueAt: number;
  readonly cancelToken: string;
}

/**
 * Schedules the erasure of `user` (`requestedBy`: the user's own id or an administrator's);
 * disables the account and ends its sessions. `undefined` when one is already scheduled.
 */
export async function scheduleErasure(
  ctx: Context,
  user: UserRecord,
  requestedBy: string,
  graceMs: number,
): Promise<Scheduled | undefined> {
  const now = ctx.now();
  const dueAt = now + graceMs;
  const cancelToken = randomBytes(32).toString('base64url');
  // One statement: the user row is locked first (the same order as in `cancelErasure`), the
  // erasure is claimed, and the account is disabled with the status it has *now* kept for a
  // cancel — a cancel running at the same moment cannot interleave between these steps.
  const { rows } = await ctx.db.query(
    `WITH u AS (SELECT id, status FROM portal_users WHERE id = $1 FOR UPDATE),
     s AS (
       INSERT INTO portal_erasures (user_id, state, requested_at, requested_by, due_at, previous_status, cancel_token_hash)
       SELECT u.id, 'scheduled', $2, $3, $4, u.status, $5 FROM u
       ON CONFLICT (user_id) DO UPDATE SET state = 'scheduled', requested_at = EXCLUDED.requested_at,
         requested_by = EXCLUDED.requested_by, due_at = EXCLUDED.due_at,
         previous_status = EXCLUDED.previous_status, cancel_token_hash = EXCLUDED.cancel_token_hash,
         cancelled_at = NULL, cancelled_by = NULL, claimed_at = NULL, done_at = NULL
       WHERE portal_erasures.state = 'cancelled'
       RETURNING user_id)
     UPDATE portal_users SET status = 'disabled' WHERE id IN (SELECT user_id FROM s) RETURNING id`,
    [user.id, now, requestedBy, dueAt, sha256(cancelToken)],
  );
  if (rows.length === 0) return undefined;
  await ctx.sessions.revokeAll(user.id);
  return { dueAt, cancelToken };
}

/**
 * Cancels a scheduled erasure (by user id, or by the mailed token) and restores the account's
 * previous status. Returns the user id, or `undefined` when nothing was scheduled.
 */
export async function cancelErasure(
  ctx: Context,
  by: { userId: string } | { token: string },
  cancelledBy: string,
): Promise<string | undefined> {
  const where = 'userId' in by ? 'user_id = $1' : 'cancel_token_hash = $1';
  const key = 'userId' in by ? by.userId : sha256(by.token);
  // One statement, user row locked first (as in `scheduleErasure`): the erasure is cancelled
  // and the previous status restored together, so a new erasure scheduled at the same moment
  // either comes after (and sees the restored status) or finds this one still scheduled.
  const { rows } = await ctx.db.query(
    `WITH u AS (
       SELECT id FROM portal_users WHERE id = (SELECT user_id FROM portal_erasures WHERE ${where})
       FOR UPDATE),
     c AS (
       UPDATE portal_erasures SET state = 'cancelled', cancelled_at = $2, cancelled_by = $3,
         cancel_token_hash = NULL
       WHERE ${where} AND user_id IN (SELECT id FROM u) AND state = 'scheduled' AND due_at > $2
       RETURNING user_id, previous_status)
     UPDATE portal_users p SET status = CASE WHEN c.previous_status = 'active' THEN 'active' ELSE 'disabled' END
     FROM c WHERE p.id = c.user_id RETURNING p.id`,
    [key, ctx.now(), cancelledBy],
  );
  const row = rows[0];
  if (!row) return undefined;
  const userId = String(row.id);
  return userId;
}

/** Erases one person (idempotent: a crash half-way is finished by the next run). */
async function erase(ctx: Context, user: UserRecord): Promise<void> {
  const id = user.id;
  for (const table of [
    'portal_factors',
    'portal_recovery_codes',
    'portal_sessions',
    'portal_codes',
    'portal_code_sends',
    'portal_code_send_slots',
    'portal_password_resets',
    'portal_consents',
    'portal_sso_identities',
    'portal_rights_requests',
  ])
    await ctx.db.query(`DELETE FROM ${table} WHERE user_id = $1`, [id]);
  await ctx.db.query('DELETE FROM portal_throttle WHERE key = ANY($1::text[])', [
    [`account:${user.email}`, `2fa:${id}`, `reauth:${id}`],
  ]);
  // Invitations to the person's address (the one that created the account included).
  await ctx.db.query('DELETE FROM portal_invitations WHERE email = $1', [user.email]);
  // A partner application by the person: contact data removed, the decision kept.
  await ctx.db.query(
    `UPDATE portal_partner_applications SET contact_name = $2, contact_email = $3,
       ip = '', user_agent = '', verify_hash = NULL WHERE contact_email = $1`,
    [user.email, `[erased ${id}]`, `erased-${id.toLowerCase()}@erased.invalid`],
  );
  for (const hook of hooks) await hook(ctx, user);
  // The tombstone: no name, address, phone or usable password; `.invalid` never resolves.
  await ctx.db.query(
    `UPDATE portal_users SET email = $2, name = $3, phone = NULL, password_hash = '!erased',
       status = 'disabled', last_sign_in_at = NULL WHERE id = $1`,
    [id, `erased-${id.toLowerCase()}@erased.invalid`, `[erased ${id}]`],
  );
  await shredPerson(ctx, id);
}

/**
 * Erases every person whose grace period has ended by `now`; returns their ids. Called by the
 * timer {@link startErasureTimer} installs (and by tests, with the clock advanced). Safe to run
 * on several portals at once: each erasure is claimed by one atomic update.
 */
export async function runErasures(ctx: Context, now: number = ctx.now()): Promise<string[]> {
  const { rows } = await ctx.db.query(
    `SELECT user_id FROM portal_erasures
     WHERE (state = 'scheduled' AND due_at <= $1) OR (state = 'erasing' AND claimed_at < $2)
     ORDER BY due_at LIMIT 100`,
    [now, now - STALE_CLAIM_MS],
  );
  const done: string[] = [];
  for (const row of rows) {
    const userId = String(row.user_id);
    const claimed = await ctx.db.query(
      `UPDATE portal_erasures SET state = 'erasing', claimed_at = $2, cancel_token_hash = NULL
       WHERE user_id = $1 AND ((state = 'scheduled' AND due_at <= $2) OR (state = 'erasing' AND claimed_at < $3))
       RETURNING user_id`,
      [userId, now, now - STALE_CLAIM_MS],
    );
    if (claimed.rows.length === 0) continue;
    const { rows: users } = await ctx.db.query('SELECT * FROM portal_users WHERE id = $1', [
      userId,
    ]);
    const user = users[0] ? toUser(users[0]) : undefined;
    if (user) await erase(ctx, user);
    await ctx.db.query(
      "UPDATE portal_erasures SET state = 'done', done_at = $2 WHERE user_id = $1",
      [userId, now],
    );
    await ctx.audit.append({
      tenant: user?.tenantId ?? OPERATOR_TENANT,
      actor: { type: 'system', id: 'privacy-erasure' },
      action: 'privacy.erasure.completed',
      outcome: 'success',
      target: { type: 'user', id: userId },
    });
    done.push(userId);
  }
  return done;
}

/**
 * Runs {@link runErasures} every `intervalMs` (default 15 min; 0 = off) until the returned
 * function is called. The first run is one interval after the start.
 */
export function startErasureTimer(
  ctx: Context,
  intervalMs: number,
  onError: (error: unknown) => void = () => {},
): () => void {
  if (intervalMs <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runErasures(ctx, ctx.now())
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
