/**
 * Texts of the partner onboarding pages (registration, e-mail confirmation, review,
 * certification checklist), German and English with the same keys
 * (the type checks it). Kept beside the pages so the shared dictionary stays small.
 */
import { defineMessages, labelOf, type MessageVars } from '../../messages.ts';

export const onboardingMessages = defineMessages({
  de: {
    // registration (public)
    'signup.title': 'Als Integrationspartner registrieren',
    'signup.intro':
      'Registrieren Sie Ihr Unternehmen als Integrationspartner. Nach der Bestätigung Ihrer E-Mail-Adresse prüfen wir die Angaben; nach der Freigabe erhalten Sie eine Einladung, Sandbox-Zugangsdaten und die Zertifizierungs-Checkliste.',
    'signup.company': 'Unternehmen',
    'signup.companyName': 'Firmenname',
    'signup.companyAddress': 'Anschrift',
    'signup.website': 'Website (optional)',
    'signup.websiteHint': 'Mit https://',
    'signup.contact': 'Ansprechperson',
    'signup.contactName': 'Name',
    'signup.contactEmail': 'E-Mail-Adresse',
    'signup.contactEmailHint':
      'An diese Adresse schicken wir den Bestätigungslink und später die Einladung.',
    'signup.terms': 'Partnerbedingungen (Fassung {version})',
    'signup.adv': 'AV-Vertrag (Fassung {version})',
    'signup.acceptTerms':
      'Ich habe die Partnerbedingungen gelesen und nehme sie für das Unternehmen an.',
    'signup.acceptAdv':
      'Ich habe den AV-Vertrag gelesen und nehme ihn für das Unternehmen an (Zeitpunkt, Fassung, Textprüfsumme und IP-Adresse werden protokolliert).',
    'signup.submit': 'Registrierung absenden',
    'signup.sent':
      'Fast geschafft: Wir haben Ihnen eine E-Mail geschickt. Bitte bestätigen Sie Ihre Adresse über den Link darin (24 Stunden gültig).',
    'signup.toLogin': 'Zur Anmeldung',
    'verify.title': 'E-Mail-Adresse bestätigen',
    'verify.intro': 'Bitte bestätigen Sie Ihre E-Mail-Adresse für die Partner-Registrierung.',
    'verify.submit': 'Adresse bestätigen',
    'verify.done':
      'Danke! Ihre Registrierung liegt jetzt zur Prüfung vor. Sie erhalten eine E-Mail, sobald sie entschieden ist.',

    // review (administrators)
    'review.title': 'Partner-Registrierungen',
    'review.intro':
      'Bestätigte Registrierungen prüfen und freigeben oder ablehnen. Die Freigabe legt Mandant, Sandbox-API-Zugang und Webhook-Schlüssel an und lädt die Ansprechperson ein.',
    'review.queue': 'Eingegangene Registrierungen',
    'review.filter': 'Status',
    'review.empty': 'Keine Registrierungen in diesem Status.',
    'review.caption': 'Partner-Registrierungen',
    'review.company': 'Unternehmen',
    'review.contact': 'Ansprechperson',
    'review.submitted': 'Eingegangen',
    'review.status': 'Status',
    'review.approve': 'Freigeben',
    'review.approveLabel': '{name} freigeben',
    'review.reject': 'Ablehnen',
    'review.rejectLabel': '{name} ablehnen',
    'review.reason': 'Begründung der Ablehnung',
    'review.approved': '{name} ist freigegeben; die Einladung ist verschickt.',
    'review.rejected': '{name} ist abgelehnt; die Begründung ist verschickt.',
    'review.partners': 'Zertifizierung der Partner',
    'review.partnersEmpty': 'Noch keine freigegebenen Partner.',
    'review.partnersCaption': 'Freigegebene Partner',
    'review.partner': 'Partner',
    'review.certified': 'Zertifiziert',
    'review.notCertified': 'Nicht zertifiziert',
    'review.scopes': 'Scopes',
    'review.grant': 'Produktive Scopes erteilen',
    'review.grantLabel': 'Produktive Scopes für {name} erteilen',
    'review.granted': 'Produktive Scopes für {name} erteilt.',
    'status.unverified': 'E-Mail unbestätigt',
    'status.pending': 'Zur Prüfung',
    'status.approved': 'Freigegeben',
    'status.rejected': 'Abgelehnt',

    // checklist (partners)
    'cert.title': 'Zertifizierung',
    'cert.intro':
      'Weisen Sie mit Ihrem System gegen unsere Sandbox nach, dass Sie signierte Webhooks senden und empfangen können. Sind beide Schritte bestanden, ist Ihr Zugang zertifiziert und ein Administrator kann produktive Berechtigungen erteilen.',
    'cert.notOnboarded': 'Dieser Mandant wurde nicht über die Partner-Registrierung angelegt.',
    'cert.credentials': 'Sandbox-Zugangsdaten',
    'cert.reveal': 'Zugangsdaten anzeigen',
    'cert.revealHint':
      'Client-Secret und Webhook-Signaturschlüssel werden genau einmal angezeigt und nirgends im Klartext gespeichert.',
    'cert.revealed': 'Die Zugangsdaten wurden bereits angezeigt.',
    'cert.clientId': 'Client-ID',
    'cert.clientSecret': 'Client-Secret',
    'cert.webhookSecret': 'Webhook-Signaturschlüssel (Standard Webhooks)',
    'cert.tokenUrl': 'Token-Endpunkt',
    'cert.sandboxUrl': 'Sandbox-Endpunkt',
    'cert.steps': 'Checkliste',
    'cert.step.inbound': '(a) Ihr System sendet ein signiertes Test-Ereignis an die Sandbox',
    'cert.step.inboundHow':
      'Token holen (grant_type=client_credentials, Scope sandbox), dann POST an den Sandbox-Endpunkt mit {"type":"certification.test","timestamp":"…","data":{…}} und den Kopfzeilen webhook-id, webhook-timestamp, webhook-signature (HMAC-SHA256 mit Ihrem Signaturschlüssel).',
    'cert.step.outbound': '(b) Das Portal sendet ein signiertes Test-Ereignis an Ihren Webhook',
    'cert.step.outboundHow':
      'Tragen Sie die https-Adresse Ihres Empfängers ein; er prüft die Signatur und antwortet mit 2xx.',
    'cert.webhookUrl': 'Webhook-URL (https)',
    'cert.saveUrl': 'URL speichern',
    'cert.urlSaved': 'Webhook-URL gespeichert.',
    'cert.send': 'Test-Ereignis senden',
    'cert.refresh': 'Status aktualisieren',
    'cert.state.open': 'Offen',
    'cert.state.passed': 'Bestanden',
    'cert.state.failed': 'Fehlgeschlagen',
    'cert.at': 'Zuletzt: {date}',
    'cert.certified': 'Zertifiziert seit {date}.',
    'cert.notCertified': 'Noch nicht zertifiziert.',
    'cert.production': 'Produktive Scopes erteilt am {date}.',
    'cert.code.signature_valid': 'Das Test-Ereignis kam korrekt signiert an.',
    'cert.code.invalid_signature':
      'Die Signatur passt nicht: Signieren Sie mit dem Webhook-Signaturschlüssel aus den Zugangsdaten.',
    'cert.code.stale_timestamp':
      'Der Zeitstempel ist zu alt oder liegt in der Zukunft: Prüfen Sie die Uhr Ihres Systems und senden Sie ein neues Ereignis.',
    'cert.code.headers_missing':
      'Es fehlen Header: Senden Sie webhook-id, webhook-timestamp und webhook-signature mit.',
    'cert.code.receiver_accepted': 'Ihr Webhook hat das Test-Ereignis angenommen (HTTP {status}).',
    'cert.code.receiver_refused':
      'Ihr Webhook hat mit HTTP {status} geantwortet; erwartet wird eine Antwort 2xx.',
    'cert.code.target_refused':
      'Diese Webhook-URL ist nicht erlaubt (z. B. eine interne Adresse): Hinterlegen Sie eine öffentliche https-Adresse.',
    'cert.code.unreachable':
      'Ihr Webhook war nicht erreichbar: Prüfen Sie Adresse, DNS und Firewall.',
    'cert.code.timeout': 'Ihr Webhook hat nicht rechtzeitig geantwortet.',
    'cert.code.tls_failed':
      'Die TLS-Verbindung zu Ihrem Webhook ist fehlgeschlagen: Prüfen Sie das Zertifikat des Servers.',
    'cert.code.delivery_failed': 'Das Test-Ereignis konnte nicht zugestellt werden.',
  },
  en: {
    'signup.title': 'Register as an integration partner',
    'signup.intro':
      'Register your company as an integration partner. Once you confirm your e-mail address we review the details; after approval you get an invitation, sandbox credentials and the certification checklist.',
    'signup.company': 'Company',
    'signup.companyName': 'Company name',
    'signup.companyAddress': 'Address',
    'signup.website': 'Website (optional)',
    'signup.websiteHint': 'With https://',
    'signup.contact': 'Contact person',
    'signup.contactName': 'Name',
    'signup.contactEmail': 'E-mail address',
    'signup.contactEmailHint':
      'We send the confirmation link and later the invitation to this address.',
    'signup.terms': 'Partner terms (version {version})',
    'signup.adv': 'Data processing agreement (version {version})',
    'signup.acceptTerms': 'I have read the partner terms and accept them for the company.',
    'signup.acceptAdv':
      'I have read the data processing agreement and accept it for the company (time, version, text checksum and IP address are recorded).',
    'signup.submit': 'Send registration',
    'signup.sent':
      'Almost done: we have sent you an e-mail. Please confirm your address with the link in it (valid for 24 hours).',
    'signup.toLogin': 'To sign-in',
    'verify.title': 'Confirm your e-mail address',
    'verify.intro': 'Please confirm your e-mail address for the partner registration.',
    'verify.submit': 'Confirm address',
    'verify.done':
      'Thank you! Your registration now awaits review. You will get an e-mail once it is decided.',

    'review.title': 'Partner registrations',
    'review.intro':
      'Review confirmed registrations and approve or reject them. Approval creates the tenant, the sandbox API client and the webhook secret and invites the contact person.',
    'review.queue': 'Incoming registrations',
    'review.filter': 'Status',
    'review.empty': 'No registrations in this state.',
    'review.caption': 'Partner registrations',
    'review.company': 'Company',
    'review.contact': 'Contact person',
    'review.submitted': 'Received',
    'review.status': 'Status',
    'review.approve': 'Approve',
    'review.approveLabel': 'Approve {name}',
    'review.reject': 'Reject',
    'review.rejectLabel': 'Reject {name}',
    'review.reason': 'Reason for the rejection',
    'review.approved': '{name} is approved; the invitation is on its way.',
    'review.rejected': '{name} is rejected; the reason has been sent.',
    'review.partners': 'Partner certification',
    'review.partnersEmpty': 'No approved partners yet.',
    'review.partnersCaption': 'Approved partners',
    'review.partner': 'Partner',
    'review.certified': 'Certified',
    'review.notCertified': 'Not certified',
    'review.scopes': 'Scopes',
    'review.grant': 'Grant production scopes',
    'review.grantLabel': 'Grant production scopes to {name}',
    'review.granted': 'Production scopes granted to {name}.',
    'status.unverified': 'E-mail unconfirmed',
    'status.pending': 'To review',
    'status.approved': 'Approved',
    'status.rejected': 'Rejected',

    'cert.title': 'Certification',
    'cert.intro':
      'Show with your system against our sandbox that you can send and receive signed webhooks. Once both steps pass, your access is certified and an administrator can grant production permissions.',
    'cert.notOnboarded': 'This tenant was not created through the partner registration.',
    'cert.credentials': 'Sandbox credentials',
    'cert.reveal': 'Show credentials',
    'cert.revealHint':
      'The client secret and the webhook signing secret are shown exactly once and stored nowhere in clear.',
    'cert.revealed': 'The credentials have already been shown.',
    'cert.clientId': 'Client ID',
    'cert.clientSecret': 'Client secret',
    'cert.webhookSecret': 'Webhook signing secret (Standard Webhooks)',
    'cert.tokenUrl': 'Token endpoint',
    'cert.sandboxUrl': 'Sandbox endpoint',
    'cert.steps': 'Checklist',
    'cert.step.inbound': '(a) Your system sends a signed test event to the sandbox',
    'cert.step.inboundHow':
      'Get a token (grant_type=client_credentials, scope sandbox), then POST to the sandbox endpoint {"type":"certification.test","timestamp":"…","data":{…}} with the headers webhook-id, webhook-timestamp, webhook-signature (HMAC-SHA256 with your signing secret).',
    'cert.step.outbound': '(b) The portal sends a signed test event to your webhook',
    'cert.step.outboundHow':
      'Enter the https address of your receiver; it checks the signature and answers 2xx.',
    'cert.webhookUrl': 'Webhook URL (https)',
    'cert.saveUrl': 'Save URL',
    'cert.urlSaved': 'Webhook URL saved.',
    'cert.send': 'Send test event',
    'cert.refresh': 'Refresh state',
    'cert.state.open': 'Open',
    'cert.state.passed': 'Passed',
    'cert.state.failed': 'Failed',
    'cert.at': 'Last: {date}',
    'cert.certified': 'Certified since {date}.',
    'cert.notCertified': 'Not certified yet.',
    'cert.production': 'Production scopes granted on {date}.',
    'cert.code.signature_valid': 'The test event arrived correctly signed.',
    'cert.code.invalid_signature':
      'The signature does not match: sign with the webhook signing secret from the credentials.',
    'cert.code.stale_timestamp':
      'The timestamp is too old or in the future: check your system clock and send a new event.',
    'cert.code.headers_missing':
      'Headers are missing: send webhook-id, webhook-timestamp and webhook-signature.',
    'cert.code.receiver_accepted': 'Your webhook accepted the test event (HTTP {status}).',
    'cert.code.receiver_refused': 'Your webhook answered HTTP {status}; a 2xx answer is expected.',
    'cert.code.target_refused':
      'This webhook URL is not allowed (for example an internal address): enter a public https address.',
    'cert.code.unreachable':
      'Your webhook could not be reached: check the address, DNS and firewall.',
    'cert.code.timeout': 'Your webhook did not answer in time.',
    'cert.code.tls_failed':
      "The TLS connection to your webhook failed: check the server's certificate.",
    'cert.code.delivery_failed': 'The test event could not be delivered.',
  },
});

export type OnboardingKey = keyof typeof onboardingMessages.de;
export type OnboardingT = (key: OnboardingKey, vars?: MessageVars) => string;

/** A dynamic key's text (`status.<s>`, `cert.state.<s>`, …), else the raw value. */
export function onboardingLabel(t: OnboardingT, prefix: string, value: string): string {
  return labelOf(onboardingMessages, t, prefix, value);
}
