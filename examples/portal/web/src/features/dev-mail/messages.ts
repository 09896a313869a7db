/** The texts of the dev start's mail viewer. */
import { defineMessages } from '../../messages.ts';

export const devMailMessages = defineMessages({
  de: {
    'devMail.title': 'Demo-E-Mails',
    'devMail.intro':
      'Im Demo-Betrieb gehen E-Mails an einen lokalen Postausgang statt an die Empfänger. Hier sehen Sie sie, die neueste zuerst; die Links darin können Sie direkt öffnen.',
    'devMail.refresh': 'Aktualisieren',
    'devMail.empty': 'Noch keine E-Mails.',
    'devMail.to': 'An: {to}',
    'devMail.truncated': 'Es werden nur die neuesten {n} E-Mails angezeigt.',
    'devMail.unavailable': 'Die E-Mail-Ansicht gibt es nur im Demo-Start des Portals.',
  },
  en: {
    'devMail.title': 'Demo e-mails',
    'devMail.intro':
      'In demo mode, e-mails go to a local outbox instead of their recipients. Here they are, newest first; open the links in them directly.',
    'devMail.refresh': 'Refresh',
    'devMail.empty': 'No e-mails yet.',
    'devMail.to': 'To: {to}',
    'devMail.truncated': 'Only the newest {n} e-mails are shown.',
    'devMail.unavailable': "The mail viewer exists only in the portal's demo start.",
  },
});
