/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for the partner API.
 *
 * Client secrets are 256-bit random values and stored as SHA-256. A slow password hash
 * (argon2id) protects low-entropy human passwords against offline guessing; for a 256-bit
 * random secret exhaustive search is already infeasible, so a fast hash gives the same
 * protection and keeps the token endpoint cheap (an argon2id verify per token request would
 * make it a CPU-exhaustion target). Access tokens are opaque (256-bit random, SHA-256 stored,
 * 15 minutes): revoking a client ends its tokens at once, and no signing key is needed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from '../../server/context.ts';
import { PARTNER_SCOPES, type PartnerScope } from './model.ts';

export const CLIENT_ID_PREFIX = 'fpc_';
export const CLIENT_SECRET_PREFIX = 'fpcs_';
export const TOKEN_PREFIX = 'fpat_';

export const hashSecret = (value: string) => createHash('sha256').update(value).digest('hex');

export interface ApiClientRow {
  readonly clientId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly PartnerScope[];
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
}

export const toScopes = (value: unknown): PartnerScope[] =>
  String(value ?? '')
    .split(' ')
    .filter((s): s is PartnerScope => (PARTNER_SCOPES as readonly string[]).includes(s));

export function clientRow(r: Record<string, unknown>): ApiClientRow {
  return {
    clientId: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    scopes: toScopes(r.scopes),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    ...(r.last_used_at == null
      ? {}
      : { lastUsedAt: new Date(Number(r.last_used_at)).toISOString() }),
    ...(r.revoked_at == null ? {} : { revokedAt: new Date(Number(r.revoked_at)).toISOString() }),
  };
}

