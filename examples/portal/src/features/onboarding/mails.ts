/**
 * The onboarding mails, German and English in one mail (the applicant has no account yet, so
 * no stored language; the texts address the reader as "Sie").
 */
import type { MailMessage } from '../../server/mail.ts';

type Message = Omit<MailMessage, 'to'>;

/** To an address that already has a registration or an account: nothing new was created. */
export function duplicateMail(origin: string): Message {
  return {
    subject: 'Partner-Registrierung / Partner registration',
    text: `Für diese Adresse gibt es bereits eine Partner-Registrierung oder ein Konto im Fluxel-Portal. Es wurde nichts Neues angelegt. Anmelden: ${origin}/login\n\nThis address already has a partner registration or an account in the Fluxel portal. Nothing new was created. Sign in: ${origin}/login\n`,
  };
}

export function verifyMail(a: { contactName: string; companyName: string; link: string }): Message {
  return {
    subject: 'Bitte E-Mail-Adresse bestätigen / Please confirm your e-mail address',
    text: `Hallo ${a.contactName},\n\nbitte bestätigen Sie Ihre E-Mail-Adresse für die Partner-Registrierung von ${a.companyName} (24 Stunden gültig):\n${a.link}\n\nPlease confirm your e-mail address for the partner registration of ${a.companyName} (valid for 24 hours):\n${a.link}\n`,
  };
}

/** To the administrators: an application waits for review. */
export function reviewMail(companyName: string, origin: string): Message {
  return {
    subject: `Neue Partner-Registrierung / New partner application: ${companyName}`,
    text: `Eine Partner-Registrierung wartet auf Prüfung / A partner application awaits review:\n${origin}/onboarding\n`,
  };
}

export function rejectedMail(a: {
  contactName: string;
  companyName: string;
  reason: string;
}): Message {
  return {
    subject: 'Ihre Partner-Registrierung / Your partner registration',
    text: `Hallo ${a.contactName},\n\nIhre Partner-Registrierung für ${a.companyName} wurde leider abgelehnt.\nBegründung: ${a.reason}\n\nYour partner registration for ${a.companyName} was declined.\nReason: ${a.reason}\n`,
  };
}

export function approvedMail(a: {
  contactName: string;
  companyName: string;
  link: string;
}): Message {
  return {
    subject: 'Partner-Registrierung freigegeben / Partner registration approved',
    text: `Hallo ${a.contactName},\n\nIhre Partner-Registrierung für ${a.companyName} ist freigegeben. Legen Sie Ihr Konto an (mit zweitem Faktor); danach sehen Sie einmalig Ihre Sandbox-Zugangsdaten und die Zertifizierungs-Checkliste:\n${a.link}\n\nYour partner registration for ${a.companyName} is approved. Create your account (with a second factor); afterwards you see your sandbox credentials once and the certification checklist:\n${a.link}\n\nGültig 7 Tage / valid for 7 days.`,
  };
}

/** To the administrators: production scopes can now be granted. */
export function certifiedMail(tenantName: string, origin: string): Message {
  return {
    subject: `Partner zertifiziert / Partner certified: ${tenantName}`,
    text: `Der Partner hat die Zertifizierung bestanden; produktive Berechtigungen können jetzt erteilt werden:\n${origin}/onboarding\n\nThe partner passed the certification; production scopes can now be granted.\n`,
  };
}
