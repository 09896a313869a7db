/**
 * The ADV feature's mail: a new agreement version asks the customers' key users and the
 * partners to accept it (one mail, German then English: the recipient's language is not known
 * for every address, and the agreement exists in both).
 */
import type { MailMessage } from '../../server/mail.ts';

export interface NewVersionMail {
  readonly to: string;
  readonly name: string;
  readonly tenantName: string;
  /** The version id. */
  readonly version: string;
  /** The agreement's (German) title. */
  readonly title: string;
  /** The portal's ADV page. */
  readonly link: string;
}

export function newVersionMail(m: NewVersionMail): MailMessage {
  return {
    to: m.to,
    subject: `Neue Fassung des AV-Vertrags / New version of the DPA (${m.version})`,
    text: `Hallo ${m.name},\n\nwir haben eine neue Fassung (${m.version}) veröffentlicht: „${m.title}“. Bitte lesen und nehmen Sie sie für ${m.tenantName} im Portal an:\n${m.link}\n\nWe have published a new version (${m.version}) of the data processing agreement. Please read and accept it for ${m.tenantName} in the portal:\n${m.link}\n`,
  };
}
