/**
 * The onboarding tables: partner applications (`portal_partner_applications`) and the
 * onboarded partners' checklist (`portal_partner_onboarding`). Every decision is one statement
 * that decides from what the database returns (compare-and-set on the state), so of
 * concurrent reviewers, clicks or receivers exactly one wins.
 */
import type { Database } from '../../server/db.ts';
import type { ApplicationRow, ApplicationStatus, StepState } from './contract.ts';

const iso = (v: unknown) => (v == null ? undefined : new Date(Number(v)).toISOString());

/** An application as stored, with what approval files for the new tenant. */
export interface StoredApplication extends ApplicationRow {
  readonly advLocale: string;
  readonly advSha256: string;
  readonly ip: string;
  readonly userAgent: string;
  /** Milliseconds; the time the applicant accepted the ADV. */
  readonly createdAtMs: number;
}

function application(r: Record<string, unknown>): StoredApplication {
  const verifiedAt = iso(r.verified_at);
  const reviewedAt = iso(r.reviewed_at);
  return {
    id: String(r.id),
    companyName: String(r.company_name),
    companyAddress: String(r.company_address),
    ...(r.website ? { website: String(r.website) } : {}),
    contactName: String(r.contact_name),
    contactEmail: String(r.contact_email),
    status: r.status as ApplicationStatus,
    termsVersion: String(r.terms_version),
    advVersion: String(r.adv_version),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(verifiedAt ? { verifiedAt } : {}),
    ...(reviewedAt ? { reviewedAt } : {}),
    ...(r.reject_reason ? { rejectReason: String(r.reject_reason) } : {}),
    ...(r.tenant_id ? { tenantId: String(r.tenant_id) } : {}),
    advLocale: String(r.adv_locale),
    advSha256: String(r.adv_sha256),
    ip: String(r.ip),
    userAgent: String(r.user_agent),
    createdAtMs: Number(r.created_at),
  };
}

/** What the reviewers' list shows (no IP, no user agent). */
export function publicApplication(a: StoredApplication): ApplicationRow {
  const { advLocale, advSha256, ip, userAgent, createdAtMs, ...row } = a;
  return row;
}

// ------------------------------------------------------------------ registration

/** An unverified application whose link expired does not block a new one: removed. */
export async function deleteExpiredUnverified(
  db: Database,
  email: string,
  now: number,
): Promise<void> {
  await db.query(
    "DELETE FROM portal_partner_applications WHERE contact_email = $1 AND status = 'unverified' AND verify_expires_at <= $2",
    [email, now],
  );
}

export interface NewApplication {
  readonly id: string;
  readonly companyName: string;
  readonly companyAddress: string;
  readonly website: string | undefined;
  readonly contactName: string;
  readonly contactEmail: string;
  readonly locale: string;
  readonly termsVersion: string;
  readonly termsSha256: string;
  readonly advVersion: string;
  readonly advLocale: string;
  readonly advSha256: string;
  readonly ip: string;
  readonly userAgent: string;
  readonly verifyHash: string;
  readonly verifyExpiresAt: number;
  readonly createdAt: number;
}

/** Files an unverified application; `false` when the address already has an open one. */
export async function insertApplication(db: Database, a: NewApplication): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_partner_applications
       (id, company_name, company_address, website, contact_name, contact_email, locale,
        terms_version, terms_sha256, adv_version, adv_locale, adv_sha256, ip, user_agent,
        status, verify_hash, verify_expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'unverified', $15, $16, $17)
     ON CONFLICT (contact_email) WHERE status IN ('unverified', 'pending', 'approved') DO NOTHING
     RETURNING id`,
    [
      a.id,
      a.companyName,
      a.companyAddress,
      a.website ?? null,
      a.contactName,
      a.contactEmail,
      a.locale,
      a.termsVersion,
      a.termsSha256,
      a.advVersion,
      a.advLocale,
      a.advSha256,
      a.ip,
      a.userAgent,
      a.verifyHash,
      a.verifyExpiresAt,
      a.createdAt,
    ],
  );
  return rows.length > 0;
}

/** Verifies the application of link hash `verifyHash` (once, unexpired): it goes to review. */
export async function verifyApplication(
  db: Database,
  verifyHash: string,
  now: number,
): Promise<StoredApplication | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_partner_applications SET status = 'pending', verified_at = $2, verify_hash = NULL
     WHERE verify_hash = $1 AND status = 'unverified' AND verify_expires_at > $2 RETURNING *`,
    [verifyHash, now],
  );
  return rows[0] ? application(rows[0]) : undefined;
}

// ------------------------------------------------------------------ review

export async function listApplications(
  db: Database,
  status: ApplicationStatus | undefined,
): Promise<StoredApplication[]> {
  const { rows } = await db.query(
    `SELECT * FROM portal_partner_applications WHERE ($1::text IS NULL OR status = $1)
     ORDER BY created_at DESC LIMIT 500`,
    [status ?? null],
  );
  return rows.map(application);
}

