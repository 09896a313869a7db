/**
 * The ADV feature's SQL: acceptances (`portal_adv_acceptances`) and the versions administrators
 * published (`portal_adv_versions`). Tenants and users are read through their own stores.
 */
import type { Database } from '../../server/db.ts';
import type { AdvAcceptance } from './contract.ts';

const ACCEPTANCE_COLUMNS = `a.id, a.tenant_id, t.name AS tenant_name, a.version, a.locale, a.text_sha256,
  a.user_id, a.user_name, a.accepted_at, a.ip, a.user_agent`;

function toAcceptance(r: Record<string, unknown>): AdvAcceptance {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    tenantName: String(r.tenant_name ?? r.tenant_id),
    version: String(r.version),
    locale: r.locale === 'en' ? 'en' : 'de',
    textSha256: String(r.text_sha256),
    acceptedAt: new Date(Number(r.accepted_at)).toISOString(),
    acceptedBy: { id: String(r.user_id), name: String(r.user_name) },
    ip: String(r.ip),
    userAgent: String(r.user_agent),
  };
}

/** A tenant's acceptances, newest first. */
export async function acceptancesOf(db: Database, tenantId: string): Promise<AdvAcceptance[]> {
  const { rows } = await db.query(
    `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
     JOIN portal_tenants t ON t.id = a.tenant_id
     WHERE a.tenant_id = $1 ORDER BY a.accepted_at DESC, a.id`,
    [tenantId],
  );
  return rows.map(toAcceptance);
}

/** Every tenant's acceptances, newest first. */
export async function allAcceptances(db: Database): Promise<AdvAcceptance[]> {
  const { rows } = await db.query(
    `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
     JOIN portal_tenants t ON t.id = a.tenant_id ORDER BY a.accepted_at DESC, a.id`,
  );
  return rows.map(toAcceptance);
}

export async function acceptanceById(db: Database, id: string): Promise<AdvAcceptance | undefined> {
  const { rows } = await db.query(
    `SELECT ${ACCEPTANCE_COLUMNS} FROM portal_adv_acceptances a
     JOIN portal_tenants t ON t.id = a.tenant_id WHERE a.id = $1`,
    [id],
  );
  return rows[0] ? toAcceptance(rows[0]) : undefined;
}

export interface NewAcceptance {
  readonly id: string;
  readonly tenantId: string;
  readonly version: string;
  readonly locale: 'de' | 'en';
  readonly textSha256: string;
  readonly userId: string;
  readonly userName: string;
  readonly acceptedAt: number;
  readonly ip: string;
  readonly userAgent: string;
}

/** Stores an acceptance; `false` when the tenant had accepted that version already. */
export async function insertAcceptance(db: Database, a: NewAcceptance): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_adv_acceptances
       (id, tenant_id, version, locale, text_sha256, user_id, user_name, accepted_at, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (tenant_id, version) DO NOTHING RETURNING id`,
    [
      a.id,
      a.tenantId,
      a.version,
      a.locale,
      a.textSha256,
      a.userId,
      a.userName,
      a.acceptedAt,
      a.ip,
      a.userAgent,
    ],
  );
  return rows.length > 0;
}

/** A version as stored in `portal_adv_versions`. */
export interface StoredVersion {
  readonly id: string;
  readonly publishedMs: number;
  readonly textDe: string;
  readonly textEn: string;
}

const toVersion = (r: Record<string, unknown>): StoredVersion => ({
  id: String(r.id),
  publishedMs: Number(r.published_at),
  textDe: String(r.text_de),
  textEn: String(r.text_en),
});

/** The published versions, oldest first. */
export async function storedVersions(db: Database): Promise<StoredVersion[]> {
  const { rows } = await db.query(
    'SELECT id, published_at, text_de, text_en FROM portal_adv_versions ORDER BY published_at',
  );
  return rows.map(toVersion);
}

export async function storedVersionById(
  db: Database,
  id: string,
): Promise<StoredVersion | undefined> {
  const { rows } = await db.query(
    'SELECT id, published_at, text_de, text_en FROM portal_adv_versions WHERE id = $1',
    [id],
  );
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export interface NewVersion {
  readonly id: string;
  readonly publishedAt: number;
  readonly publishedBy: string;
  readonly textDe: string;
  readonly textEn: string;
  readonly sha256De: string;
  readonly sha256En: string;
}

/** Stores a published version; `false` when the id is taken. */
export async function insertVersion(db: Database, v: NewVersion): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO portal_adv_versions (id, published_at, published_by, text_de, text_en, sha256_de, sha256_en)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [v.id, v.publishedAt, v.publishedBy, v.textDe, v.textEn, v.sha256De, v.sha256En],
  );
  return rows.length > 0;
}

// --- for privacy ---

/** The acceptances a person declared (any tenant), oldest first: part of their data export. */
export async function acceptancesDeclaredBy(
  db: Database,
  userId: string,
): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(
    `SELECT id, tenant_id, version, locale, text_sha256, user_name, accepted_at, ip, user_agent
     FROM portal_adv_acceptances WHERE user_id = $1 ORDER BY accepted_at`,
    [userId],
  );
  return rows;
}
