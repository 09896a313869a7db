/**
 * The single sign-on feature's SQL: sign-in flows in progress (`portal_sso_flows`: OIDC state
 * and SAML request ids, each bound to the browser that started it and used once), SAML
 * assertions seen (`portal_sso_assertions`: replays), and the IdP identities linked to
 * accounts (`portal_sso_identities`).
 */
import type { Database } from '../../server/db.ts';

type Sql = Pick<Database, 'query'>;

// ------------------------------------------------------------ flows

/** Forgets flows that ended without a return. */
export async function purgeExpiredFlows(db: Sql, now: number): Promise<void> {
  await db.query('DELETE FROM portal_sso_flows WHERE expires_at < $1', [now]);
}

export interface OidcFlow {
  readonly bindingHash: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly expiresAt: number;
}

/** Stores an OIDC sign-in started with `state` (only its hash is kept). */
export async function startOidcFlow(
  db: Sql,
  flow: OidcFlow & { readonly stateHash: string; readonly provider: string },
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_sso_flows (id, provider, kind, binding_hash, code_verifier, nonce, created_at, expires_at)
     VALUES ($1, $2, 'oidc', $3, $4, $5, $6, $7)`,
    [
      flow.stateHash,
      flow.provider,
      flow.bindingHash,
      flow.codeVerifier,
      flow.nonce,
      now,
      flow.expiresAt,
    ],
  );
}

/** Takes the OIDC flow of a state (single use: the row is gone after this, whatever follows). */
export async function takeOidcFlow(
  db: Sql,
  stateHash: string,
  provider: string,
): Promise<OidcFlow | undefined> {
  const { rows } = await db.query(
    `DELETE FROM portal_sso_flows WHERE id = $1 AND provider = $2 AND kind = 'oidc'
     RETURNING binding_hash, code_verifier, nonce, expires_at`,
    [stateHash, provider],
  );
  const r = rows[0];
  return r
    ? {
        bindingHash: String(r.binding_hash),
        codeVerifier: String(r.code_verifier),
        nonce: String(r.nonce),
        expiresAt: Number(r.expires_at),
      }
    : undefined;
}

/** Stores a SAML AuthnRequest id (node-saml's request store) with its value. */
export async function saveSamlRequest(
  db: Sql,
  request: {
    readonly id: string;
    readonly provider: string;
    readonly bindingHash: string;
    readonly value: string;
  },
  now: number,
  expiresAt: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_sso_flows (id, provider, kind, binding_hash, nonce, created_at, expires_at)
     VALUES ($1, $2, 'saml', $3, $4, $5, $6)`,
    [request.id, request.provider, request.bindingHash, request.value, now, expiresAt],
  );
}

/** The value of a live SAML request id started by the browser with `bindingHash`. */
export async function samlRequest(
  db: Sql,
  id: string,
  provider: string,
  bindingHash: string,
  now: number,
): Promise<string | null> {
  const { rows } = await db.query(
    `SELECT nonce FROM portal_sso_flows
     WHERE id = $1 AND provider = $2 AND kind = 'saml' AND binding_hash = $3 AND expires_at > $4`,
    [id, provider, bindingHash, now],
  );
  return rows[0] ? String(rows[0].nonce) : null;
}

/** Removes a SAML request id (used); its value, or null when it was not there. */
export async function removeSamlRequest(
  db: Sql,
  id: string,
  provider: string,
): Promise<string | null> {
  const { rows } = await db.query(
    "DELETE FROM portal_sso_flows WHERE id = $1 AND provider = $2 AND kind = 'saml' RETURNING nonce",
    [id, provider],
  );
  return rows[0] ? String(rows[0].nonce) : null;
}

// ------------------------------------------------------------ SAML assertions

/**
 * Records an assertion id until a day after it expires; false when it was recorded before (a
 * replay). Insert-or-nothing: of concurrent uses of one assertion exactly one is first.
 */
export async function consumeAssertion(
  db: Sql,
  provider: string,
  assertionId: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  await db.query('DELETE FROM portal_sso_assertions WHERE expires_at < $1', [now]);
  const { rows } = await db.query(
    `INSERT INTO portal_sso_assertions (provider, assertion_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (provider, assertion_id) DO NOTHING RETURNING assertion_id`,
    [provider, assertionId, Math.max(expiresAt, now) + 86_400_000],
  );
  return rows.length === 1;
}

/** Whether the assertion id was recorded before. */
export async function assertionSeen(db: Sql, provider: string, assertionId: string) {
  const { rows } = await db.query(
    'SELECT 1 FROM portal_sso_assertions WHERE provider = $1 AND assertion_id = $2',
    [provider, assertionId],
  );
  return rows.length > 0;
}

// ------------------------------------------------------------ linked identities

/** The account an identity is linked to, if any. */
export async function linkedUser(
  db: Sql,
  provider: string,
  subject: string,
): Promise<string | undefined> {
  const { rows } = await db.query(
    'SELECT user_id FROM portal_sso_identities WHERE provider = $1 AND subject = $2',
    [provider, subject],
  );
  return rows[0] ? String(rows[0].user_id) : undefined;
}

/** Notes a sign-in through a linked identity. */
export async function touchIdentity(db: Sql, provider: string, subject: string, now: number) {
  await db.query(
    'UPDATE portal_sso_identities SET last_used_at = $3 WHERE provider = $1 AND subject = $2',
    [provider, subject, now],
  );
}

/** Links an identity to an account (a link made meanwhile stays). */
export async function linkIdentity(
  db: Sql,
  provider: string,
  subject: string,
  userId: string,
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_sso_identities (provider, subject, user_id, created_at, last_used_at)
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (provider, subject) DO NOTHING`,
    [provider, subject, userId, now],
  );
}
