/**
 * From an IdP identity to a portal account: an existing link (provider + subject), else an
 * existing account by a verified e-mail in a tenant the provider's mapping reaches, else a
 * just-in-time account by a mapping rule. Anything else is refused.
 */
import { randomBytes } from 'node:crypto';
import {
  type Context,
  record,
  tenantById,
  type UserRecord,
  userByEmail,
  userById,
} from '../context.ts';
import { type Claims, matchRule, type SsoProviderConfig } from './config.ts';

export interface SsoIdentity {
  readonly provider: string;
  /** OIDC `sub` / SAML NameID (persistent). */
  readonly subject: string;
  readonly email: string | undefined;
  /** OIDC `email_verified === true`; SAML: the IdP's signed statement. */
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  readonly claims: Claims;
}

export type Resolution =
  | {
      readonly ok: true;
      readonly user: UserRecord;
      readonly how: 'linked' | 'email' | 'provisioned';
    }
  | { readonly ok: false; readonly reason: string; readonly user?: UserRecord };

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}$/;

async function link(ctx: Context, identity: SsoIdentity, userId: string): Promise<void> {
  await ctx.db.query(
    `INSERT INTO portal_sso_identities (provider, subject, user_id, created_at, last_used_at)
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (provider, subject) DO NOTHING`,
    [identity.provider, identity.subject, userId, ctx.now()],
  );
}

export async function resolveAccount(
  ctx: Context,
  provider: SsoProviderConfig,
  identity: SsoIdentity,
): Promise<Resolution> {
  const { rows } = await ctx.db.query(
    'SELECT user_id FROM portal_sso_identities WHERE provider = $1 AND subject = $2',
    [identity.provider, identity.subject],
  );
  const linked = rows[0] ? await userById(ctx, String(rows[0].user_id)) : undefined;
  if (linked) {
    if (linked.status !== 'active') return { ok: false, reason: 'account disabled', user: linked };
    await ctx.db.query(
      'UPDATE portal_sso_identities SET last_used_at = $3 WHERE provider = $1 AND subject = $2',
      [identity.provider, identity.subject, ctx.now()],
    );
    return { ok: true, user: linked, how: 'linked' };
  }
  const email = identity.email?.trim().toLowerCase();
  if (!email || !EMAIL.test(email)) return { ok: false, reason: 'no usable e-mail' };
  if (!identity.emailVerified) return { ok: false, reason: 'e-mail not verified' };
  const rule = matchRule(provider.mapping, identity.claims, email);
  const existing = await userByEmail(ctx, email);
  if (existing) {
    // Linking by e-mail only into the tenant the provider's rule names: an IdP of one customer
    // cannot take over accounts of another tenant (or the operator's) by asserting an address.
    if (!rule || rule.tenant !== existing.tenantId)
      return { ok: false, reason: 'no mapping for the account', user: existing };
    if (existing.role === 'administrator' && rule.allowAdministrator !== true)
      return { ok: false, reason: 'administrators are not linked by e-mail', user: existing };
    if (existing.status !== 'active')
      return { ok: false, reason: 'account disabled', user: existing };
    await link(ctx, identity, existing.id);
    return { ok: true, user: existing, how: 'email' };
  }
  if (!rule || rule.provision === false) return { ok: false, reason: 'no mapping' };
  if (rule.role === 'administrator' && rule.allowAdministrator !== true)
    return { ok: false, reason: 'no mapping' };
  const tenant = await tenantById(ctx, rule.tenant);
  if (!tenant) return { ok: false, reason: 'mapped tenant missing' };
  if (
    (rule.role === 'administrator') !== (tenant.kind === 'operator') ||
    (rule.role === 'partner') !== (tenant.kind === 'partner')
  )
    return { ok: false, reason: 'mapped role does not fit the tenant' };
  const id = `usr_${randomBytes(12).toString('base64url')}`;
  const name = (identity.name ?? email).slice(0, 200);
  // No password: `!sso` is no argon2 hash, so a password sign-in never matches.
  const inserted = await ctx.db.query(
    `INSERT INTO portal_users (id, tenant_id, email, name, role, status, locale, password_hash, created_at)
     VALUES ($1, $2, $3, $4, $5, 'active', 'de', '!sso', $6) ON CONFLICT (email) DO NOTHING RETURNING id`,
    [id, tenant.id, email, name, rule.role, ctx.now()],
  );
  if (inserted.rows.length !== 1) return { ok: false, reason: 'account created concurrently' };
  await link(ctx, identity, id);
  await record(ctx, undefined, {
    tenant: tenant.id,
    actor: { type: 'system', id: `sso:${identity.provider}` },
    action: 'user.signup',
    outcome: 'success',
    target: { type: 'user', id },
    data: { role: rule.role, via: 'sso', provider: identity.provider },
  });
  const user = await userById(ctx, id);
  return user
    ? { ok: true, user, how: 'provisioned' }
    : { ok: false, reason: 'provisioning failed' };
}
