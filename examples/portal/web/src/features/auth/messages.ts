/**
 * The sign-in's texts: the login page and its second step, the code method picker (also used
 * by re-authentication), password reset, accepting an invitation and the first enrolment.
 */
import { defineMessages } from '../../messages.ts';

export const authMessages = defineMessages({
  de: {
    'method.totp': 'Authenticator-App',
    'method.email': 'Code per E-Mail',
    'method.sms': 'Code per SMS',
    'method.recovery': 'Wiederherstellungscode',
    'login.title': 'Anmelden',
    'login.intro': 'Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an.',
    'login.submit': 'Weiter',
    'login.forgot': 'Passwort vergessen?',
    'login.partnerSignup': 'Noch kein Partner? Als Integrationspartner registrieren',
    'login.passkeyTitle': 'Mit Passkey',
    'login.passkeyHint':
      'Ein Passkey ersetzt Passwort und Code. Ist oben eine E-Mail-Adresse eingetragen, wird sie verwendet.',
    'login.passkey': 'Mit Passkey anmelden',
    'login.secondTitle': 'Anmeldung bestätigen',
    'login.secondIntro':
      'Ihr Passwort war richtig. Bestätigen Sie die Anmeldung jetzt mit Ihrem zweiten Faktor.',
    'login.confirm': 'Bestätigen',
    'login.passkeySecondHint': 'Oder bestätigen Sie die Anmeldung mit einem Passkey.',
    'login.passkeyConfirm': 'Mit Passkey bestätigen',
    'login.restart': 'Mit einem anderen Konto anmelden',
    'signin.method': 'Methode',
    'signin.totpHint': 'Der sechsstellige Code aus Ihrer Authenticator-App.',
    'signin.recoveryHint':
      'Einer der Wiederherstellungscodes, die Sie beim Einrichten gespeichert haben. Jeder Code gilt nur einmal.',
    'signin.sendFirst': 'Fordern Sie zuerst einen Code an.',
    'signin.sentHint': 'Der Code ist einige Minuten gültig.',
    'signin.sendEmail': 'Code per E-Mail senden',
    'signin.sendSms': 'Code per SMS senden',
    'signin.resend': 'Code erneut senden',
    'signin.sentEmail': 'Der Code wurde an Ihre E-Mail-Adresse gesendet.',
    'signin.sentSms': 'Der Code wurde per SMS gesendet.',
    'invite.title': 'Einladung annehmen',
    'invite.intro': 'Sie wurden zum Fluxel-Portal von {tenant} eingeladen.',
    'invite.expires': 'Gültig bis',
    'invite.next': 'Danach richten Sie einen zweiten Faktor ein – das ist für alle Konten Pflicht.',
    'invite.accept': 'Konto anlegen',
    'enrol.title': 'Zweiten Faktor einrichten',
    'enrol.intro':
      'Bevor es losgeht, richten Sie bitte einen zweiten Faktor ein. Dieser Schritt ist verpflichtend.',
    'enrol.why':
      'Warum? Im Portal werden Lizenzen und Zugangsdaten verwaltet. Ein zweiter Faktor schützt Ihr Konto, selbst wenn Ihr Passwort bekannt wird.',
    'enrol.totpTitle': 'Authenticator-App',
    'enrol.recommended': 'Empfohlen',
    'enrol.emailTitle': 'Code per E-Mail',
    'enrol.emailHint':
      'Wenn Sie keine Authenticator-App nutzen können: Bei jeder Anmeldung kommt ein Code per E-Mail.',
    'enrol.later': 'Passkeys und SMS können Sie danach unter „Sicherheit & Profil“ hinzufügen.',
    'enrol.codesTitle': 'Ihre Wiederherstellungscodes',
    'enrol.codesIntro':
      'Fast geschafft. Bewahren Sie diese Codes sicher auf, bevor Sie weitermachen.',
    'reset.title': 'Passwort zurücksetzen',
    'reset.intro':
      'Geben Sie Ihre E-Mail-Adresse ein. Wir senden Ihnen einen Link, mit dem Sie ein neues Passwort festlegen.',
    'reset.send': 'Link senden',
    'reset.sent':
      'Falls ein Konto zu dieser Adresse existiert, ist ein Link unterwegs. Bitte prüfen Sie Ihr Postfach.',
    'reset.newTitle': 'Neues Passwort festlegen',
    'reset.afterHint':
      'Alle bestehenden Sitzungen werden beendet. Ihr zweiter Faktor bleibt unverändert.',
    'reset.save': 'Passwort speichern',
    'reset.doneTitle': 'Passwort geändert',
    'reset.done':
      'Ihr Passwort wurde geändert. Melden Sie sich jetzt mit Ihrem Passwort und Ihrem zweiten Faktor an.',
  },
  en: {
    'method.totp': 'Authenticator app',
    'method.email': 'Code by e-mail',
    'method.sms': 'Code by SMS',
    'method.recovery': 'Recovery code',
    'login.title': 'Sign in',
    'login.intro': 'Sign in with your e-mail address and password.',
    'login.submit': 'Continue',
    'login.forgot': 'Forgot your password?',
    'login.partnerSignup': 'Not a partner yet? Register as an integration partner',
    'login.passkeyTitle': 'With a passkey',
    'login.passkeyHint':
      'A passkey replaces both password and code. If an e-mail address is filled in above, it is used.',
    'login.passkey': 'Sign in with a passkey',
    'login.secondTitle': 'Confirm sign-in',
    'login.secondIntro':
      'Your password was correct. Now confirm the sign-in with your second factor.',
    'login.confirm': 'Confirm',
    'login.passkeySecondHint': 'Or confirm the sign-in with a passkey.',
    'login.passkeyConfirm': 'Confirm with a passkey',
    'login.restart': 'Sign in with a different account',
    'signin.method': 'Method',
    'signin.totpHint': 'The six-digit code from your authenticator app.',
    'signin.recoveryHint':
      'One of the recovery codes you saved during setup. Each code works only once.',
    'signin.sendFirst': 'Request a code first.',
    'signin.sentHint': 'The code is valid for a few minutes.',
    'signin.sendEmail': 'Send code by e-mail',
    'signin.sendSms': 'Send code by SMS',
    'signin.resend': 'Send the code again',
    'signin.sentEmail': 'The code was sent to your e-mail address.',
    'signin.sentSms': 'The code was sent by SMS.',
    'invite.title': 'Accept invitation',
    'invite.intro': 'You have been invited to the Fluxel portal of {tenant}.',
    'invite.expires': 'Valid until',
    'invite.next': 'Next you set up a second factor – it is mandatory for every account.',
    'invite.accept': 'Create account',
    'enrol.title': 'Set up a second factor',
    'enrol.intro': 'Before you start, please set up a second factor. This step is mandatory.',
    'enrol.why':
      'Why? The portal manages licenses and credentials. A second factor protects your account even if your password becomes known.',
    'enrol.totpTitle': 'Authenticator app',
    'enrol.recommended': 'Recommended',
    'enrol.emailTitle': 'Code by e-mail',
    'enrol.emailHint':
      'If you cannot use an authenticator app: each sign-in sends a code by e-mail.',
    'enrol.later': 'You can add passkeys and SMS later under “Security & profile”.',
    'enrol.codesTitle': 'Your recovery codes',
    'enrol.codesIntro': 'Almost done. Store these codes safely before you continue.',
    'reset.title': 'Reset password',
    'reset.intro': 'Enter your e-mail address. We send you a link to set a new password.',
    'reset.send': 'Send link',
    'reset.sent':
      'If an account exists for this address, a link is on its way. Please check your inbox.',
    'reset.newTitle': 'Set a new password',
    'reset.afterHint': 'All existing sessions end. Your second factor stays as it is.',
    'reset.save': 'Save password',
    'reset.doneTitle': 'Password changed',
    'reset.done':
      'Your password was changed. Now sign in with your password and your second factor.',
  },
});
