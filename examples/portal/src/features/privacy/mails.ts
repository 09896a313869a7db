/**
 * The privacy feature's mail: an erasure was scheduled — the account is disabled, when it will
 * be deleted, and the link that cancels it (German then English: it may reach someone whose
 * account, and language setting, is about to go).
 */
import type { MailMessage } from '../../server/mail.ts';

export function erasureScheduledMail(to: string, dueAt: number, cancelLink: string): MailMessage {
  const day = new Date(dueAt).toISOString().slice(0, 10);
  return {
    to,
    subject: 'Löschung Ihres Fluxel-Kontos / Deletion of your Fluxel account',
    text: `Ihr Konto im Fluxel-Portal wurde gesperrt und wird am ${day} endgültig gelöscht.\nBis dahin können Sie die Löschung hier abbrechen: ${cancelLink}\n\nYour Fluxel portal account has been disabled and will be deleted for good on ${day}.\nUntil then you can cancel the deletion here: ${cancelLink}\n`,
  };
}
