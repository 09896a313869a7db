/**
 * Partner applications under review: a decision claims the pending application
 * (`routes/onboarding.ts`); an approval that fails half-way gives back *its own* claim.
 */
import type { Database } from '../db.ts';

/**
 * Puts application `id` back into the review queue, only if it is still the approval claimed
 * by `claim` (same reviewer, same claim time, no tenant set up yet) — a compare-and-set, so a
 * late clean-up never reopens an application someone else decided or that was finished.
 * Returns whether it was put back.
 */
export async function releaseApplicationClaim(
  db: Database,
  id: string,
  claim: { readonly by: string; readonly at: number },
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE portal_partner_applications SET status = 'pending', reviewed_by = NULL, reviewed_at = NULL
     WHERE id = $1 AND status = 'approved' AND reviewed_by = $2 AND reviewed_at = $3
       AND tenant_id IS NULL
     RETURNING id`,
    [id, claim.by, claim.at],
  );
  return rows.length > 0;
}
