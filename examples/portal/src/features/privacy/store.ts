/**
 * The privacy feature's SQL: consents (`portal_consents`), erasures (`portal_erasures`), person
 * keys (`portal_person_keys`) — and, for a person's export and erasure, the reads and deletes
 * of the rows other features keep about that person (one place that lists them all, so a new
 * table with personal data is added to export and erasure together). `portal_users` and
 * `portal_tenants` are reached through their own stores.
 */
import type { Database } from '../../server/db.ts';

type Row = Record<string, unknown>;

// ------------------------------------------------------------------ consents

export interface ConsentRow {
  readonly purpose: string;
  readonly version: string;
  readonly granted: boolean;
  readonly at: number;
  readonly source: 'web' | 'api' | 'admin';
  /** Sealed under the person's key (`person-keys.ts`). */
  readonly evidence: string | undefined;
}

/** A person's consent decisions, oldest first. */
export async function consentsOf(db: Database, userId: string): Promise<ConsentRow[]> {
  const { rows } = await db.query(
    'SELECT purpose, version, granted, at, source, evidence FROM portal_consents WHERE user_id = $1 ORDER BY at, id',
    [userId],
  );
  return rows.map((r) => ({
    purpose: String(r.purpose),
    version: String(r.version),
    granted: Boolean(r.granted),
    at: Number(r.at),
    source: r.source === 'api' || r.source === 'admin' ? r.source : 'web',
    evidence: r.evidence == null ? undefined : String(r.evidence),
  }));
}

export async function insertConsent(
  db: Database,
  c: {
    id: string;
    userId: string;
    purpose: string;
    version: string;
    granted: boolean;
    at: number;
    evidence: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO portal_consents (id, user_id, purpose, version, granted, at, source, evidence)
     VALUES ($1, $2, $3, $4, $5, $6, 'web', $7)`,
    [c.id, c.userId, c.purpose, c.version, c.granted, c.at, c.evidence],
  );
}

// ------------------------------------------------------------------ erasures

export interface ErasureRecord {
  readonly state: 'scheduled' | 'cancelled' | 'erasing' | 'done';
  readonly requestedAt: number | undefined;
  readonly dueAt: number | undefined;
  readonly cancelledAt: number | undefined;
}

const ms = (v: unknown): number | undefined => (v == null ? undefined : Number(v));

export async function erasureOf(db: Database, userId: string): Promise<ErasureRecord | undefined> {
  const { rows } = await db.query(
    'SELECT state, requested_at, due_at, cancelled_at FROM portal_erasures WHERE user_id = $1',
    [userId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    state: r.state as ErasureRecord['state'],
    requestedAt: ms(r.requested_at),
    dueAt: ms(r.due_at),
    cancelledAt: ms(r.cancelled_at),
  };
}

/** Erasures to run: due by `now`, or claimed before `staleBefore` and not finished (a crash). */
export async function dueErasures(
  db: Database,
  now: number,
  staleBefore: number,
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT user_id FROM portal_erasures
     WHERE (state = 'scheduled' AND due_at <= $1) OR (state = 'erasing' AND claimed_at < $2)
     ORDER BY due_at LIMIT 100`,
    [now, staleBefore],
  );
  return rows.map((r) => String(r.user_id));
}

/** Claims one erasure for this run (one atomic update: several portals may run at once). */
export async function claimErasure(
  db: Database,
  userId: string,
  now: number,
  staleBefore: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE portal_erasures SET state = 'erasing', claimed_at = $2, cancel_token_hash = NULL
     WHERE user_id = $1 AND ((state = 'scheduled' AND due_at <= $2) OR (state = 'erasing' AND claimed_at < $3))
     RETURNING user_id`,
    [userId, now, staleBefore],
  );
  return rows.length > 0;
}

export async function finishErasure(db: Database, userId: string, now: number): Promise<void> {
  await db.query("UPDATE portal_erasures SET state = 'done', done_at = $2 WHERE user_id = $1", [
    userId,
    now,
  ]);
}

// ------------------------------------------------------------------ person keys

/** A person's key row: the sealed material, or `null` material once destroyed. */
export async function personKeyOf(
  db: Database,
  userId: string,
): Promise<{ material: string | null; destroyedAt: number } | undefined> {
  const { rows } = await db.query(
    'SELECT material, destroyed_at FROM portal_person_keys WHERE user_id = $1',
    [userId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    material: r.material == null ? null : String(r.material),
    destroyedAt: Number(r.destroyed_at ?? 0),
  };
}

/** Stores a new key; `false` when the person has one (or a tombstone) already. */
export async function insertPersonKey(
  db: Database,
  userId: string,
  material: string,
  now: number,
): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_person_keys (user_id, material, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO NOTHING RETURNING user_id`,
    [userId, material, now],
  );
  return rows.length > 0;
}

