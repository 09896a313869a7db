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
import type { ApiClientRow, PartnerScope } from './contract.ts';
import * as store from './store.ts';

export { toScopes } from './store.ts';

export const CLIENT_ID_PREFIX = 'fpc_';
export const CLIENT_SECRET_PREFIX = 'fpcs_';
export const TOKEN_PREFIX = 'fpat_';

export const hashSecret = (value: string) => createHash('sha256').update(value).digest('hex');

export async function createClient(
  ctx: Context,
  input: { tenantId: string; name: string; scopes: readonly PartnerScope[]; createdBy: string },
): Promise<{ client: ApiClientRow; clientSecret: string }> {
  const clientId = `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`;
  const clientSecret = `${CLIENT_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const client = await store.insertClient(ctx.db, {
    id: clientId,
    tenantId: input.tenantId,
    name: input.name,
    secretHash: hashSecret(clientSecret),
    scopes: input.scopes,
    createdBy: input.createdBy,
    createdAt: ctx.now(),
  });
  return { client, clientSecret };
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
  const r = await store.activeClientSecret(ctx.db, clientId);
  // Hash anyway, so a missing client takes as long as a wrong secret.
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(r ? r.secretHash : hashSecret('-'), 'hex');
  if (!r || given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
  return { clientId, tenantId: r.tenantId, scopes: r.scopes };
}

export async function issueToken(
  ctx: Context,
  client: AuthenticatedClient,
  scopes: readonly PartnerScope[],
  ttlS: number,
): Promise<{ accessToken: string; expiresIn: number }> {
  const accessToken = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const now = ctx.now();
  await store.insertToken(
    ctx.db,
    {
      hash: hashSecret(accessToken),
      clientId: client.clientId,
      scopes,
      expiresAt: now + ttlS * 1000,
    },
    now,
  );
  return { accessToken, expiresIn: ttlS };
}

/** The client and granted scopes of a live bearer token. */
export async function tokenClient(
  ctx: Context,
  token: string,
): Promise<AuthenticatedClient | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  return store.tokenClient(ctx.db, hashSecret(token), ctx.now());
}

/**
 * Revokes a client and ends its tokens. `true` only for the one call that revoked it, so
 * concurrent revocations audit it once.
 */
export function revokeClient(ctx: Context, clientId: string): Promise<boolean> {
  return store.revokeClient(ctx.db, clientId, ctx.now());
}

/** Adds `scopes` to a client's (see `store.addClientScopes`); undefined: no such client. */
export function addClientScopes(
  ctx: Context,
  clientId: string,
  scopes: readonly PartnerScope[],
): Promise<PartnerScope[] | undefined> {
  return store.addClientScopes(ctx.db, clientId, scopes);
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
  await store.replaceClientSecret(ctx.db, clientId, hashSecret(clientSecret));
  return clientSecret;
}
