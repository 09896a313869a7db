/**
 * What every route needs: the database, sessions, the audit log, mail/SMS transports, the relay
 * gateway, and the checks that turn a request into "this user, in this tenant, may do this".
 */
import type { AuditEventInput, AuditLog } from '@fluxel/audit';
import type { Keyring } from '@fluxel/crypto';
import type { FastifyRequest } from 'fastify';
import { factorsOf } from '../features/account/store.ts';
import { recoveryCodesLeft } from '../features/auth/store.ts';
import type { RelayThresholds } from '../features/status/probes.ts';
import * as tenants from '../features/tenants/store.ts';
import type { UserRecord } from '../features/users/store.ts';
import * as users from '../features/users/store.ts';
import type { Me, Tenant } from '../shared/api.ts';
import { can, type Permission, ROLE_PERMISSIONS } from '../shared/permissions.ts';
import type { Database } from './db.ts';
import { fail } from './http.ts';
import type { MailTransport } from './mail.ts';
import type { RelayGateway } from './relay-gateway.ts';
import type { Session, Sessions } from './sessions.ts';
import type { SmsTransport } from './sms.ts';

/** The tenant of the operator (administrators) and of events no tenant can be named for. */
export const OPERATOR_TENANT = 'fluxel-operator';

export interface WebAuthnConfig {
  readonly rpId: string;
  readonly rpName: string;
  readonly origin: string;
}

export interface Context {
  readonly db: Database;
  readonly sessions: Sessions;
  readonly audit: AuditLog;
  readonly mail: MailTransport;
  readonly sms: SmsTransport;
  readonly relay: RelayGateway;
  readonly keyring: Keyring;
  readonly now: () => number;
  readonly origin: () => string;
  readonly webauthn: () => WebAuthnConfig;
  /** Secret that keys the hashes of one-time codes. */
  readonly pepper: Uint8Array;
  readonly passwordParams?: { memoryCost: number; timeCost: number; parallelism: number };
  /** The status page's relay latency marks (`PortalOptions.statusThresholds`, checked). */
  readonly statusThresholds?: RelayThresholds;
  /** The portal's own data directory (certificates, keys). */
  readonly dataDir: string;
  /** The certificate the portal serves; `install` swaps it without a restart (hot reload). */
  readonly tls: {
    current(): { readonly cert: string; readonly key: string };
    install(cert: string, key: string): void;
  };
}

/** Records an audit event; the request's IP and user agent are added. */
export async function record(
  ctx: Context,
  req: FastifyRequest | undefined,
  event: Omit<AuditEventInput, 'actor'> & {
    actor: { type: 'user' | 'service' | 'system'; id: string };
  },
): Promise<void> {
  await ctx.audit.append({
    ...event,
    actor: {
      ...event.actor,
      ...(req
        ? { ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200) }
        : {}),
    },
    ...(req ? { requestId: String(req.id) } : {}),
  } as AuditEventInput);
}

export interface Principal {
  readonly session: Session;
  readonly user: UserRecord;
}

/**
 * Records a successful action of the signed-in user on `target` in `tenant`; `reason` is the
 * user's own (a rejection's, say), not a refusal.
 */
export function recordUserAction(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  action: string,
  tenant: string,
  target: { type: string; id: string },
  data?: Record<string, unknown>,
  reason?: string,
): Promise<void> {
  return record(ctx, req, {
    tenant,
    actor: { type: 'user', id: p.user.id },
    action,
    outcome: 'success',
    target,
    ...(data ? { data } : {}),
    ...(reason ? { reason } : {}),
  });
}

/** What a user was refused: by default an object out of reach (`access.denied`). */
export interface Denial {
  readonly action?: string;
  /** The object asked for; its id is cut to 100 characters (it may come from the URL). */
  readonly target?: { readonly type: string; readonly id: string };
  readonly reason: string;
  /** The tenant the event belongs to; by default the user's own. */
  readonly tenant?: string;
}

/** Records that `user` was refused something (outcome `denied`), and why. */
export function recordDenied(
  ctx: Context,
  req: FastifyRequest,
  user: Pick<UserRecord, 'id' | 'tenantId'>,
  denial: Denial,
): Promise<void> {
  const { action = 'access.denied', target, reason, tenant = user.tenantId } = denial;
  return record(ctx, req, {
    tenant,
    actor: { type: 'user', id: user.id },
    action,
    outcome: 'denied',
    ...(target ? { target: { type: target.type, id: target.id.slice(0, 100) } } : {}),
    reason,
  });
}

/** The signed-in user (stage `full`), or 401. Disabled users have no sessions, but check anyway. */
export async function principal(ctx: Context, req: FastifyRequest): Promise<Principal> {
  const session = await ctx.sessions.read(req);
  if (!session) return fail(401, 'unauthenticated', 'please sign in');
  if (session.stage === 'password')
    return fail(401, 'second_factor_required', 'the second factor is missing');
  if (session.stage === 'enrol')
    return fail(403, 'enrolment_required', 'set up a second factor first');
  const user = await users.userById(ctx.db, session.userId);
  if (!user || user.status !== 'active') return fail(401, 'unauthenticated', 'please sign in');
  return { session, user };
}

/** The signed-in user, who must hold `permission`, else 403 (audited as denied). */
export async function authorize(
  ctx: Context,
  req: FastifyRequest,
  permission: Permission,
): Promise<Principal> {
  const p = await principal(ctx, req);
  if (!can(p.user.role, permission)) {
    await recordDenied(ctx, req, p.user, { reason: `missing permission ${permission}` });
    return fail(403, 'forbidden', 'you may not do that');
  }
  return p;
}

// Deprecated forwards, kept only because src/features/licenses (another clean-up's files) still
// calls them; everything else imports the stores' functions. Remove with their last caller.

/**
 * Object-level check: may `user` reach `tenantId`? A miss is a 404 (not 403), so ids of other
 * tenants' objects are not confirmed to exist; it is audited.
 */
export async function requireTenant(
  ctx: Context,
  req: FastifyRequest,
  user: UserRecord,
  tenantId: string,
): Promise<Tenant> {
  const reachable = await tenants.reachableTenants(ctx.db, user);
  const found = reachable.find((t) => t.id === tenantId);
  if (!found) {
    await recordDenied(ctx, req, user, {
      target: { type: 'tenant', id: tenantId },
      reason: 'tenant out of scope',
    });
    return fail(404, 'not_found', 'not found');
  }
  return found;
}

export async function meOf(ctx: Context, user: UserRecord, session: Session): Promise<Me> {
  const tenant = await tenants.tenantById(ctx.db, user.tenantId);
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    tenant: { id: user.tenantId, name: tenant?.name ?? user.tenantId },
    locale: user.locale,
    permissions: [...ROLE_PERMISSIONS[user.role]],
    factors: await factorsOf(ctx.db, user.id),
    recoveryCodesLeft: await recoveryCodesLeft(ctx.db, user.id),
    ...(session.reauthUntil && session.reauthUntil > ctx.now()
      ? { reauthUntil: new Date(session.reauthUntil).toISOString() }
      : {}),
    ...(user.phone ? { phone: user.phone } : {}),
  };
}

/** A sensitive change needs a recent re-authentication in this session. */
export function requireReauth(ctx: Context, session: Session): void {
  if (!session.reauthUntil || session.reauthUntil <= ctx.now())
    fail(403, 'reauth_required', 'please confirm it is you first');
}
