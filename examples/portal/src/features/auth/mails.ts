/**
 * What the sign-in sends a person: the one-time code (e-mail or SMS) and the password-reset
 * link, in the person's language (German formal "Sie", English).
 */
import type { MailMessage } from '../../server/mail.ts';

export type Locale = 'de' | 'en';

/** A one-time code by e-mail; `minutes` is how long it is valid. */
export function codeMail(locale: Locale, to: string, code: string, minutes: number): MailMessage {
  return locale === 'de'
    ? {
        to,
        subject: `Ihr Fluxel-Bestätigungscode: ${code}`,
        text: `Ihr Bestätigungscode lautet ${code}. Er ist ${minutes} Minuten gültig und nur einmal verwendbar.\nWenn Sie das nicht waren, ändern Sie bitte Ihr Passwort.`,
      }
    : {
        to,
        subject: `Your Fluxel code: ${code}`,
        text: `Your code is ${code}. It is valid for ${minutes} minutes and works once.\nIf this was not you, please change your password.`,
      };
}

/** A one-time code by SMS: only the text (short, no link). */
export function codeSms(locale: Locale, code: string, minutes: number): string {
  return locale === 'de'
    ? `Fluxel-Code: ${code} (${minutes} Minuten gültig)`
    : `Fluxel code: ${code} (valid ${minutes} minutes)`;
}

/** The link that sets a new password; it never signs in (the second factor still follows). */
export function resetMail(locale: Locale, to: string, link: string, minutes: number): MailMessage {
  return locale === 'de'
    ? {
        to,
        subject: 'Fluxel: Passwort zurücksetzen',
        text: `Über diesen Link setzen Sie Ihr Passwort neu (${minutes} Minuten gültig):\n${link}\nDanach melden Sie sich wie gewohnt mit dem zweiten Faktor an.`,
      }
    : {
        to,
        subject: 'Fluxel: reset your password',
        text: `Use this link to set a new password (valid ${minutes} minutes):\n${link}\nAfterwards, sign in with your second factor as usual.`,
      };
}
