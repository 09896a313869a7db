/**
 * The licenses feature's use cases: list, show, issue, lock/unlock, rebind, and the
 * credentials of a license's connections (values only go in). Every license is scoped by its
 * tenant: one out of the principal's reach answers 404, exactly like one that does not exist.
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { type Context, type Principal, record, requireTenant } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import type { createLicenseBody, credentialsBody } from '../../shared/api.ts';
import { can, ROLE_SCOPE } from '../../shared/permissions.ts';
import { licenseLockChanged } from '../partner/events.ts';
import { reachableTenants, tenantNames } from '../tenants/store.ts';
import { userById } from '../users/store.ts';
import type { ConnectionRow, LicenseRow } from './contract.ts';
import * as store from './store.ts';

const audit = (
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  action: string,
  license: { id: string; tenant: string },
  data?: Record<string, unknown>,
) =>
  record(ctx, req, {
    tenant: license.tenant,
    actor: { type: 'user', id: p.user.id },
    action,
    outcome: 'success',
    target: { type: 'license', id: license.id },
    ...(data ? { data } : {}),
  });

/**
 * Who may see a license's last client IP (personal data of the people at that machine): the
 * license's own tenant's users, who may see the license anyway, and administrators — not the
 * partners who look after the tenant (`docs/data-minimisation.md`).
 */
export function mayViewDeviceIp(p: Principal, license: { tenant: string }): boolean {
  return p.user.role === 'administrator' || p.user.tenantId === license.tenant;
}

function licenseRow(l: store.LicenseRecord, p: Principal, names: Map<string, string>): LicenseRow {
  // What the device reports of itself belongs to the device, so an unbound license shows none.
  const bound = l.status !== 'rebinding' && l.deviceJkt !== undefined;
  return {
    id: l.id,
    tenantId: l.tenant,
    tenantName: names.get(l.tenant) ?? l.tenant,
    product: l.product,
    entitlements: [...l.entitlements],
    status: l.status,
    activated: l.status === 'active' || l.activatedAt !== undefined,
    createdAt: l.createdAt,
    ...(l.lockedReason ? { lockedReason: l.lockedReason } : {}),
    // Field-level rule: the device key's thumbprint only for those who manage devices.
    ...(l.deviceJkt && can(p.user.role, 'device.read') ? { deviceJkt: l.deviceJkt } : {}),
    ...(l.activatedAt ? { activatedAt: l.activatedAt } : {}),
    ...(l.lastSeenAt ? { lastSeenAt: l.lastSeenAt } : {}),
    ...(l.expiresAt ? { expiresAt: l.expiresAt } : {}),
    ...(bound && l.deviceHostName ? { deviceHostName: l.deviceHostName } : {}),
    ...(bound && l.deviceAgentVersion ? { agentVersion: l.deviceAgentVersion } : {}),
    ...(l.lastIp && mayViewDeviceIp(p, l) ? { lastIp: l.lastIp } : {}),
  };
}

const rowOf = async (ctx: Context, l: store.LicenseRecord, p: Principal) =>
  licenseRow(l, p, await tenantNames(ctx.db));

/** A license in the principal's scope, else 404. */
async function scopedLicense(ctx: Context, req: FastifyRequest, p: Principal, id: string) {
  const license = await store.getLicense(ctx, id);
  await requireTenant(ctx, req, p.user, license.tenant);
  return license;
}

export async function listLicenses(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  tenantId: string | undefined,
): Promise<LicenseRow[]> {
  const names = await tenantNames(ctx.db);
  let licenses: store.LicenseRecord[];
  if (tenantId) {
    await requireTenant(ctx, req, p.user, tenantId);
    licenses = await store.listLicenses(ctx, tenantId);
  } else if (ROLE_SCOPE[p.user.role] === 'all') {
    licenses = await store.listLicenses(ctx);
  } else {
    licenses = [];
    for (const t of await reachableTenants(ctx.db, p.user))
      licenses.push(...(await store.listLicenses(ctx, t.id)));
  }
  return licenses.map((l) => licenseRow(l, p, names));
}

export async function getLicense(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<LicenseRow> {
  return rowOf(ctx, await scopedLicense(ctx, req, p, id), p);
}

export async function createLicense(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  body: z.output<typeof createLicenseBody>,
): Promise<{ license: LicenseRow; licenseKey: string }> {
  const tenant = await requireTenant(ctx, req, p.user, body.tenantId);
  if (tenant.kind !== 'customer') return fail(400, 'bad_request', 'licenses are for customers');
  const created = await store.createLicense(ctx, {
    tenant: tenant.id,
    product: body.product,
    entitlements: body.entitlements,
    ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
  });
  await audit(ctx, req, p, 'license.created', created.license, { product: body.product });
  return { license: await rowOf(ctx, created.license, p), licenseKey: created.licenseKey };
}

export async function lockLicense(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  reason: string,
): Promise<LicenseRow> {
  const license = await scopedLicense(ctx, req, p, id);
  const locked = await store.lockLicense(ctx, license.id, reason);
  await audit(ctx, req, p, 'license.locked', license, { reason });
  void licenseLockChanged(ctx, locked, 'locked');
  return rowOf(ctx, locked, p);
}

export async function unlockLicense(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<LicenseRow> {
  const license = await scopedLicense(ctx, req, p, id);
  const unlocked = await store.unlockLicense(ctx, license.id);
  await audit(ctx, req, p, 'license.unlocked', license);
  void licenseLockChanged(ctx, unlocked, 'unlocked');
  return rowOf(ctx, unlocked, p);
}

export async function rebindLicense(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<{ rebindCode: string; expiresAt: string }> {
  const license = await scopedLicense(ctx, req, p, id);
  const result = await store.rebindLicense(ctx, license.id);
  await audit(ctx, req, p, 'license.rebind.issued', license);
  return result;
}

// ------------------------------------------------------------ credentials (values only go in)

export async function listConnections(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
): Promise<ConnectionRow[]> {
  const license = await scopedLicense(ctx, req, p, id);
  const out: ConnectionRow[] = [];
  for (const c of await store.connectionsOf(ctx, license.id)) {
    const by = c.setBy === 'device' ? undefined : await userById(ctx.db, c.setBy);
    out.push({
      connection: c.connection,
      kind: c.kind,
      fieldNames: [...c.fieldNames],
      setAt: c.setAt,
      setBy: c.setBy === 'device' ? 'device' : (by?.name ?? 'portal user'),
      hookUrl: c.hookUrl ?? null,
    });
  }
  return out;
}

export async function putCredentials(
  ctx: Context,
  req: FastifyRequest,
  p: Principal,
  id: string,
  connection: string,
  body: z.output<typeof credentialsBody>,
): Promise<void> {
  const license = await scopedLicense(ctx, req, p, id);
  if (license.status !== 'active') {
    await record(ctx, req, {
      tenant: license.tenant,
      actor: { type: 'user', id: p.user.id },
      action: 'credentials.set',
      outcome: 'denied',
      target: { type: 'license', id: license.id },
      reason: 'license not activated',
    });
    return fail(
      409,
      'license_not_active',
      'credentials can be stored once the license is activated',
    );
  }
  await store.putCredentials(ctx, license.id, connection, {
    tenant: license.tenant,
    kind: body.kind,
    fields: body.fields,
    actor: { id: p.user.id, name: p.user.name },
  });
  await audit(ctx, req, p, 'credentials.set', license, {
    connection,
    kind: body.kind,
    fields: Object.keys(body.fields),
  });
}