export async function applicationById(
  db: Database,
  id: string,
): Promise<StoredApplication | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_partner_applications WHERE id = $1', [id]);
  return rows[0] ? application(rows[0]) : undefined;
}

/** Rejects pending application `id` (one reviewer wins); `undefined` when it is not pending. */
export async function rejectApplication(
  db: Database,
  id: string,
  decision: { readonly by: string; readonly at: number; readonly reason: string },
): Promise<StoredApplication | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_partner_applications SET status = 'rejected', reviewed_by = $2, reviewed_at = $3,
       reject_reason = $4 WHERE id = $1 AND status = 'pending' RETURNING *`,
    [id, decision.by, decision.at, decision.reason],
  );
  return rows[0] ? application(rows[0]) : undefined;
}

/** Everything an approval sets up, prepared by the service (ids, hashes, the sealed secret). */
export interface Approval {
  readonly applicationId: string;
  readonly by: string;
  readonly at: number;
  readonly tenantId: string;
  readonly acceptanceId: string;
  readonly client: {
    readonly id: string;
    readonly name: string;
    readonly secretHash: string;
    readonly scopes: string;
  };
  readonly webhookSecretSealed: string;
  readonly invitation: {
    readonly id: string;
    readonly tokenHash: string;
    readonly expiresAt: number;
  };
}

/**
 * Approves pending application `id` and sets the partner up — the tenant, the applicant's ADV
 * acceptance filed for it (with the original time, IP and text hash), the sandbox API client,
 * the checklist row with the sealed webhook secret and the contact's invitation — all or
 * nothing: one statement, so a failure anywhere leaves the application pending and nothing
 * behind, and of concurrent approvals exactly one claims the application (the others find it
 * no longer pending and get `undefined`).
 *
 * One statement writes other features' tables (tenants, ADV, API clients, invitations) because
 * it is one atomic step of onboarding; the rows are exactly those the features' own writes
 * create.
 */
export async function approveApplication(
  db: Database,
  a: Approval,
): Promise<StoredApplication | undefined> {
  const { rows } = await db.query(
    `WITH claimed AS (
       UPDATE portal_partner_applications
       SET status = 'approved', reviewed_by = $2, reviewed_at = $3, reject_reason = NULL, tenant_id = $4
       WHERE id = $1 AND status = 'pending' RETURNING *),
     tenant AS (
       INSERT INTO portal_tenants (id, name, kind, created_at)
       SELECT $4, c.company_name, 'partner', $3 FROM claimed c RETURNING id),
     acceptance AS (
       INSERT INTO portal_adv_acceptances
         (id, tenant_id, version, locale, text_sha256, user_id, user_name, accepted_at, ip, user_agent)
       SELECT $5, t.id, c.adv_version, c.adv_locale, c.adv_sha256, 'applicant:' || c.id,
              c.contact_name, c.created_at, c.ip, c.user_agent
       FROM claimed c, tenant t
       ON CONFLICT (tenant_id, version) DO NOTHING),
     client AS (
       INSERT INTO portal_partner_clients (id, tenant_id, name, secret_hash, scopes, created_by, created_at)
       SELECT $6, t.id, $7, $8, $9, $2, $3 FROM tenant t RETURNING id),
     checklist AS (
       INSERT INTO portal_partner_onboarding
         (tenant_id, application_id, client_id, webhook_secret_sealed, created_at)
       SELECT t.id, c.id, k.id, $10, $3 FROM claimed c, tenant t, client k),
     invitation AS (
       INSERT INTO portal_invitations (id, token_hash, tenant_id, email, role, invited_by, expires_at)
       SELECT $11, $12, t.id, c.contact_email, 'partner', $2, $13 FROM claimed c, tenant t)
     SELECT * FROM claimed`,
    [
      a.applicationId,
      a.by,
      a.at,
      a.tenantId,
      a.acceptanceId,
      a.client.id,
      a.client.name,
      a.client.secretHash,
      a.client.scopes,
      a.webhookSecretSealed,
      a.invitation.id,
      a.invitation.tokenHash,
      a.invitation.expiresAt,
    ],
  );
  return rows[0] ? application(rows[0]) : undefined;
}

// ------------------------------------------------------------------ the checklist

/** The checklist row of an onboarded tenant with its tenant's name and client's scopes. */
export interface ChecklistRow {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly clientId: string;
  readonly scopes: unknown;
  readonly secretsRevealed: boolean;
  readonly webhookUrl?: string;
  readonly steps: Readonly<
    Record<
      'inbound' | 'outbound',
      { readonly state: StepState; readonly at?: string; readonly detail?: string }
    >
  >;
  readonly certifiedAt?: string;
  readonly productionGrantedAt?: string;
}

export async function checklistOf(
  db: Database,
  tenantId: string,
): Promise<ChecklistRow | undefined> {
  const { rows } = await db.query(
    `SELECT o.*, t.name AS tenant_name, c.scopes FROM portal_partner_onboarding o
     JOIN portal_tenants t ON t.id = o.tenant_id
     JOIN portal_partner_clients c ON c.id = o.client_id WHERE o.tenant_id = $1`,
    [tenantId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const step = (id: 'inbound' | 'outbound') => {
    const at = iso(r[`${id}_at`]);
    const detail = r[`${id}_detail`];
    return {
      state: String(r[`${id}_state`]) as StepState,
      ...(at ? { at } : {}),
      ...(detail ? { detail: String(detail) } : {}),
    };
  };
  const certifiedAt = iso(r.certified_at);
  const grantedAt = iso(r.production_granted_at);
  return {
    tenantId: String(r.tenant_id),
    tenantName: String(r.tenant_name),
    clientId: String(r.client_id),
    scopes: r.scopes,
    secretsRevealed: r.secrets_revealed_at != null,
    ...(r.webhook_url ? { webhookUrl: String(r.webhook_url) } : {}),
    steps: { inbound: step('inbound'), outbound: step('outbound') },
    ...(certifiedAt ? { certifiedAt } : {}),
    ...(grantedAt ? { productionGrantedAt: grantedAt } : {}),
  };
}

/** Whether `tenantId` was onboarded, and whether it is certified. */
export async function onboardingOf(
  db: Database,
  tenantId: string,
): Promise<{ certified: boolean } | undefined> {
  const { rows } = await db.query(
    'SELECT certified_at FROM portal_partner_onboarding WHERE tenant_id = $1',
    [tenantId],
  );
  const r = rows[0];
  return r ? { certified: r.certified_at != null } : undefined;
}

/** The onboarded tenants, newest first. */
export async function onboardedTenantIds(db: Database): Promise<string[]> {
  const { rows } = await db.query(
    'SELECT tenant_id FROM portal_partner_onboarding ORDER BY created_at DESC LIMIT 500',
  );
  return rows.map((r) => String(r.tenant_id));
}

/** Records a step's outcome; a passed step stays passed. */
export async function recordStep(
  db: Database,
  tenantId: string,
  stepId: 'inbound' | 'outbound',
  passed: boolean,
  detail: string,
  at: number,
): Promise<void> {
  // `stepId` is one of two literals: the column names are not input.
  await db.query(
    `UPDATE portal_partner_onboarding SET ${stepId}_state = $2, ${stepId}_at = $3, ${stepId}_detail = $4
     WHERE tenant_id = $1 AND ($2 = 'passed' OR ${stepId}_state <> 'passed')`,
    [tenantId, passed ? 'passed' : 'failed', at, detail.slice(0, 300)],
  );
}

/** Certifies the tenant when both steps passed; `true` only for the call that certified it. */
export async function certifyIfComplete(
  db: Database,
  tenantId: string,
  at: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE portal_partner_onboarding SET certified_at = $2
     WHERE tenant_id = $1 AND certified_at IS NULL AND inbound_state = 'passed' AND outbound_state = 'passed'
     RETURNING tenant_id`,
    [tenantId, at],
  );
  return rows.length > 0;
}

