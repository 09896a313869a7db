/** The account's mails, in the user's language. */

import type { MailMessage } from '../../server/mail.ts';
import type { Locale } from '../../shared/api.ts';

/**
 * To the old address after the sign-in address changed: the owner learns of a change they did
 * not make while the old address still reaches them.
 */
export function emailChangedMail(locale: Locale, to: string, newEmail: string): MailMessage {
  return locale === 'de'
    ? {
        to,
        subject: 'Fluxel: E-Mail-Adresse geändert',
        text: `Die Anmelde-Adresse Ihres Kontos wurde in ${newEmail} geändert. Waren Sie das nicht, melden Sie sich bitte sofort bei uns.`,
      }
    : {
        to,
        subject: 'Fluxel: e-mail address changed',
        text: `Your account's sign-in address was changed to ${newEmail}. If this was not you, contact us at once.`,
      };
}