/** Deletes the key material for good; a tombstone row stays. */
export async function destroyPersonKey(db: Database, userId: string, now: number): Promise<void> {
  await db.query(
    `INSERT INTO portal_person_keys (user_id, material, created_at, destroyed_at) VALUES ($1, NULL, $2, $2)
     ON CONFLICT (user_id) DO UPDATE SET material = NULL, destroyed_at = $2`,
    [userId, now],
  );
}

// ------------------------------------------------------------------ a person's rows elsewhere

/** The throttle keys that name the person (sign-in by address, second factor, re-auth). */
const throttleKeys = (person: { id: string; email: string }) => [
  `account:${person.email}`,
  `2fa:${person.id}`,
  `reauth:${person.id}`,
];

/** What the export reads about one person, table by table (rows as stored). */
export async function personRows(
  db: Database,
  person: { id: string; email: string },
): Promise<{
  factors: Row[];
  sessions: Row[];
  invitationsReceived: Row[];
  invitationsSent: Row[];
  throttle: Row[];
  codeSends: Row[];
  rightsRequests: Row[];
  partnerApplications: Row[];
}> {
  const q = async (text: string, params: unknown[]) => (await db.query(text, params)).rows;
  return {
    factors: await q(
      'SELECT id, type, label, confirmed, transports, created_at, last_used_at FROM portal_factors WHERE user_id = $1 ORDER BY created_at',
      [person.id],
    ),
    sessions: await q(
      'SELECT public_id, stage, created_at, last_seen_at, expires_at, ip, user_agent FROM portal_sessions WHERE user_id = $1 ORDER BY created_at',
      [person.id],
    ),
    invitationsReceived: await q(
      'SELECT id, tenant_id, email, role, expires_at, used_at FROM portal_invitations WHERE email = $1 ORDER BY expires_at',
      [person.email],
    ),
    invitationsSent: await q(
      'SELECT id, tenant_id, role, expires_at, used_at FROM portal_invitations WHERE invited_by = $1 ORDER BY expires_at',
      [person.id],
    ),
    throttle: await q(
      'SELECT key, failures, last_failure_at, locked_until FROM portal_throttle WHERE key = ANY($1::text[])',
      [throttleKeys(person)],
    ),
    codeSends: await q(
      'SELECT channel, sent_at FROM portal_code_sends WHERE user_id = $1 ORDER BY sent_at',
      [person.id],
    ),
    rightsRequests: await q(
      `SELECT id, tenant_id, from_role, requested_role, reason, status, created_at, decided_at, decision_note
       FROM portal_rights_requests WHERE user_id = $1 ORDER BY created_at`,
      [person.id],
    ),
    partnerApplications: await q(
      `SELECT id, company_name, contact_name, contact_email, status, terms_version, adv_version,
         ip, created_at, verified_at, reviewed_at, reject_reason, tenant_id
       FROM portal_partner_applications WHERE contact_email = $1 ORDER BY created_at`,
      [person.email],
    ),
  };
}

/**
 * Deletes the rows that exist only for the person (factors, recovery codes, sessions, codes,
 * code sends, password resets, consents, SSO identities, rights requests, throttle records,
 * invitations to their address) and removes their contact data from a partner application
 * (the decision is kept). Idempotent.
 */
export async function deletePersonRows(
  db: Database,
  person: { id: string; email: string },
): Promise<void> {
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
    await db.query(`DELETE FROM ${table} WHERE user_id = $1`, [person.id]);
  await db.query('DELETE FROM portal_throttle WHERE key = ANY($1::text[])', [throttleKeys(person)]);
  // Invitations to the person's address (the one that created the account included).
  await db.query('DELETE FROM portal_invitations WHERE email = $1', [person.email]);
  await db.query(
    `UPDATE portal_partner_applications SET contact_name = $2, contact_email = $3,
       ip = '', user_agent = '', verify_hash = NULL WHERE contact_email = $1`,
    [person.email, `[erased ${person.id}]`, `erased-${person.id.toLowerCase()}@erased.invalid`],
  );
}

// ------------------------------------------------------------------ the audit log

/** The part of the audit log's `SqlStore` the export reads. */
export interface AuditQueryable {
  query(q: {
    tenant: string;
    actorId?: string;
    limit?: number;
    beforeSeq?: number;
  }): Promise<{ events: readonly object[]; nextBeforeSeq?: number }>;
}

/** The audit events whose actor is `actorId` in `tenants`, page by page (as stored). */
export async function auditEventsByActor(
  audit: AuditQueryable,
  tenants: readonly string[],
  actorId: string,
): Promise<object[]> {
  const events: object[] = [];
  for (const tenant of tenants) {
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await audit.query({
        tenant,
        actorId,
        limit: 1000,
        ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      });
      events.push(...page.events);
      if (page.nextBeforeSeq === undefined) break;
      beforeSeq = page.nextBeforeSeq;
    }
  }
  return events;
}
