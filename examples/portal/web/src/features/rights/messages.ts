/**
 * Texts of "request more rights" (German and English, the same keys — the type checks it).
 * `{name}` marks a variable.
 */
import { defineMessages, labelOf, type MessageVars } from '../../messages.ts';

export const rightsMessages = defineMessages({
  de: {
    title: 'Rechte anfragen',
    intro:
      'Bitten Sie um eine andere Rolle. Ein Key-User Ihres Unternehmens oder ein Administrator entscheidet; Sie erhalten eine E-Mail.',
    current: 'Ihre Rolle: {role}',
    role: 'Gewünschte Rolle',
    reason: 'Begründung',
    submit: 'Anfrage senden',
    sent: 'Anfrage gesendet.',
    none: 'Für Ihren Mandanten gibt es keine andere Rolle.',
    mine: 'Ihre Anfragen',
    mineEmpty: 'Noch keine Anfragen.',
    withdraw: 'Zurückziehen',
    approvals: 'Anfragen entscheiden',
    approvalsEmpty: 'Keine offenen Anfragen.',
    caption: 'Rechteanfragen',
    user: 'Benutzer',
    tenant: 'Mandant',
    change: 'Änderung',
    status: 'Status',
    note: 'Hinweis (optional)',
    rejectReason: 'Begründung der Ablehnung',
    approve: 'Genehmigen',
    approveLabel: 'Anfrage von {name} genehmigen',
    reject: 'Ablehnen',
    rejectLabel: 'Anfrage von {name} ablehnen',
    notYours: 'Nicht durch Sie entscheidbar',
    decided: 'Entschieden.',
    'status.pending': 'Offen',
    'status.approved': 'Genehmigt',
    'status.rejected': 'Abgelehnt',
    'status.withdrawn': 'Zurückgezogen',
  },
  en: {
    title: 'Request rights',
    intro:
      'Ask for a different role. A key user of your company or an administrator decides; you get an e-mail.',
    current: 'Your role: {role}',
    role: 'Role requested',
    reason: 'Reason',
    submit: 'Send request',
    sent: 'Request sent.',
    none: 'There is no other role for your tenant.',
    mine: 'Your requests',
    mineEmpty: 'No requests yet.',
    withdraw: 'Withdraw',
    approvals: 'Decide requests',
    approvalsEmpty: 'No open requests.',
    caption: 'Rights requests',
    user: 'User',
    tenant: 'Tenant',
    change: 'Change',
    status: 'Status',
    note: 'Note (optional)',
    rejectReason: 'Reason for the rejection',
    approve: 'Approve',
    approveLabel: 'Approve the request of {name}',
    reject: 'Reject',
    rejectLabel: 'Reject the request of {name}',
    notYours: 'Not yours to decide',
    decided: 'Decided.',
    'status.pending': 'Open',
    'status.approved': 'Approved',
    'status.rejected': 'Rejected',
    'status.withdrawn': 'Withdrawn',
  },
});

export type RightsKey = keyof typeof rightsMessages.de;
export type RightsT = (key: RightsKey, vars?: MessageVars) => string;

/** A dynamic key's text (`status.<s>`), else the raw value. */
export function rightsLabel(t: RightsT, prefix: string, value: string): string {
  return labelOf(rightsMessages, t, prefix, value);
}
