/** The users page's texts (the list, invitations, actions). */
import { defineMessages } from '../../messages.ts';

export const usersMessages = defineMessages({
  de: {
    title: 'Benutzer',
    intro: 'Benutzer einladen, Rollen ändern, Konten sperren und Sitzungen beenden.',
    listTitle: 'Alle Benutzer',
    factors: 'Faktoren',
    lastSignIn: 'Letzte Anmeldung',
    you: 'Sie',
    roleFor: 'Rolle von {name}',
    changeRole: 'Rolle ändern',
    roleSaved: 'Rolle geändert.',
    disable: 'Deaktivieren',
    enable: 'Aktivieren',
    endSessions: 'Sitzungen beenden',
    sessionsEnded: '{n} Sitzung(en) beendet.',
    inviteTitle: 'Benutzer einladen',
    inviteIntro:
      'Die Einladung kommt per E-Mail. Beim ersten Anmelden legt die Person ein Passwort und einen zweiten Faktor fest.',
    invite: 'Einladung senden',
    invited: 'Einladung an {email} gesendet, gültig bis {date}.',
  },
  en: {
    title: 'Users',
    intro: 'Invite users, change roles, disable accounts and end sessions.',
    listTitle: 'All users',
    factors: 'Factors',
    lastSignIn: 'Last sign-in',
    you: 'You',
    roleFor: 'Role of {name}',
    changeRole: 'Change role',
    roleSaved: 'Role changed.',
    disable: 'Disable',
    enable: 'Enable',
    endSessions: 'End sessions',
    sessionsEnded: '{n} session(s) ended.',
    inviteTitle: 'Invite a user',
    inviteIntro:
      'The invitation goes out by e-mail. On first sign-in the person sets a password and a second factor.',
    invite: 'Send invitation',
    invited: 'Invitation sent to {email}, valid until {date}.',
  },
});
