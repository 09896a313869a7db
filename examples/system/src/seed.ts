/**
 * Seeds the portal through its real HTTP API, as people would: the first administrator's
 * invitation (printed by the portal at its first start) → sign-up → TOTP enrolment; then the
 * administrator invites a customer user by e-mail (the dev portal prints the mail it sends to
 * its local SMTP sink) → sign-up → TOTP enrolment.
 */
import { randomBytes } from 'node:crypto';
import type { System } from './launch.ts';
import { PortalClient } from './portal-client.ts';

export interface PortalUser {
  readonly email: string;
  readonly password: string;
  readonly role: string;
  readonly tenantId: string;
  /** Base32 TOTP secret — returned once, at enrolment. */
  readonly totpSecret: string;
  readonly otpauthUrl: string;
  readonly userId: string;
}

/** A password the portal's policy accepts (long, random, not in any list). */
export function demoPassword(): string {
  return `Pw.${randomBytes(12).toString('hex')}`;
}

/** Signs up the first administrator with the invitation the portal printed. */
export async function signUpFirstAdmin(
  system: System,
  email = 'admin@localhost.test',
  name = 'Demo Admin',
): Promise<{ user: PortalUser; client: PortalClient }> {
  const token = system.firstAdminInvitation;
  if (!token || !system.portalUrl)
    throw new Error('the portal printed no first-administrator invitation (it already has users)');
  const client = new PortalClient(system.portalUrl, system.ca);
  const password = demoPassword();
  const enrolled = await client.acceptInvitation(token, name, password);
  return {
    client,
    user: {
      email,
      password,
      role: 'administrator',
      tenantId: 'operator',
      totpSecret: enrolled.secret,
      otpauthUrl: enrolled.otpauthUrl,
      userId: enrolled.userId,
    },
  };
}

/**
 * Invites `email` with a signed-in inviter and signs the invitee up (the invitation link is
 * read from the mail the dev portal prints).
 */
export async function inviteAndSignUp(
  system: System,
  inviter: PortalClient,
  input: { email: string; role: string; tenantId: string; name: string },
): Promise<{ user: PortalUser; client: PortalClient }> {
  const portal = system.services.portal;
  if (!portal || !system.portalUrl) throw new Error('no portal running');
  const from = portal.lines.length;
  const invited = await inviter.post('/api/invitations', {
    email: input.email,
    role: input.role,
    tenantId: input.tenantId,
  });
  if (invited.status !== 200 && invited.status !== 201)
    throw new Error(`portal: invitation refused (${invited.status})`);
  const escaped = input.email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A bound against a hang, not a budget: the mail line comes when the busy machine gets to it.
  const mailAt = await portal.waitFor(new RegExp(`e-mail to ${escaped}`), 300_000, from);
  const at = portal.lines.findIndex((l, i) => i >= from && l === mailAt.input);
  const [, token] = await portal.waitFor(
    /\/invite\/([A-Za-z0-9_-]{16,})/,
    300_000,
    Math.max(at, from),
  );
  const client = new PortalClient(system.portalUrl, system.ca);
  const password = demoPassword();
  const enrolled = await client.acceptInvitation(token as string, input.name, password);
  return {
    client,
    user: {
      email: input.email,
      password,
      role: input.role,
      tenantId: input.tenantId,
      totpSecret: enrolled.secret,
      otpauthUrl: enrolled.otpauthUrl,
      userId: enrolled.userId,
    },
  };
}
