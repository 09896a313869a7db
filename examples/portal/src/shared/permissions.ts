/**
 * The portal's roles and what each may do. The server checks every route against this table
 * (and scopes every query by tenant); the web app uses it only to hide what a user cannot do.
 * The same table is printed in the README.
 */
export const ROLES = ['customer', 'key-user', 'partner', 'administrator'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'license.read',
  'license.create',
  'license.lock',
  'license.rebind',
  'device.read',
  'credentials.read',
  'credentials.write',
  'users.read',
  'users.invite',
  'users.manage',
  'sessions.revoke-others',
  'audit.read',
  'alerts.read',
  'alerts.manage',
  'tenants.read',
  'tenants.all',
  'adv.accept',
  'adv.publish',
  'privacy.self',
  'privacy.manage',
  'register.read',
  'status.manage',
  'certificates.manage',
  'partner.manage',
  'onboarding.review',
  'rights.request',
  'rights.approve',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Scope of a permission: `own` = the user's tenant; `assigned` = the customer tenants a partner
 * is assigned to; `all` = every tenant (administrators only).
 */
export type Scope = 'own' | 'assigned' | 'all';

/**
 * What only a tenant's own people do for themselves: accept the tenant's ADV, ask for a higher
 * role. Administrators may do everything else (a new permission reaches them too).
 */
const TENANT_OWN_ACTS: readonly Permission[] = ['adv.accept', 'rights.request'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  customer: ['license.read', 'credentials.read', 'tenants.read', 'privacy.self', 'rights.request'],
  'key-user': [
    'license.read',
    'credentials.read',
    'credentials.write',
    'users.read',
    'users.invite',
    'users.manage',
    'audit.read',
    'alerts.read',
    'alerts.manage',
    'tenants.read',
    'adv.accept',
    'privacy.self',
    'register.read',
    'rights.request',
    'rights.approve',
  ],
  partner: [
    'license.read',
    'credentials.read',
    'tenants.read',
    'adv.accept',
    'privacy.self',
    'partner.manage',
    'rights.request',
  ],
  administrator: PERMISSIONS.filter((p) => !TENANT_OWN_ACTS.includes(p)),
};

export const ROLE_SCOPE: Readonly<Record<Role, Scope>> = {
  customer: 'own',
  'key-user': 'own',
  partner: 'assigned',
  administrator: 'all',
};

/** Roles a user with `role` may grant or invite (never above their own). */
export const GRANTABLE: Readonly<Record<Role, readonly Role[]>> = {
  customer: [],
  'key-user': ['customer', 'key-user'],
  partner: [],
  administrator: ['customer', 'key-user', 'partner', 'administrator'],
};

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
