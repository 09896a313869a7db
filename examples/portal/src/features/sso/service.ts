/**
 * Single sign-on's use cases. From an IdP identity to a portal account: an existing link
 * (provider + subject), else an existing account by a verified e-mail in a tenant the
 * provider's mapping reaches, else a just-in-time account by a mapping rule. Anything else is
 * refused. Then the session: the portal's 2FA stays — a full session only when `trustMfa` is
 * on and the IdP asserted MFA; otherwise the session is at the `password` stage (second factor
 * pending) or `enrol` (none set up yet), exactly as after a password.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Context, OPERATOR_TENANT, record } from '../../server/context.ts';
import type { Stage } from '../../server/sessions.ts';
import { methodsOf } from '../auth/factors.ts';
import { tenantById } from '../tenants/store.ts';
import {
  insertSsoUser,
  recordSignIn,
  type UserRecord,
  userByEmail,
  userById,
} from '../users/store.ts';
import { type Claims, matchRule, type SsoProviderConfig } from './config.ts';
import { linkedUser, linkIdentity, touchIdentity } from './store.ts';

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

const link = (ctx: Context, identity: SsoIdentity, userId: string) =>
  linkIdentity(ctx.db, identity.provider, identity.subject, userId, ctx.now());

export async function resolveAccount(
  ctx: Context,
  provider: SsoProviderConfig,
  identity: SsoIdentity,
): Promise<Resolution> {
  const linkedId = await linkedUser(ctx.db, identity.provider, identity.subject);
  const linked = linkedId ? await userById(ctx.db, linkedId) : undefined;
  if (linked) {
    if (linked.status !== 'active') return { ok: false, reason: 'account disabled', user: linked };
    await touchIdentity(ctx.db, identity.provider, identity.subject, ctx.now());
    return { ok: true, user: linked, how: 'linked' };
  }
  const email = identity.email?.trim().toLowerCase();
  if (!email || !EMAIL.test(email)) return { ok: false, reason: 'no usable e-mail' };
  if (!identity.emailVerified) return { ok: false, reason: 'e-mail not verified' };
  const rule = matchRule(provider.mapping, identity.claims, email);
  const existing = await userByEmail(ctx.db, email);
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
  const tenant = await tenantById(ctx.db, rule.tenant);
  if (!tenant) return { ok: false, reason: 'mapped tenant missing' };
  if (
    (rule.role === 'administrator') !== (tenant.kind === 'operator') ||
    (rule.role === 'partner') !== (tenant.kind === 'partner')
  )
    return { ok: false, reason: 'mapped role does not fit the tenant' };
  const id = `usr_${randomBytes(12).toString('base64url')}`;
  const name = (identity.name ?? email).slice(0, 200);
  // No password: a password sign-in never matches the account.
  const inserted = await insertSsoUser(
    ctx.db,
    { id, tenantId: tenant.id, email, name, role: rule.role },
    ctx.now(),
  );
  if (!inserted) return { ok: false, reason: 'account created concurrently' };
  await link(ctx, identity, id);
  await record(ctx, undefined, {
    tenant: tenant.id,
    actor: { type: 'system', id: `sso:${identity.provider}` },
    action: 'user.signup',
    outcome: 'success',
    target: { type: 'user', id },
    data: { role: rule.role, via: 'sso', provider: identity.provider },
  });
  const user = await userById(ctx.db, id);
  return user
    ? { ok: true, user, how: 'provisioned' }
    : { ok: false, reason: 'provisioning failed' };
}

/** Who an audit event names for an identity: the account, or a keyed hash of the subject. */
function actorFor(ctx: Context, provider: string, subject: string | undefined, user?: UserRecord) {
  return {
    type: 'user' as const,
    id:
      user?.id ??
      `unknown:${createHmac('sha256', ctx.pepper)
        .update(`sso\0${provider}\0${subject ?? ''}`)
        .digest('hex')
        .slice(0, 24)}`,
  };
}

/** Audits a refused return from the IdP. */
export async function recordRefusal(
  ctx: Context,
  req: FastifyRequest,
  p: SsoProviderConfig,
  reason: string,
  opts: { subject?: string; user?: UserRecord; outcome?: 'failure' | 'denied' } = {},
): Promise<void> {
  await record(ctx, req, {
    tenant: opts.user?.tenantId ?? OPERATOR_TENANT,
    actor: actorFor(ctx, p.id, opts.subject, opts.user),
    action: 'auth.sso',
    outcome: opts.outcome ?? 'failure',
    reason,
    data: { provider: p.id, kind: p.kind },
  });
}

/**
 * After a verified IdP answer: finds the account and starts the right session stage (audited);
 * a refusal is audited too and answered with its reason.
 */
export async function signInWithIdentity(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  p: SsoProviderConfig,
  identity: SsoIdentity,
  mfa: { readonly asserted: boolean; readonly trusted: boolean },
): Promise<{ readonly ok: true; readonly stage: Stage } | { readonly ok: false }> {
  const resolved = await resolveAccount(ctx, p, identity);
  if (!resolved.ok) {
    await recordRefusal(ctx, req, p, resolved.reason, {
      subject: identity.subject,
      outcome: 'denied',
      ...(resolved.user ? { user: resolved.user } : {}),
    });
    return { ok: false };
  }
  const { user } = resolved;
  const full = mfa.trusted && mfa.asserted;
  const stage = full ? 'full' : (await methodsOf(ctx, user.id)).length === 0 ? 'enrol' : 'password';
  await ctx.sessions.start(req, reply, user.id, stage);
  const next = stage === 'full' ? 'signed-in' : stage === 'enrol' ? 'enrolment' : 'second-factor';
  await record(ctx, req, {
    tenant: user.tenantId,
    actor: { type: 'user', id: user.id },
    action: 'auth.sso',
    outcome: 'success',
    data: {
      provider: p.id,
      kind: p.kind,
      mfaAsserted: mfa.asserted ? 'yes' : 'no',
      mfaTrusted: mfa.trusted ? 'yes' : 'no',
      account: resolved.how,
      next,
    },
  });
  if (full) {
    await recordSignIn(ctx.db, user.id, ctx.now());
    await record(ctx, req, {
      tenant: user.tenantId,
      actor: { type: 'user', id: user.id },
      action: 'auth.signin',
      outcome: 'success',
      data: { method: `sso:${p.id}` },
    });
  }
  return { ok: true, stage };
}
