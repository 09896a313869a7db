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
import { type Context, OPERATOR_TENANT } from '../../server/context.ts';
import { sha256 } from '../../server/sessions.ts';
import {
  cancelErasureOf,
  scheduleErasureOf,
  tombstoneUser,
  type UserRecord,
  userById,
} from '../users/store.ts';
import { shredPerson } from './person-keys.ts';
import { claimErasure, deletePersonRows, dueErasures, finishErasure } from './store.ts';

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
  const scheduled = await scheduleErasureOf(ctx.db, {
    userId: user.id,
    now,
    requestedBy,
    dueAt,
    tokenHash: sha256(cancelToken),
  });
  if (!scheduled) return undefined;
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
  return cancelErasureOf(
    ctx.db,
    'userId' in by ? { userId: by.userId } : { tokenHash: sha256(by.token) },
    ctx.now(),
    cancelledBy,
  );
}

/** Erases one person (idempotent: a crash half-way is finished by the next run). */
async function erase(ctx: Context, user: UserRecord): Promise<void> {
  await deletePersonRows(ctx.db, user);
  for (const hook of hooks) await hook(ctx, user);
  await tombstoneUser(ctx.db, user.id);
  await shredPerson(ctx, user.id);
}

/**
 * Erases every person whose grace period has ended by `now`; returns their ids. Called by the
 * timer {@link startErasureTimer} installs (and by tests, with the clock advanced). Safe to run
 * on several portals at once: each erasure is claimed by one atomic update.
 */
export async function runErasures(ctx: Context, now: number = ctx.now()): Promise<string[]> {
  const done: string[] = [];
  for (const userId of await dueErasures(ctx.db, now, now - STALE_CLAIM_MS)) {
    if (!(await claimErasure(ctx.db, userId, now, now - STALE_CLAIM_MS))) continue;
    const user = await userById(ctx.db, userId);
    if (user) await erase(ctx, user);
    await finishErasure(ctx.db, userId, now);
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
