/**
 * Texts of the certificates page (German and English, the same keys; `{name}` marks a
 * variable). Kept beside the page so the shared dictionary stays untouched.
 */
import { defineMessages, type MessageVars } from '../../messages.ts';

export const certificatesMessages = defineMessages({
  de: {
    title: 'Zertifikate',
    intro:
      'Das TLS-Zertifikat des Portals von Let’s Encrypt (ACME, HTTP-01): öffentliche Server-Adresse und Kontakt-E-Mail eingeben, Zertifikat anfordern – es wird sofort installiert, ohne Neustart, und vor Ablauf automatisch erneuert.',

    'state.label': 'TLS-Status',
    'state.development': 'Entwicklungszertifikat – nicht öffentlich vertrauenswürdig',
    'state.active': 'Aktiv – gültiges Zertifikat installiert',
    'state.expiring': 'Läuft bald ab – die Erneuerung ist fällig',
    'state.expired': 'Abgelaufen',
    'state.renewal': 'Automatische Erneuerung: {date}',
    'state.renewalOff': 'Automatische Erneuerung: aus (kein Zertifikat installiert)',

    'settings.title': 'Einstellungen',
    'settings.address': 'Öffentliche Server-Adresse',
    'settings.addressHint':
      'Nur der Domainname, z. B. portal.meinefirma.de – ohne https://, ohne Port. Eine IP-Adresse reicht nicht.',
    'settings.email': 'Zertifizierungs-Kontakt (E-Mail)',
    'settings.emailHint':
      'Für das Let’s-Encrypt-Konto (wird automatisch angelegt). Muss nicht zur Domain gehören.',
    'settings.directory': 'ACME-Verzeichnis',
    'settings.directory.production': 'Let’s Encrypt (Produktion)',
    'settings.directory.staging': 'Let’s Encrypt Staging (Test, nicht vertrauenswürdig)',
    'settings.directory.custom': 'Eigenes ACME-Verzeichnis ({url})',
    'settings.save': 'Speichern',
    'settings.saved': 'Einstellungen gespeichert.',
    'settings.request': 'Zertifikat anfordern/erneuern',
    'settings.requestHint':
      'Nur aktiv, wenn öffentliche Server-Adresse und Kontakt-E-Mail angegeben sind.',

    'port.title': 'Voraussetzung: Port 80 weiterleiten',
    'port.text':
      'Let’s Encrypt prüft die Domain mit einem HTTP-Aufruf auf Port 80 (http://<Adresse>/.well-known/acme-challenge/…). Das Portal beantwortet ihn auf Port {port}. Lassen Sie von Ihrer IT eine Weiterleitung von Port 80 auf diesen Port einrichten (und Port 443 auf den HTTPS-Port des Portals) und sorgen Sie dafür, dass die Domain im DNS auf Ihre öffentliche IP-Adresse zeigt.',

    'order.title': 'Fortschritt',
    'order.pending': 'Auftrag angelegt',
    'order.validating': 'Domain wird geprüft (HTTP-01)',
    'order.issuing': 'Zertifikat wird ausgestellt',
    'order.installed': 'Installiert – wird ab sofort ausgeliefert',
    'order.failed': 'Fehlgeschlagen',
    'order.running': 'Zertifikat für {domain} wird angefordert …',
    'order.done': 'Das Zertifikat für {domain} ist installiert und aktiv – ohne Neustart.',
    'order.failedFor': 'Die Anforderung für {domain} ist fehlgeschlagen.',
    // Why an order failed (`failure` of the order, ORDER_FAILURES); never the CA's raw text.
    'failure.interrupted':
      'Die Anforderung wurde unterbrochen, weil das Portal neu gestartet ist. Fordern Sie das Zertifikat erneut an.',
    'failure.listener_port':
      'Der Port für die HTTP-01-Prüfung ist belegt oder nicht freigegeben. Geben Sie ihn frei und versuchen Sie es erneut.',
    'failure.acme_unreachable':
      'Die Zertifizierungsstelle ist nicht erreichbar. Prüfen Sie die ACME-Adresse oder versuchen Sie es später erneut.',
    'failure.acme_rate_limited':
      'Die Zertifizierungsstelle lässt gerade keine weiteren Anforderungen zu. Versuchen Sie es später erneut.',
    'failure.acme_timeout':
      'Die Zertifizierungsstelle hat nicht rechtzeitig geantwortet. Versuchen Sie es später erneut.',
    'failure.validation_failed':
      'Die Zertifizierungsstelle konnte die Domain nicht prüfen. Prüfen Sie, ob die Adresse auf diesen Server zeigt und Port 80 erreichbar ist.',
    'failure.acme_refused':
      'Die Zertifizierungsstelle hat die Anforderung abgelehnt. Prüfen Sie Adresse und E-Mail-Adresse und versuchen Sie es erneut.',
    'failure.error':
      'Die Anforderung ist fehlgeschlagen. Versuchen Sie es erneut; die Einzelheiten stehen im Protokoll.',

    'current.title': 'Aktuelles Zertifikat',
    'current.source': 'Herkunft',
    'current.source.acme': 'ACME (Let’s Encrypt)',
    'current.source.development': 'Entwicklungszertifikat',
    'current.subject': 'Inhaber',
    'current.sans': 'Namen (SAN)',
    'current.issuer': 'Aussteller',
    'current.serial': 'Seriennummer',
    'current.notBefore': 'Gültig ab',
    'current.notAfter': 'Gültig bis',
    'current.daysLeft': 'Verbleibende Tage',
    'current.files': 'Dateien',
    'current.location': 'Ablage',
    'current.show': 'Details anzeigen',
    'current.hide': 'Details ausblenden',

    'evaluate.button': 'Evaluieren',
    'evaluate.running': 'HTTPS-Erreichbarkeit wird geprüft …',
    'evaluate.ok':
      'Alles in Ordnung: {url} ist per HTTPS erreichbar und liefert das installierte Zertifikat.',
    'evaluate.failed': 'Prüfung fehlgeschlagen: {url}',
    'evaluate.code.ok': 'In Ordnung.',
    'evaluate.code.not_configured': 'Es ist keine öffentliche Server-Adresse eingetragen.',
    'evaluate.code.untrusted': 'Das ausgelieferte Zertifikat ist nicht vertrauenswürdig.',
    'evaluate.code.name_mismatch': 'Das ausgelieferte Zertifikat passt nicht zur Adresse.',
    'evaluate.code.expired': 'Das ausgelieferte Zertifikat ist abgelaufen.',
    'evaluate.code.unreachable':
      'Der Server ist unter dieser Adresse nicht erreichbar (DNS, Port 443, Firewall prüfen).',
    'evaluate.code.timeout': 'Keine Antwort (Zeitüberschreitung).',
    'evaluate.code.not_installed': 'Für diese Adresse ist kein Zertifikat gespeichert.',
    'evaluate.code.mismatch': 'Der Server liefert ein anderes als das installierte Zertifikat.',
    'evaluate.code.error': 'Die Prüfung ist fehlgeschlagen.',

    'delete.button': 'Löschen',
    'delete.confirmText':
      'Zertifikat (cert.pem) und Schlüssel (key.pem) endgültig löschen? Das Portal liefert danach wieder das Entwicklungszertifikat aus, die automatische Erneuerung endet.',
    'delete.confirm': 'Endgültig löschen',
    'delete.done': 'Zertifikat gelöscht – das Entwicklungszertifikat ist wieder aktiv.',
    'delete.none': 'Es ist kein ACME-Zertifikat installiert.',
  },
  en: {
    title: 'Certificates',
    intro:
      'The portal’s TLS certificate from Let’s Encrypt (ACME, HTTP-01): enter the public server address and a contact e-mail, request the certificate — it is installed at once, without a restart, and renewed automatically before it expires.',

    'state.label': 'TLS status',
    'state.development': 'Development certificate — not publicly trusted',
    'state.active': 'Active — a valid certificate is installed',
    'state.expiring': 'Expiring soon — renewal is due',
    'state.expired': 'Expired',
    'state.renewal': 'Automatic renewal: {date}',
    'state.renewalOff': 'Automatic renewal: off (no certificate installed)',

    'settings.title': 'Settings',
    'settings.address': 'Public server address',
    'settings.addressHint':
      'The domain name only, e.g. portal.mycompany.com — no https://, no port. An IP address is not enough.',
    'settings.email': 'Certificate contact (e-mail)',
    'settings.emailHint':
      'For the Let’s Encrypt account (created automatically). It need not belong to the domain.',
    'settings.directory': 'ACME directory',
    'settings.directory.production': 'Let’s Encrypt (production)',
    'settings.directory.staging': 'Let’s Encrypt staging (testing, not trusted)',
    'settings.directory.custom': 'Custom ACME directory ({url})',
    'settings.save': 'Save',
    'settings.saved': 'Settings saved.',
    'settings.request': 'Request/renew certificate',
    'settings.requestHint':
      'Enabled only when the public server address and contact e-mail are set.',

    'port.title': 'Requirement: forward port 80',
    'port.text':
      'Let’s Encrypt verifies the domain with an HTTP request on port 80 (http://<address>/.well-known/acme-challenge/…). The portal answers it on port {port}. Have your IT forward port 80 to this port (and port 443 to the portal’s HTTPS port), and make sure the domain’s DNS points to your public IP address.',

    'order.title': 'Progress',
    'order.pending': 'Order created',
    'order.validating': 'Validating the domain (HTTP-01)',
    'order.issuing': 'Issuing the certificate',
    'order.installed': 'Installed — served from now on',
    'order.failed': 'Failed',
    'order.running': 'Requesting a certificate for {domain} …',
    'order.done': 'The certificate for {domain} is installed and active — no restart needed.',
    'order.failedFor': 'The request for {domain} failed.',
    // Why an order failed (`failure` of the order, ORDER_FAILURES); never the CA's raw text.
    'failure.interrupted':
      'The request was interrupted because the portal restarted. Request the certificate again.',
    'failure.listener_port':
      'The port for the HTTP-01 check is in use or not permitted. Free it and try again.',
    'failure.acme_unreachable':
      'The certificate authority cannot be reached. Check the ACME address or try again later.',
    'failure.acme_rate_limited':
      'The certificate authority accepts no further requests right now. Try again later.',
    'failure.acme_timeout': 'The certificate authority did not answer in time. Try again later.',
    'failure.validation_failed':
      'The certificate authority could not validate the domain. Check that the address points to this server and port 80 is reachable.',
    'failure.acme_refused':
      'The certificate authority refused the request. Check the address and the e-mail address and try again.',
    'failure.error': 'The request failed. Try again; the details are in the audit log.',

    'current.title': 'Current certificate',
    'current.source': 'Source',
    'current.source.acme': 'ACME (Let’s Encrypt)',
    'current.source.development': 'Development certificate',
    'current.subject': 'Subject',
    'current.sans': 'Names (SAN)',
    'current.issuer': 'Issuer',
    'current.serial': 'Serial number',
    'current.notBefore': 'Valid from',
    'current.notAfter': 'Valid until',
    'current.daysLeft': 'Days left',
    'current.files': 'Files',
    'current.location': 'Location',
    'current.show': 'Show details',
    'current.hide': 'Hide details',

    'evaluate.button': 'Evaluate',
    'evaluate.running': 'Checking HTTPS reachability …',
    'evaluate.ok': 'All good: {url} answers over HTTPS with the installed certificate.',
    'evaluate.failed': 'Check failed: {url}',
    'evaluate.code.ok': 'OK.',
    'evaluate.code.not_configured': 'No public server address is set.',
    'evaluate.code.untrusted': 'The certificate served is not trusted.',
    'evaluate.code.name_mismatch': 'The certificate served does not match the address.',
    'evaluate.code.expired': 'The certificate served has expired.',
    'evaluate.code.unreachable':
      'The server cannot be reached at this address (check DNS, port 443, the firewall).',
    'evaluate.code.timeout': 'No answer (timed out).',
    'evaluate.code.not_installed': 'No certificate is stored for this address.',
    'evaluate.code.mismatch': 'The server presents a different certificate than the installed one.',
    'evaluate.code.error': 'The check failed.',

    'delete.button': 'Delete',
    'delete.confirmText':
      'Delete the certificate (cert.pem) and its key (key.pem) for good? The portal then serves the development certificate again and automatic renewal stops.',
    'delete.confirm': 'Delete for good',
    'delete.done': 'Certificate deleted — the development certificate is active again.',
    'delete.none': 'No ACME certificate is installed.',
  },
});

export type CertificatesKey = keyof typeof certificatesMessages.de;
export type CertificatesT = (key: CertificatesKey, vars?: MessageVars) => string;
