/**
 * The rights requests' mails, German and English in one mail (addressing the reader as "Sie").
 */
import type { MailMessage } from '../../server/mail.ts';

type Message = Omit<MailMessage, 'to'>;

/** To the approvers: someone asks for a role. */
export function requestedMail(a: {
  userName: string;
  tenantName: string;
  role: string;
  origin: string;
}): Message {
  return {
    subject: `Rechteanfrage / Rights request: ${a.userName} (${a.tenantName})`,
    text: `${a.userName} (${a.tenantName}) bittet um die Rolle ${a.role}.\n${a.userName} (${a.tenantName}) asks for the role ${a.role}.\n\n${a.origin}/rights\n`,
  };
}

export function approvedMail(a: {
  userName: string;
  role: string;
  note?: string | undefined;
}): Message {
  return {
    subject: 'Rechteanfrage genehmigt / Rights request approved',
    text: `Hallo ${a.userName},\n\nIhre Anfrage wurde genehmigt: Sie haben jetzt die Rolle ${a.role}.${a.note ? `\nHinweis: ${a.note}` : ''}\n\nYour request was approved: you now have the role ${a.role}.${a.note ? `\nNote: ${a.note}` : ''}\n`,
  };
}

export function rejectedMail(a: { userName: string; role: string; reason: string }): Message {
  return {
    subject: 'Rechteanfrage abgelehnt / Rights request rejected',
    text: `Hallo ${a.userName},\n\nIhre Anfrage nach der Rolle ${a.role} wurde abgelehnt.\nBegründung: ${a.reason}\n\nYour request for the role ${a.role} was rejected.\nReason: ${a.reason}\n`,
  };
}
