/**
 * The licenses feature's API as data: licenses (at the relay, scoped by tenant here), their
 * lock, rebind, and the credentials of their connections (values only go in). Shared by the
 * server (serveAll) and the web app (call); imports only zod and src/shared.
 */
import { z } from 'zod';
import { createLicenseBody, credentialsBody, lockBody } from '../../shared/api.ts';
import { route } from '../../shared/contract.ts';

export const LicenseRowSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  tenantName: z.string(),
  product: z.string(),
  entitlements: z.array(z.string()),
  /** `issued` (never activated), `active`, `rebinding`, `locked`, `expired`. */
  status: z.string(),
  lockedReason: z.string().optional(),
  activated: z.boolean(),
  /** Device key thumbprint — administrators only (field-level rule). */
  deviceJkt: z.string().optional(),
  createdAt: z.string(),
  activatedAt: z.string().optional(),
  /** When the device last reached the relay (any verified request; recorded at most once a minute). */
  lastSeenAt: z.string().optional(),
  /** The bound device's host name and agent version, as it reported them. */
  deviceHostName: z.string().optional(),
  agentVersion: z.string().optional(),
  /**
   * The client IP of that last request — only for users of the license's own tenant and
   * administrators (`mayViewDeviceIp`), not for partners.
   */
  lastIp: z.string().optional(),
  expiresAt: z.string().optional(),
});
export type LicenseRow = z.infer<typeof LicenseRowSchema>;

export const ConnectionRowSchema = z.object({
  connection: z.string(),
  kind: z.string(),
  fieldNames: z.array(z.string()),
  setAt: z.string(),
  /** `device` or the portal user's display name. */
  setBy: z.string(),
  /** Where the third party sends this connection's webhooks (null without a webhook secret). */
  hookUrl: z.string().nullable(),
});
export type ConnectionRow = z.infer<typeof ConnectionRowSchema>;

export const licensesContract = {
  list: route({
    method: 'GET',
    path: '/api/licenses',
    access: 'license.read',
    query: z.object({ tenantId: z.string().optional() }),
    response: z.object({ licenses: z.array(LicenseRowSchema) }),
  }),
  get: route({
    method: 'GET',
    path: '/api/licenses/:id',
    access: 'license.read',
    response: z.object({ license: LicenseRowSchema }),
  }),
  /** The key is shown once. */
  create: route({
    method: 'POST',
    path: '/api/licenses',
    access: 'license.create',
    body: createLicenseBody,
    response: z.object({ license: LicenseRowSchema, licenseKey: z.string() }),
  }),
  lock: route({
    method: 'POST',
    path: '/api/licenses/:id/lock',
    access: 'license.lock',
    body: lockBody,
    response: LicenseRowSchema,
  }),
  unlock: route({
    method: 'POST',
    path: '/api/licenses/:id/unlock',
    access: 'license.lock',
    response: LicenseRowSchema,
  }),
  /** A one-time code for the replacement device, shown once. */
  rebind: route({
    method: 'POST',
    path: '/api/licenses/:id/rebind',
    access: 'license.rebind',
    response: z.object({ rebindCode: z.string(), expiresAt: z.string() }),
  }),
  connections: route({
    method: 'GET',
    path: '/api/licenses/:id/connections',
    access: 'credentials.read',
    response: z.object({ connections: z.array(ConnectionRowSchema) }),
  }),
  /** 409 `license_not_active` before activation; the values are never shown again. */
  putCredentials: route({
    method: 'PUT',
    path: '/api/licenses/:id/connections/:connection/credentials',
    access: 'credentials.write',
    body: credentialsBody,
    response: z.void(),
  }),
} as const;
