/**
 * The audit viewer's response shapes (`GET /api/audit`): the rows of `AuditRow` with the acting
 * user's name and e-mail where the viewer may see that user, and a count of all matching
 * events. Kept beside `api.ts` (which holds the query schema) so the viewer's additions stay in
 * one place; shared by the server and the React page.
 */
import type { AuditRow } from './api.ts';

/** Counting stops here: beyond it the page says "more than 10,000". */
export const AUDIT_COUNT_CAP = 10_000;

export interface AuditViewRow extends AuditRow {
  readonly actor: AuditRow['actor'] & {
    /** The user's display name and e-mail, only for users in tenants the viewer may see. */
    readonly name?: string;
    readonly email?: string;
  };
}

export interface AuditViewPage {
  readonly events: readonly AuditViewRow[];
  readonly nextBefore?: number;
  /**
   * All events matching the filters (not just this page), counted up to `AUDIT_COUNT_CAP`;
   * `totalCapped` when there are more. Only on the first page (without `before`).
   */
  readonly total?: number;
  readonly totalCapped?: boolean;
}

/** `POST /api/audit/verify` (administrators): the whole log's hash chain and signatures. */
export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly checkpoints: number;
  readonly lastSeq?: number;
  /** The key the checkpoints are signed with (it must be the portal's own). */
  readonly keyId?: string;
  /** The first findings (at most 20), and how many there are. */
  readonly findings: readonly {
    readonly code: string;
    readonly seq?: number;
    readonly message: string;
  }[];
  readonly findingsTotal: number;
}
