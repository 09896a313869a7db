/**
 * The users feature's API as data: request bodies and response shapes, shared by the server
 * and the web app (imports only zod and src/shared).
 */
import { z } from 'zod';
import { ROLES } from '../../shared/permissions.ts';

/**
 * `GET /api/invitations?tenantId=` (users.read, scoped) → `{ invitations: InvitationRow[] }`:
 * the invitations nobody has accepted yet, expired ones too (they can be resent).
 */
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
