/**
 * The users feature's API as data: the users in scope, invitations (issue, list the pending
 * ones, send again, revoke), role and status changes, ending a user's sessions. Shared by the
 * server (serveAll) and the web app (call); imports only zod and src/shared.
 */
import { z } from 'zod';
import { inviteBody, updateUserBody } from '../../shared/api.ts';
import { route } from '../../shared/contract.ts';
import { ROLES } from '../../shared/permissions.ts';

export const UserRowSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenantId: z.string(),
  status: z.enum(['active', 'disabled']),
  factors: z.array(z.enum(['totp', 'email', 'sms', 'passkey'])),
  lastSignInAt: z.string().optional(),
});
export type UserRow = z.infer<typeof UserRowSchema>;

/** An invitation nobody has accepted yet — expired ones too (they can be sent again). */
export const InvitationRowSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  tenantId: z.string(),
  tenantName: z.string(),
  /** The name of who sent it (absent for system invitations and erased accounts). */
  invitedBy: z.string().optional(),
  expiresAt: z.string(),
  expired: z.boolean(),
});
export type InvitationRow = z.infer<typeof InvitationRowSchema>;

const IssuedSchema = z.object({ id: z.string(), expiresAt: z.string() });
const tenantQuery = z.object({ tenantId: z.string().optional() });

export const usersContract = {
  /** Scoped: a chosen reachable tenant, all (administrators) or the own tenant. */
  list: route({
    method: 'GET',
    path: '/api/users',
    access: 'users.read',
    query: tenantQuery,
    response: z.object({ users: z.array(UserRowSchema) }),
  }),
  /** The link goes out by e-mail, valid 7 days. */
  invite: route({
    method: 'POST',
    path: '/api/invitations',
    access: 'users.invite',
    body: inviteBody,
    response: IssuedSchema,
  }),
  invitations: route({
    method: 'GET',
    path: '/api/invitations',
    access: 'users.read',
    query: tenantQuery,
    response: z.object({ invitations: z.array(InvitationRowSchema) }),
  }),
  /** A new link, valid 7 days; the old link answers 410 `invitation_replaced`. */
  resendInvitation: route({
    method: 'POST',
    path: '/api/invitations/:id/resend',
    access: 'users.invite',
    response: IssuedSchema,
  }),
  /** The link answers 404 `invitation_invalid` afterwards. */
  revokeInvitation: route({
    method: 'DELETE',
    path: '/api/invitations/:id',
    access: 'users.invite',
    response: z.void(),
  }),
  /**
   * Disabling ends all the user's sessions. The role must fit the user's tenant (400 on
   * `role`); an account with a scheduled erasure is not made active (409 `erasure_scheduled`).
   * Only a real change is audited.
   */
  update: route({
    method: 'PATCH',
    path: '/api/users/:id',
    access: 'users.manage',
    body: updateUserBody,
    response: UserRowSchema,
  }),
  endSessions: route({
    method: 'POST',
    path: '/api/users/:id/sessions/revoke',
    access: 'users.manage',
    response: z.object({ ended: z.number() }),
  }),
} as const;
