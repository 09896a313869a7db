/**
 * Enabling or disabling an account by hand (`PATCH /api/users/:id {status}`), consistent with
 * erasure: an account whose erasure is scheduled (or running, or done) is not made active again
 * — the erasure is cancelled instead (`POST /api/privacy/users/:id/erasure/cancel`), which
 * gives the account its previous status back. Disabling it while an erasure is scheduled also
 * records `disabled` as the status a cancel restores.
 *
 * One statement, user row locked first (the order `scheduleErasure` and `cancelErasure` use).
 * The erasure state it reads is the statement's snapshot, which can be older than the locked
 * row: if the row changed between the snapshot and the lock (its `xmin` is not the one the
 * snapshot saw — an erasure was scheduled or cancelled meanwhile), nothing is written and the
 * statement runs again with a fresh snapshot.
 */
import type { Database } from '../../server/db.ts';

export type StatusChange =
  | { readonly kind: 'changed'; readonly from: 'active' | 'disabled' }
  | { readonly kind: 'unchanged' }
  /** Refused: an erasure is scheduled, running or done. */
  | { readonly kind: 'erasure_scheduled' }
  | { readonly kind: 'not_found' }
  /** The row kept changing under us (retries spent); try again. */
  | { readonly kind: 'busy' };

const ATTEMPTS = 5;

export async function setAccountStatus(
  db: Database,
  userId: string,
  status: 'active' | 'disabled',
): Promise<StatusChange> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const { rows } = await db.query(
      `WITH seen AS (SELECT xmin AS v FROM portal_users WHERE id = $1),
       u AS (
         SELECT p.id, p.status FROM portal_users p, seen
         WHERE p.id = $1 AND p.xmin = seen.v FOR UPDATE OF p),
       erasure AS (
         SELECT 1 FROM portal_erasures
         WHERE user_id = $1 AND state IN ('scheduled', 'erasing', 'done')),
       k AS (
         UPDATE portal_erasures SET previous_status = 'disabled'
         WHERE $2 = 'disabled' AND state = 'scheduled' AND user_id IN (SELECT id FROM u)
         RETURNING user_id),
       s AS (
         UPDATE portal_users p SET status = $2 FROM u
         WHERE p.id = u.id AND ($2 = 'disabled' OR NOT EXISTS (SELECT 1 FROM erasure))
         RETURNING u.status AS before)
       SELECT (SELECT count(*) FROM seen)::int AS found, (SELECT count(*) FROM u)::int AS locked,
         (SELECT before FROM s) AS before`,
      [userId, status],
    );
    const r = rows[0] ?? {};
    if (Number(r.found) === 0) return { kind: 'not_found' };
    if (Number(r.locked) === 0) continue;
    if (r.before == null) return { kind: 'erasure_scheduled' };
    return r.before === status
      ? { kind: 'unchanged' }
      : { kind: 'changed', from: r.before as 'active' | 'disabled' };
  }
  return { kind: 'busy' };
}