export async function createClient(
  ctx: Context,
  input: { tenantId: string; name: string; scopes: readonly PartnerScope[]; createdBy: string },
): Promise<{ client: ApiClientRow; clientSecret: string }> {
  const clientId = `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
  const clientSecret = `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const { rows } = await ctx.db.query(
    `INSERT INTO portal_partner_clients (id, tenant_id, name, secret_hash, scopes, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      clientId,
      input.tenantId,
      input.name,
      hashSecret(clientSecret),
      [...new Set(input.scopes)].join(' '),
      input.createdBy,
      ctx.now(),
    ],
  );
  return { client: clientRow(rows[0] as Record<string, unknown>), clientSecret };
}

export interface AuthenticatedClient {
  readonly clientId: string;
  readonly tenantId: string;
  readonly scopes: readonly PartnerScope[];
}

/** The client, when the id exists, is not revoked and the secret matches (constant time). */
export async function authenticateClient(
  ctx: Context,
  clientId: string,
  secret: string,
): Promise<AuthenticatedClient | undefined> {
  if (!clientId.startsWith(CLIENT_ID_PREFIX) || clientId.length > 100 || secret.length > 200)
    return undefined;
  const { rows } = await ctx.db.query(
    'SELECT * FROM portal_partner_clients WHERE id = $1 AND revoked_at IS NULL',
    [clientId],
  );
  const r = rows[0];
  // Hash anyway, so a missing client takes as long as a wrong secret.
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(r ? String(r.secret_hash) : hashSecret('-'), 'hex');
  if (!r || given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
  return { clientId, tenantId: String(r.tenant_id), scopes: toScopes(r.scopes) };
}

export async function issueToken(
  ctx: Context,
  client: AuthenticatedClient,
  scopes: readonly PartnerScope[],
  ttlS: number,
): Promise<{ accessToken: string; expiresIn: number }> {
  const accessToken = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const now = ctx.now();
  await ctx.db.query('DELETE FROM portal_partner_tokens WHERE expires_at < $1', [now]);
  await ctx.db.query(
    'INSERT INTO portal_partner_tokens (token_hash, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4)',
    [hashSecret(accessToken), client.clientId, scopes.join(' '), now + ttlS * 1000],
  );
  await ctx.db.query('UPDATE portal_partner_clients SET last_used_at = $2 WHERE id = $1', [
    client.clientId,
    now,
  ]);
  return { accessToken, expiresIn: ttlS };
}

/** The client and granted scopes of a live bearer token. */
export async function tokenClient(
  ctx: Context,
  token: string,
): Promise<AuthenticatedClient | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  const { rows } = await ctx.db.query(
    `SELECT t.scopes, t.client_id, c.tenant_id FROM portal_partner_tokens t
     JOIN portal_partner_clients c ON c.id = t.client_id
     WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL`,
    [hashSecret(token), ctx.now()],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    clientId: String(r.client_id),
    tenantId: String(r.tenant_id),
    scopes: toScopes(r.scopes),
  };
}

/**
 * Revokes a client and ends its tokens. `true` only for the one call that revoked it (compare
 * and set on `revoked_at`), so concurrent revocations audit it once.
 */
export async function revokeClient(ctx: Context, clientId: string): Promise<boolean> {
  const { rows } = await ctx.db.query(
    'UPDATE portal_partner_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
    [clientId, ctx.now()],
  );
  await ctx.db.query('DELETE FROM portal_partner_tokens WHERE client_id = $1', [clientId]);
  return rows.length > 0;
}

/**
 * Adds `scopes` to a client's scopes in one statement (the row lock orders concurrent grants,
 * so none overwrites another's: no read-modify-write in the application). Returns the scopes
 * now held, or `undefined` when there is no such client.
 */
export async function addClientScopes(
  ctx: Context,
  clientId: string,
  scopes: readonly PartnerScope[],
): Promise<PartnerScope[] | undefined> {
  const { rows } = await ctx.db.query(
    `UPDATE portal_partner_clients SET scopes = (
       SELECT string_agg(DISTINCT s, ' ' ORDER BY s)
       FROM unnest(string_to_array(portal_partner_clients.scopes || ' ' || $2, ' ')) AS s
       WHERE s <> '')
     WHERE id = $1 RETURNING scopes`,
    [clientId, [...new Set(scopes)].join(' ')],
  );
  return rows[0] ? toScopes(rows[0].scopes) : undefined;
}

/**
 * Fixed-window rate limit per key (client id), in memory (per portal process). Returns the
 * seconds to wait when over the limit. `hit` counts before it answers (synchronously, so
 * concurrent requests of one process cannot all pass the check): call it before the work it
 * limits, never after.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  hit(key: string): { ok: true; remaining: number } | { ok: false; retryAfterS: number } {
    const now = this.now();
    const start = now - (now % this.windowMs);
    let w = this.windows.get(key);
    if (!w || w.start !== start) {
      if (this.windows.size > 10_000) {
        for (const [k, v] of this.windows) if (v.start !== start) this.windows.delete(k);
      }
      w = { start, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    if (w.count > this.limit)
      return {
        ok: false,
        retryAfterS: Math.max(1, Math.ceil((start + this.windowMs - now) / 1000)),
      };
    return { ok: true, remaining: this.limit - w.count };
  }

  /**
   * Gives back one hit of the current window (a reserved attempt that turned out not to count,
   * e.g. a successful client authentication against the failed-attempt budget).
   */
  refund(key: string): void {
    const now = this.now();
    const w = this.windows.get(key);
    if (w && w.start === now - (now % this.windowMs) && w.count > 0) w.count -= 1;
  }
}

/**
 * A new secret for a client (the old one stops working at once, its tokens end). Onboarding
 * uses it to hand out the sandbox client's first secret when the partner first looks: until
 * then no secret of that client exists anywhere.
 */
export async function rotateClientSecret(ctx: Context, clientId: string): Promise<string> {
  const clientSecret = `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  await ctx.db.query('UPDATE portal_partner_clients SET secret_hash = $2 WHERE id = $1', [
    clientId,
    hashSecret(clientSecret),
  ]);
  await ctx.db.query('DELETE FROM portal_partner_tokens WHERE client_id = $1', [clientId]);
  return clientSecret;
}
