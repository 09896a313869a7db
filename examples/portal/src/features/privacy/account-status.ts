/**
 * Enabling or disabling an account by hand (`PATCH /api/users/:id {status}`), consistent with
 * erasure: an account whose erasure is scheduled (or running, or done) is not made active again
 * — the erasure is cancelled instead (`POST /api/privacy/users/:id/erasure/cancel`), which
 * gives the account its previous status back. Disabling it while an erasure is scheduled also
 * records `disabled` as the status a cancel restores.
 *
 * One statement (`setStatusUnlessErasing` in the users store), user row locked first (the order
 * `scheduleErasure` and `cancelErasure` use). The erasure state it reads is the statement's
 * snapshot, which can be older than the locked row: if the row changed between the snapshot and
 * the lock (its `xmin` is not the one the snapshot saw — an erasure was scheduled or cancelled
 * meanwhile), nothing is written and the statement runs again with a fresh snapshot.
 */
import type { Database } from '../../server/db.ts';
import { setStatusUnlessErasing } from '../users/store.ts';

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
    const r = await setStatusUnlessErasing(db, userId, status);
    if (r.found === 0) return { kind: 'not_found' };
    if (r.locked === 0) continue;
    if (r.before == null) return { kind: 'erasure_scheduled' };
    return r.before === status
      ? { kind: 'unchanged' }
      : { kind: 'changed', from: r.before === 'active' ? 'active' : 'disabled' };
  }
  return { kind: 'busy' };
}
