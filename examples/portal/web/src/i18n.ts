/**
 * The portal's texts: German (the default) and English. Both dictionaries have exactly the same
 * keys (the type checks it, and `test/web-i18n.test.ts` too). `{name}` marks a variable.
 */
import type { Locale } from '../../src/shared/api.ts';

export const de = {
  'app.name': 'Fluxel Portal',
  'lang.label': 'Sprache',

  'nav.skip': 'Zum Inhalt springen',
  'nav.label': 'Hauptnavigation',
  'nav.dashboard': 'Übersicht',
  'nav.licenses': 'Lizenzen',
  'nav.users': 'Benutzer',
  'nav.audit': 'Protokoll',
  'nav.alerts': 'Warnungen',
  'nav.adv': 'AV-Vertrag',
  'nav.privacy': 'Datenschutz',
  'nav.certificates': 'Zertifikate',
  'nav.partner': 'Partner-API & Webhooks',
  'nav.status': 'Systemstatus',
  'nav.security': 'Sicherheit & Profil',
  'nav.onboarding': 'Partner-Registrierungen',
  'nav.certification': 'Zertifizierung',
  'nav.rights': 'Rechte anfragen',
  'nav.signOut': 'Abmelden',

  'common.loading': 'Wird geladen …',
  'common.retry': 'Erneut versuchen',
  'common.cancel': 'Abbrechen',
  'common.save': 'Speichern',
  'common.done': 'Fertig',
  'common.copy': 'Kopieren',
  'common.copied': 'In die Zwischenablage kopiert.',
  'common.choose': 'Bitte wählen …',
  'common.actions': 'Aktionen',
  'common.refresh': 'Aktualisieren',
  'common.toLogin': 'Zur Anmeldung',
  'common.shownOnce': 'Wird nur dieses eine Mal angezeigt – bitte jetzt sicher ablegen.',

  'time.second': '1 Sekunde',
  'time.seconds': '{n} Sekunden',
  'time.minutes': '{n} Minuten',
  'time.hours': '{n} Stunden',

  'field.email': 'E-Mail-Adresse',
  'field.password': 'Passwort',
  'field.currentPassword': 'Aktuelles Passwort',
  'field.newPassword': 'Neues Passwort',
  'field.newEmail': 'Neue E-Mail-Adresse',
  'field.name': 'Name',
  'field.locale': 'Sprache',
  'field.code': 'Code',
  'field.recoveryCode': 'Wiederherstellungscode',
  'field.phone': 'Mobilnummer',
  'field.factorLabel': 'Bezeichnung',
  'field.factorLabelHint':
    'Optional, z. B. „Diensthandy“ – hilft, den Faktor später wiederzuerkennen.',
  'field.tenant': 'Mandant',
  'field.role': 'Rolle',
  'field.status': 'Status',
  'field.product': 'Produkt',
  'field.entitlements': 'Berechtigungen',
  'field.expiresAt': 'Gültig bis',
  'field.reason': 'Grund',
  'field.connection': 'Verbindung',
  'field.kind': 'Art',

  'error.unexpected': 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
  'error.bad_request': 'Die Eingaben sind unvollständig oder ungültig.',
  'error.unauthenticated': 'Sie sind nicht (mehr) angemeldet. Bitte melden Sie sich an.',
  'error.second_factor_required': 'Bitte bestätigen Sie die Anmeldung mit Ihrem zweiten Faktor.',
  'error.enrolment_required': 'Bitte richten Sie zuerst einen zweiten Faktor ein.',
  'error.reauth_required': 'Bitte bestätigen Sie diese Änderung mit Passwort und Code.',
  'error.forbidden': 'Dafür fehlt Ihnen die Berechtigung.',
  'error.not_found': 'Nicht gefunden.',
  'error.conflict': 'Das geht im aktuellen Zustand nicht.',
  'error.csrf': 'Die Sitzung hat sich geändert. Bitte laden Sie die Seite neu.',
  'error.throttled': 'Zu viele Versuche. Bitte warten Sie kurz und versuchen Sie es dann erneut.',
  'error.throttledWait': 'Zu viele Versuche. Bitte versuchen Sie es in {time} erneut.',
  'error.retryNow': 'Sie können es jetzt erneut versuchen.',
  'error.locked_out':
    'Das Konto ist nach zu vielen Fehlversuchen vorübergehend gesperrt. Bitte versuchen Sie es später erneut.',
  'error.lockedOutWait':
    'Das Konto ist nach zu vielen Fehlversuchen vorübergehend gesperrt. Nächster Versuch in {time} möglich.',
  'error.invalid_credentials': 'E-Mail-Adresse oder Passwort ist falsch.',
  'error.invalid_code': 'Der Code ist falsch oder abgelaufen.',
  'error.weak_password': 'Dieses Passwort ist zu schwach.',
  'error.invitation_invalid':
    'Diese Einladung ist ungültig, abgelaufen oder wurde schon verwendet.',
  'error.invitation_replaced':
    'Diese Einladung wurde erneut versendet und gilt nicht mehr. Öffnen Sie den Link aus der neuesten Einladungs-E-Mail.',
  'error.webhook_secret_invalid':
    'Das Webhook-Secret ist zu kurz oder ungültig. Verwenden Sie das Secret, das der Anbieter anzeigt (Base64, mindestens 24 Byte, mit oder ohne „whsec_“).',
  'error.email_taken':
    'Zu dieser E-Mail-Adresse gibt es bereits ein Konto. Melden Sie sich mit diesem Konto an oder verwenden Sie eine andere Adresse.',
  'error.token_invalid':
    'Dieser Link ist ungültig oder abgelaufen. Bitte fordern Sie einen neuen an.',
  'error.license_not_active':
    'Die Lizenz ist noch nicht aktiviert. Zugangsdaten können erst danach hinterlegt werden.',
  'error.upstream_unavailable':
    'Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
  'error.internal': 'Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.',

  // Refused fields (`fields[].reason` of a problem, FIELD_REASONS): what to do, never zod's text.
  'problem.label.email': 'E-Mail-Adresse',
  'problem.label.password': 'Passwort',
  'problem.label.code': 'Code',
  'problem.label.name': 'Name',
  'problem.label.phone': 'Telefonnummer',
  'problem.label.url': 'URL',
  'problem.label.startsAt': 'Beginn',
  'problem.label.endsAt': 'Ende',
  'problem.label.title': 'Titel',
  'problem.label.body': 'Text',
  'problem.label.components': 'Komponenten',
  'problem.label.address': 'Server-Adresse',
  'problem.label.directory': 'ACME-Verzeichnis',
  'problem.label.role': 'Rolle',
  'problem.label.purpose': 'Zweck',
  'problem.label.product': 'Produkt',
  'problem.label.entitlements': 'Berechtigungen',
  'problem.label.expiresAt': 'Ablaufdatum',
  'problem.label.reason': 'Grund',
  'problem.label.label': 'Bezeichnung',
  'problem.label.severity': 'Schweregrad',
  'problem.label.publishedAt': 'Veröffentlichung',
  'problem.label.other': 'Eingabe',
  'problem.reason.required': 'Bitte füllen Sie das Feld „{field}“ aus.',
  'problem.reason.too_short': 'Die Eingabe bei „{field}“ ist zu kurz. Bitte ergänzen Sie sie.',
  'problem.reason.too_long': 'Die Eingabe bei „{field}“ ist zu lang. Bitte kürzen Sie sie.',
  'problem.reason.invalid_format':
    'Die Eingabe bei „{field}“ hat nicht das erwartete Format. Bitte prüfen Sie sie.',
  'problem.reason.invalid_email':
    'Bitte geben Sie bei „{field}“ eine gültige E-Mail-Adresse ein, z. B. name@firma.de.',
  'problem.reason.invalid_url':
    'Bitte geben Sie bei „{field}“ eine vollständige Adresse ein, die mit https:// beginnt.',
  'problem.reason.invalid_time':
    'Bitte geben Sie bei „{field}“ ein gültiges Datum mit Uhrzeit ein.',
  'problem.reason.invalid_choice': 'Bitte wählen Sie bei „{field}“ einen der angebotenen Werte.',
  'problem.reason.invalid_type':
    'Die Eingabe bei „{field}“ wurde nicht verstanden. Bitte laden Sie die Seite neu und versuchen Sie es erneut.',
  'problem.reason.unknown_field':
    'Die Anfrage enthält ein unbekanntes Feld. Bitte laden Sie die Seite neu und versuchen Sie es erneut.',
  'problem.reason.out_of_range':
    'Der Wert bei „{field}“ liegt außerhalb des erlaubten Bereichs. Bitte passen Sie ihn an.',
  'problem.reason.not_after_start': 'Das Ende muss nach dem Beginn liegen.',
  'problem.reason.window_too_long':
    'Ein Wartungsfenster dauert höchstens 31 Tage. Bitte wählen Sie ein früheres Ende.',
  'problem.reason.internal_address':
    'Interne Adressen (localhost, private Netze) sind nicht erlaubt. Geben Sie eine öffentlich erreichbare HTTPS-Adresse an.',
  'problem.reason.https_required': 'Die Adresse muss mit https:// beginnen.',
  'problem.reason.url_credentials':
    'Die Adresse darf keinen Benutzernamen und kein Passwort enthalten. Bitte entfernen Sie diese.',
  'problem.reason.url_fragment':
    'Die Adresse darf keinen Anker (#…) enthalten. Bitte entfernen Sie ihn.',
  'problem.reason.host_name_only':
    'Geben Sie nur den Host-Namen ein – ohne https://, Port oder Pfad, z. B. portal.firma.de.',
  'problem.reason.domain_name_required':
    'Geben Sie einen Domainnamen ein, z. B. portal.firma.de. IP-Adressen und Platzhalter (*) sind nicht möglich.',
  'problem.reason.not_allowed':
    'Der Wert bei „{field}“ ist hier nicht möglich. Bitte wählen Sie einen anderen.',
  'problem.reason.not_configured':
    'Der Wert bei „{field}“ ist nicht eingerichtet. Bitte wählen Sie einen der angebotenen Werte.',
  'problem.reason.weak_password_too_short':
    'Das Passwort muss mindestens 12 Zeichen lang sein. Ein Satz aus mehreren Wörtern lässt sich gut merken.',
  'problem.reason.weak_password_too_long': 'Das Passwort darf höchstens 128 Zeichen lang sein.',
  'problem.reason.weak_password_common':
    'Dieses Passwort ist zu verbreitet oder leicht zu erraten. Bitte wählen Sie ein anderes, z. B. einen Satz aus mehreren Wörtern.',
  'problem.reason.weak_password_contains_identity':
    'Das Passwort darf weder Ihren Namen noch Ihre E-Mail-Adresse enthalten. Bitte wählen Sie ein anderes.',
  'problem.reason.invalid': 'Bitte prüfen Sie die Eingabe bei „{field}“.',
  'problem.field.code.required': 'Bitte geben Sie den Code ein.',
  'problem.field.code.invalid_format':
    'Der Code besteht aus 6 bis 24 Buchstaben, Ziffern oder Bindestrichen.',
  'problem.field.phone.invalid_format':
    'Geben Sie die Telefonnummer international und ohne Leerzeichen ein, z. B. +491701234567.',
  'error.role_changed':
    'Die Rolle oder der Status der Person hat sich seit der Anfrage geändert. Die Anfrage bleibt offen; bitte prüfen Sie sie erneut oder lehnen Sie sie ab.',
  'error.erasure_scheduled':
    'Für dieses Konto ist eine Löschung geplant. Brechen Sie zuerst die Löschung ab; dann erhält das Konto seinen vorherigen Status zurück.',
  'error.delivery_in_progress':
    'Diese Zustellung läuft gerade. Warten Sie das Ergebnis ab und stellen Sie erst danach erneut zu.',

  'role.customer': 'Kunde',
  'role.key-user': 'Key-User',
  'role.partner': 'Partner',
  'role.administrator': 'Administrator',

  'factor.totp': 'Authenticator-App',
  'factor.email': 'E-Mail-Code',
  'factor.sms': 'SMS-Code',
  'factor.passkey': 'Passkey',

  'status.issued': 'Ausgestellt',
  'status.active': 'Aktiv',
  'status.locked': 'Gesperrt',
  'status.expired': 'Abgelaufen',

  'userStatus.active': 'Aktiv',
  'userStatus.disabled': 'Deaktiviert',

  'password.hint':
    'Mindestens 12 Zeichen. Eine Passphrase aus mehreren Wörtern ist ideal – Sonderzeichen sind nicht nötig.',

  'passkey.cancelled': 'Der Vorgang wurde abgebrochen oder ist abgelaufen.',
  'passkey.unsupported': 'Dieser Browser oder dieses Gerät unterstützt hier keinen Passkey.',

  'recovery.explain':
    'Mit diesen Codes kommen Sie in Ihr Konto, wenn Sie keinen Zugriff auf Ihren zweiten Faktor haben (z. B. Handy verloren). Jeder Code gilt genau einmal.',
  'recovery.once':
    'Die Codes werden nur jetzt angezeigt. Drucken Sie sie aus oder legen Sie sie in Ihrem Passwort-Manager ab.',
  'recovery.saved': 'Ich habe die Codes gespeichert',

  'devMail.bannerLabel': 'Demo-Hinweis',
  'devMail.banner':
    'Demo-Betrieb: Das Portal verschickt keine E-Mails. Einladungen, Links zum Zurücksetzen und Codes lesen Sie in der E-Mail-Ansicht.',
  'devMail.bannerLink': 'Demo-E-Mails ansehen',

  'dashboard.hello': 'Hallo, {name}',

  'forbidden.title': 'Kein Zugriff',
  'forbidden.text': 'Für diese Seite fehlt Ihnen die Berechtigung.',
  'notFound.title': 'Seite nicht gefunden',
  'notFound.text': 'Diese Adresse gibt es im Portal nicht.',
  'notFound.back': 'Zur Startseite',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof de;

export const en: Record<MessageKey, string> = {
  'app.name': 'Fluxel Portal',
  'lang.label': 'Language',

  'nav.skip': 'Skip to content',
  'nav.label': 'Main navigation',
  'nav.dashboard': 'Overview',
  'nav.licenses': 'Licenses',
  'nav.users': 'Users',
  'nav.audit': 'Audit log',
  'nav.alerts': 'Alerts',
  'nav.adv': 'DPA',
  'nav.privacy': 'Privacy',
  'nav.certificates': 'Certificates',
  'nav.partner': 'Partner API & webhooks',
  'nav.status': 'System status',
  'nav.security': 'Security & profile',
  'nav.onboarding': 'Partner registrations',
  'nav.certification': 'Certification',
  'nav.rights': 'Request rights',
  'nav.signOut': 'Sign out',

  'common.loading': 'Loading …',
  'common.retry': 'Try again',
  'common.cancel': 'Cancel',
  'common.save': 'Save',
  'common.done': 'Done',
  'common.copy': 'Copy',
  'common.copied': 'Copied to the clipboard.',
  'common.choose': 'Please choose …',
  'common.actions': 'Actions',
  'common.refresh': 'Refresh',
  'common.toLogin': 'Go to sign-in',
  'common.shownOnce': 'Shown this one time only – please store it safely now.',

  'time.second': '1 second',
  'time.seconds': '{n} seconds',
  'time.minutes': '{n} minutes',
  'time.hours': '{n} hours',

  'field.email': 'E-mail address',
  'field.password': 'Password',
  'field.currentPassword': 'Current password',
  'field.newPassword': 'New password',
  'field.newEmail': 'New e-mail address',
  'field.name': 'Name',
  'field.locale': 'Language',
  'field.code': 'Code',
  'field.recoveryCode': 'Recovery code',
  'field.phone': 'Mobile number',
  'field.factorLabel': 'Label',
  'field.factorLabelHint': 'Optional, e.g. “work phone” – helps you recognise the factor later.',
  'field.tenant': 'Tenant',
  'field.role': 'Role',
  'field.status': 'Status',
  'field.product': 'Product',
  'field.entitlements': 'Entitlements',
  'field.expiresAt': 'Valid until',
  'field.reason': 'Reason',
  'field.connection': 'Connection',
  'field.kind': 'Kind',

  'error.unexpected': 'Something went wrong. Please try again.',
  'error.bad_request': 'Some input is missing or invalid.',
  'error.unauthenticated': 'You are not signed in (any more). Please sign in.',
  'error.second_factor_required': 'Please confirm the sign-in with your second factor.',
  'error.enrolment_required': 'Please set up a second factor first.',
  'error.reauth_required': 'Please confirm this change with your password and a code.',
  'error.forbidden': 'You do not have permission to do that.',
  'error.not_found': 'Not found.',
  'error.conflict': 'That is not possible in the current state.',
  'error.csrf': 'Your session changed. Please reload the page.',
  'error.throttled': 'Too many attempts. Please wait a moment and try again.',
  'error.throttledWait': 'Too many attempts. Please try again in {time}.',
  'error.retryNow': 'You can try again now.',
  'error.locked_out':
    'The account is temporarily locked after too many failed attempts. Please try again later.',
  'error.lockedOutWait':
    'The account is temporarily locked after too many failed attempts. You can try again in {time}.',
  'error.invalid_credentials': 'E-mail address or password is wrong.',
  'error.invalid_code': 'The code is wrong or has expired.',
  'error.weak_password': 'This password is too weak.',
  'error.invitation_invalid': 'This invitation is invalid, has expired or has already been used.',
  'error.invitation_replaced':
    'This invitation was sent again and is no longer valid. Open the link in the most recent invitation e-mail.',
  'error.webhook_secret_invalid':
    'The webhook secret is too short or invalid. Use the secret the provider shows (base64, at least 24 bytes, with or without "whsec_").',
  'error.email_taken':
    'An account with this e-mail address exists already. Sign in with that account or use a different address.',
  'error.token_invalid': 'This link is invalid or has expired. Please request a new one.',
  'error.license_not_active':
    'The license is not activated yet. Credentials can be stored only after activation.',
  'error.upstream_unavailable': 'The service is unavailable right now. Please try again shortly.',
  'error.internal': 'An internal error occurred. Please try again later.',

  // Refused fields (`fields[].reason` of a problem, FIELD_REASONS): what to do, never zod's text.
  'problem.label.email': 'E-mail address',
  'problem.label.password': 'Password',
  'problem.label.code': 'Code',
  'problem.label.name': 'Name',
  'problem.label.phone': 'Phone number',
  'problem.label.url': 'URL',
  'problem.label.startsAt': 'Start',
  'problem.label.endsAt': 'End',
  'problem.label.title': 'Title',
  'problem.label.body': 'Text',
  'problem.label.components': 'Components',
  'problem.label.address': 'Server address',
  'problem.label.directory': 'ACME directory',
  'problem.label.role': 'Role',
  'problem.label.purpose': 'Purpose',
  'problem.label.product': 'Product',
  'problem.label.entitlements': 'Entitlements',
  'problem.label.expiresAt': 'Expiry date',
  'problem.label.reason': 'Reason',
  'problem.label.label': 'Label',
  'problem.label.severity': 'Severity',
  'problem.label.publishedAt': 'Publication',
  'problem.label.other': 'Input',
  'problem.reason.required': 'Please fill in "{field}".',
  'problem.reason.too_short': 'The entry for "{field}" is too short. Please add to it.',
  'problem.reason.too_long': 'The entry for "{field}" is too long. Please shorten it.',
  'problem.reason.invalid_format':
    'The entry for "{field}" does not have the expected format. Please check it.',
  'problem.reason.invalid_email':
    'Please enter a valid e-mail address for "{field}", e.g. name@company.com.',
  'problem.reason.invalid_url':
    'Please enter a complete address starting with https:// for "{field}".',
  'problem.reason.invalid_time': 'Please enter a valid date and time for "{field}".',
  'problem.reason.invalid_choice': 'Please choose one of the offered values for "{field}".',
  'problem.reason.invalid_type':
    'The entry for "{field}" was not understood. Please reload the page and try again.',
  'problem.reason.unknown_field':
    'The request contains an unknown field. Please reload the page and try again.',
  'problem.reason.out_of_range':
    'The value of "{field}" is outside the allowed range. Please adjust it.',
  'problem.reason.not_after_start': 'The end must be after the start.',
  'problem.reason.window_too_long':
    'A maintenance window lasts at most 31 days. Please choose an earlier end.',
  'problem.reason.internal_address':
    'Internal addresses (localhost, private networks) are not allowed. Enter a publicly reachable HTTPS address.',
  'problem.reason.https_required': 'The address must start with https://.',
  'problem.reason.url_credentials':
    'The address must not contain a user name or password. Please remove them.',
  'problem.reason.url_fragment': 'The address must not contain an anchor (#…). Please remove it.',
  'problem.reason.host_name_only':
    'Enter only the host name – without https://, port or path, e.g. portal.company.com.',
  'problem.reason.domain_name_required':
    'Enter a domain name, e.g. portal.company.com. IP addresses and wildcards (*) are not possible.',
  'problem.reason.not_allowed':
    'The value of "{field}" is not possible here. Please choose another.',
  'problem.reason.not_configured':
    'The value of "{field}" is not set up. Please choose one of the offered values.',
  'problem.reason.weak_password_too_short':
    'The password must be at least 12 characters long. A sentence of several words is easy to remember.',
  'problem.reason.weak_password_too_long': 'The password may be at most 128 characters long.',
  'problem.reason.weak_password_common':
    'This password is too common or easy to guess. Please choose another, e.g. a sentence of several words.',
  'problem.reason.weak_password_contains_identity':
    'The password must not contain your name or your e-mail address. Please choose another.',
  'problem.reason.invalid': 'Please check the entry for "{field}".',
  'problem.field.code.required': 'Please enter the code.',
  'problem.field.code.invalid_format': 'The code consists of 6 to 24 letters, digits or hyphens.',
  'problem.field.phone.invalid_format':
    'Enter the phone number in international format without spaces, e.g. +441234567890.',
  'error.role_changed':
    "The person's role or status has changed since the request. The request stays open; please review it again or reject it.",
  'error.erasure_scheduled':
    'An erasure is scheduled for this account. Cancel the erasure first; that gives the account its previous status back.',
  'error.delivery_in_progress':
    'This delivery is being attempted right now. Wait for the result before redelivering.',

  'role.customer': 'Customer',
  'role.key-user': 'Key user',
  'role.partner': 'Partner',
  'role.administrator': 'Administrator',

  'factor.totp': 'Authenticator app',
  'factor.email': 'E-mail code',
  'factor.sms': 'SMS code',
  'factor.passkey': 'Passkey',

  'status.issued': 'Issued',
  'status.active': 'Active',
  'status.locked': 'Locked',
  'status.expired': 'Expired',

  'userStatus.active': 'Active',
  'userStatus.disabled': 'Disabled',

  'password.hint':
    'At least 12 characters. A passphrase of several words is ideal – special characters are not required.',

  'passkey.cancelled': 'The request was cancelled or timed out.',
  'passkey.unsupported': 'This browser or device does not support a passkey here.',

  'recovery.explain':
    'These codes get you into your account when you cannot use your second factor (a lost phone, say). Each code works exactly once.',
  'recovery.once':
    'The codes are shown only now. Print them or store them in your password manager.',
  'recovery.saved': 'I have saved the codes',

  'devMail.bannerLabel': 'Demo notice',
  'devMail.banner':
    'Demo mode: the portal sends no e-mail. Read invitations, reset links and codes in the mail viewer.',
  'devMail.bannerLink': 'View demo e-mails',

  'dashboard.hello': 'Hello, {name}',

  'forbidden.title': 'No access',
  'forbidden.text': 'You do not have permission for this page.',
  'notFound.title': 'Page not found',
  'notFound.text': 'This address does not exist in the portal.',
  'notFound.back': 'To the start page',
};

export const dictionaries: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = {
  de,
  en,
};

export type Translate = (
  key: MessageKey,
  vars?: Readonly<Record<string, string | number>>,
) => string;

export function isLocale(value: string): value is Locale {
  return value === 'de' || value === 'en';
}

/** Looks `key` up for `locale` and fills in `{name}` variables. */
export function translate(
  locale: Locale,
  key: MessageKey,
  vars?: Readonly<Record<string, string | number>>,
): string {
  const text = dictionaries[locale][key] ?? de[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : String(value);
  });
}

/** A `t(key, vars)` bound to one language. */
export function makeTranslate(locale: Locale): Translate {
  return (key, vars) => translate(locale, key, vars);
}