export async function markProductionGranted(
  db: Database,
  tenantId: string,
  by: string,
  at: number,
): Promise<void> {
  await db.query(
    `UPDATE portal_partner_onboarding SET production_granted_at = $2, production_granted_by = $3
     WHERE tenant_id = $1`,
    [tenantId, at, by],
  );
}

/**
 * Marks the secrets as shown and returns the sealed webhook secret — once: `undefined` when
 * they were already shown (also to the loser of two concurrent clicks).
 */
export async function takeSecretsReveal(
  db: Database,
  tenantId: string,
  by: string,
  at: number,
): Promise<string | undefined> {
  const { rows } = await db.query(
    `UPDATE portal_partner_onboarding SET secrets_revealed_at = $2, secrets_revealed_by = $3
     WHERE tenant_id = $1 AND secrets_revealed_at IS NULL RETURNING webhook_secret_sealed`,
    [tenantId, at, by],
  );
  return rows[0] ? String(rows[0].webhook_secret_sealed) : undefined;
}

/** Sets the receiver of step (b); before certification the step starts over. */
export async function setWebhookUrl(db: Database, tenantId: string, url: string): Promise<void> {
  await db.query(
    `UPDATE portal_partner_onboarding SET webhook_url = $2,
       outbound_state = CASE WHEN certified_at IS NULL THEN 'open' ELSE outbound_state END,
       outbound_detail = NULL WHERE tenant_id = $1`,
    [tenantId, url],
  );
}

export async function webhookSecretSealed(
  db: Database,
  tenantId: string,
): Promise<string | undefined> {
  const { rows } = await db.query(
    'SELECT webhook_secret_sealed FROM portal_partner_onboarding WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0] ? String(rows[0].webhook_secret_sealed) : undefined;
}
