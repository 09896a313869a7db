/**
 * Texts of the privacy page and of the erasure-cancel page, German and English with the same
 * keys (`defineMessages` checks it); `{name}` marks a variable.
 */
import { defineMessages } from '../../messages.ts';

export const privacyMessages = defineMessages({
  de: {
    title: 'Datenschutz',
    intro:
      'Hier entscheiden Sie über Einwilligungen, laden alle Daten herunter, die das Portal über Sie speichert, und können Ihr Konto löschen lassen.',
    consents: 'Einwilligungen',
    consentsIntro:
      'Freiwillig und jederzeit widerrufbar. Für den Betrieb des Portals brauchen wir keine davon.',
    consentVersion: 'Fassung {version}',
    consentDecided: 'Zuletzt geändert: {time}',
    consentSaved: 'Ihre Entscheidung ist gespeichert.',
    consentOutdated: 'Der Text hat sich geändert – bitte entscheiden Sie neu.',
    export: 'Meine Daten herunterladen',
    exportIntro:
      'Eine ZIP-Datei mit allen Daten, die das Portal über Sie speichert: maschinenlesbar (data.json) und als lesbare Zusammenfassung (summary.html, summary.txt). Geheimnisse wie Ihr Passwort-Hash oder der Schlüssel Ihrer Authenticator-App sind nicht enthalten.',
    exportButton: 'Daten herunterladen',
    exportDone: 'Der Download wurde gestartet.',
    reauthHint: 'Dafür bestätigen Sie zuerst Ihr Passwort und einen Code.',
    erasure: 'Konto löschen',
    erasureIntro:
      'Ihr Konto wird sofort gesperrt und alle Sitzungen werden beendet. Nach {days} Tagen – am {date} – löschen wir Ihre persönlichen Daten endgültig. Bis dahin können Sie die Löschung über den Link in der E-Mail abbrechen, die wir Ihnen schicken.',
    erasureKeeps:
      'Das Protokoll behält Einträge zu Ihren Aktionen, aber nur unter einer Kennung, die danach auf keine Person mehr verweist.',
    erasureConfirm: 'Ich möchte mein Konto und meine persönlichen Daten löschen lassen.',
    erasureButton: 'Konto löschen',
    erasureScheduled:
      'Ihr Konto ist gesperrt und wird am {date} gelöscht. Sie wurden abgemeldet. Den Link zum Abbrechen haben wir Ihnen per E-Mail geschickt.',
    toLogin: 'Zur Anmeldung',
    adminErasures: 'Geplante Löschungen',
    adminNone: 'Keine Löschung geplant.',
    adminUser: 'Benutzer',
    adminDue: 'Löschung am',
    adminRequestedBy: 'Beantragt von',
    bySelf: 'der Person selbst',
    byAdmin: 'einer Administratorin / einem Administrator',
    adminCancel: 'Löschung abbrechen',
    adminCancelled: 'Die Löschung ist abgebrochen, das Konto wieder im vorigen Zustand.',
    cancelTitle: 'Löschung abbrechen',
    cancelIntro: 'Ihr Konto ist zur Löschung vorgemerkt. Möchten Sie es behalten?',
    cancelButton: 'Konto behalten',
    cancelDone: 'Die Löschung ist abgebrochen. Sie können sich wieder anmelden.',
  },
  en: {
    title: 'Privacy',
    intro:
      'Decide on consents, download everything the portal holds about you, and have your account deleted.',
    consents: 'Consents',
    consentsIntro: 'Voluntary and withdrawable at any time. The portal needs none of them to work.',
    consentVersion: 'Version {version}',
    consentDecided: 'Last changed: {time}',
    consentSaved: 'Your choice is saved.',
    consentOutdated: 'The text has changed – please decide again.',
    export: 'Download my data',
    exportIntro:
      'A zip file with everything the portal holds about you: machine-readable (data.json) and as a readable summary (summary.html, summary.txt). Secrets such as your password hash or your authenticator app key are not included.',
    exportButton: 'Download data',
    exportDone: 'The download has started.',
    reauthHint: 'You confirm your password and a code first.',
    erasure: 'Delete my account',
    erasureIntro:
      'Your account is disabled at once and every session ends. After {days} days – on {date} – we delete your personal data for good. Until then you can cancel the deletion by the link in the e-mail we send you.',
    erasureKeeps:
      'The audit log keeps entries about your actions, but only under an identifier that no longer leads to a person.',
    erasureConfirm: 'I want my account and my personal data deleted.',
    erasureButton: 'Delete account',
    erasureScheduled:
      'Your account is disabled and will be deleted on {date}. You have been signed out. We have e-mailed you a link to cancel.',
    toLogin: 'To sign-in',
    adminErasures: 'Scheduled deletions',
    adminNone: 'No deletion scheduled.',
    adminUser: 'User',
    adminDue: 'Deleted on',
    adminRequestedBy: 'Requested by',
    bySelf: 'the person',
    byAdmin: 'an administrator',
    adminCancel: 'Cancel deletion',
    adminCancelled: 'The deletion is cancelled; the account is back in its previous state.',
    cancelTitle: 'Cancel the deletion',
    cancelIntro: 'Your account is scheduled for deletion. Do you want to keep it?',
    cancelButton: 'Keep my account',
    cancelDone: 'The deletion is cancelled. You can sign in again.',
  },
});
