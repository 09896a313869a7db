/**
 * The users feature's mail: the invitation (also when resent). The invitee has no language
 * setting yet, so it is written in both — German first, formal "Sie".
 */
import type { MailMessage } from '../../server/mail.ts';
import type { Role } from '../../shared/permissions.ts';

const ROLE_NAMES: Readonly<Record<Role, { de: string; en: string }>> = {
  customer: { de: 'Kunde', en: 'customer' },
  'key-user': { de: 'Key-User', en: 'key user' },
  partner: { de: 'Partner', en: 'partner' },
  administrator: { de: 'Administrator', en: 'administrator' },
};

export function invitationMail(input: {
  readonly to: string;
  readonly inviter: string;
  readonly tenantName: string;
  readonly role: Role;
  readonly link: string;
}): MailMessage {
  const { inviter, tenantName, link } = input;
  const role = ROLE_NAMES[input.role];
  return {
    to: input.to,
    subject: `Einladung zum Fluxel-Portal / Invitation to the Fluxel portal (${tenantName})`,
    text: `${inviter} lädt Sie in das Fluxel-Portal ein (${tenantName}, Rolle ${role.de}).\n${inviter} invites you to the Fluxel portal (${tenantName}, role ${role.en}).\n\n${link}\n\nGültig 7 Tage / valid for 7 days.`,
  };
}
