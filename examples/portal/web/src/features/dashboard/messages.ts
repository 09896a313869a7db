/** The overview page's texts. */
import { defineMessages } from '../../messages.ts';

export const dashboardMessages = defineMessages({
  de: {
    title: 'Übersicht',
    advNeeded:
      'Eine neue Fassung des Auftragsverarbeitungsvertrags (AV-Vertrag) liegt vor und muss für Ihren Mandanten angenommen werden.',
    context: '{tenant} · {role}',
    recoveryLow: 'Sie haben nur noch {n} Wiederherstellungscodes. Erzeugen Sie bald neue.',
    secondFactor:
      'Sie haben nur einen zweiten Faktor. Richten Sie einen weiteren ein (z. B. einen Passkey), damit Sie nicht ausgesperrt werden.',
    addFactor: 'Faktor hinzufügen',
    licenses: 'Lizenzen',
    total: 'Gesamt',
    shortcuts: 'Schnellzugriff',
    licensesHint: 'Status, Geräte und Zugangsdaten',
    usersHint: 'Einladen, Rollen, Sitzungen',
    auditHint: 'Wer hat wann was getan',
    alertsHint: 'Auffällige Ereignisse',
    securityHint: 'Passwort, Faktoren, Sitzungen',
  },
  en: {
    title: 'Overview',
    advNeeded:
      'A new version of the data processing agreement (DPA) is waiting to be accepted for your organisation.',
    context: '{tenant} · {role}',
    recoveryLow: 'You have only {n} recovery codes left. Generate new ones soon.',
    secondFactor:
      'You have only one second factor. Add another one (a passkey, say) so that you cannot get locked out.',
    addFactor: 'Add a factor',
    licenses: 'Licenses',
    total: 'Total',
    shortcuts: 'Shortcuts',
    licensesHint: 'Status, devices and credentials',
    usersHint: 'Invitations, roles, sessions',
    auditHint: 'Who did what and when',
    alertsHint: 'Suspicious events',
    securityHint: 'Password, factors, sessions',
  },
});
