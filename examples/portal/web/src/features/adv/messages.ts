/**
 * Texts of the ADV / processing-register page (`/adv`), German and English with the same keys
 * (the type checks it). Kept beside the page so the shared dictionary stays untouched.
 */
import type { Locale } from '../../../../src/shared/api.ts';

export const advDe = {
  'adv.title': 'AV-Vertrag & Verarbeitungsverzeichnis',
  'adv.intro':
    'Der Vertrag zur Auftragsverarbeitung (ADV) nach Art. 28 DSGVO zwischen {tenant} und {operator}, und das Verzeichnis unserer Verarbeitungstätigkeiten.',
  'adv.needs': 'Bitte nehmen Sie den AV-Vertrag (Fassung {version}) an.',
  'adv.needsAgain':
    'Eine neue Fassung des AV-Vertrags ist veröffentlicht (Fassung {version}). Bitte lesen und nehmen Sie sie erneut an – angenommen ist bisher Fassung {accepted}.',
  'adv.needsKeyUser': 'Die Annahme erklärt ein Key-User Ihres Unternehmens.',
  'adv.toAccept': 'Zum Vertrag',
  'adv.none': 'Derzeit ist kein AV-Vertrag veröffentlicht.',
  'adv.statusTitle': 'Ihre Annahme',
  'adv.notAccepted': 'Noch keine Fassung angenommen.',
  'adv.acceptedCurrent': 'Aktuelle Fassung angenommen',
  'adv.acceptedOld': 'Ältere Fassung angenommen',
  'adv.version': 'Fassung',
  'adv.acceptedBy': 'Angenommen von',
  'adv.acceptedAt': 'Zeitpunkt',
  'adv.from': 'Von (IP-Adresse)',
  'adv.hash': 'SHA-256 des Texts',
  'adv.language': 'Sprache',
  'adv.pdf': 'PDF herunterladen',
  'adv.pdfOf': 'PDF der Fassung {version} herunterladen',
  'adv.textTitle': 'Fassung {version} vom {date}',
  'adv.textLabel': 'Vertragstext',
  'adv.bindingNote': 'Maßgeblich ist die deutsche Fassung.',
  'adv.confirm': 'Ich habe den Vertrag gelesen und nehme ihn im Namen von {tenant} an.',
  'adv.accept': 'Verbindlich annehmen',
  'adv.accepted': 'Angenommen. Die Annahme ist protokolliert; das PDF steht bereit.',
  'adv.historyTitle': 'Bisherige Annahmen',
  'adv.tenantsTitle': 'Stand der Mandanten',
  'adv.tenant': 'Mandant',
  'adv.state': 'Stand',
  'adv.open': 'Annahme offen',
  'adv.done': 'Angenommen',
  'adv.publishTitle': 'Neue Fassung veröffentlichen',
  'adv.publishIntro':
    'Die neue Fassung gilt sofort; alle Mandanten müssen sie erneut annehmen, Key-User und Partner erhalten eine E-Mail. Format: „# Titel“, „## Abschnitt“, „- Aufzählung“, Absätze durch Leerzeilen.',
  'adv.versionId': 'Kennung der Fassung',
  'adv.versionIdHint': 'z. B. 2.0 – Buchstaben, Ziffern, Punkt, Binde- und Unterstrich',
  'adv.textDe': 'Text (Deutsch, maßgeblich)',
  'adv.textEn': 'Text (Englisch)',
  'adv.publish': 'Veröffentlichen',
  'adv.published': 'Fassung {version} ist veröffentlicht; {n} Benutzer wurden benachrichtigt.',
  'register.title': 'Verarbeitungsverzeichnis',
  'register.intro':
    'Verzeichnis der Verarbeitungstätigkeiten nach Art. 30 DSGVO, Stand {date}. Verantwortlich: {name}, {address}, {email}.',
  'register.activities': 'Verarbeitungstätigkeiten',
  'register.role': 'Rolle',
  'register.role.controller': 'Verantwortlicher (eigene Verarbeitung)',
  'register.role.processor': 'Auftragsverarbeiter (für Kunden)',
  'register.purpose': 'Zweck',
  'register.legalBasis': 'Rechtsgrundlage',
  'register.dataSubjects': 'Betroffene Personen',
  'register.dataCategories': 'Datenkategorien',
  'register.recipientsOf': 'Empfänger',
  'register.thirdCountry': 'Drittlandübermittlung',
  'register.retention': 'Löschfrist',
  'register.measuresOf': 'Maßnahmen',
  'register.recipients': 'Empfänger und Auftragsverarbeiter',
  'register.name': 'Name',
  'register.kind': 'Art',
  'register.kind.processor': 'Unterauftragsverarbeiter',
  'register.kind.recipient': 'Empfänger auf Weisung des Kunden',
  'register.service': 'Leistung',
  'register.location': 'Ort',
  'register.safeguards': 'Garantien',
  'register.yes': 'ja',
  'register.no': 'nein',
  'register.measures': 'Technische und organisatorische Maßnahmen',
  'register.area': 'Bereich',
  'register.measure': 'Maßnahme',
} as const;

export type AdvKey = keyof typeof advDe;

export const advEn: Readonly<Record<AdvKey, string>> = {
  'adv.title': 'DPA & processing register',
  'adv.intro':
    'The data processing agreement (DPA) under Art. 28 GDPR between {tenant} and {operator}, and the register of our processing activities.',
  'adv.needs': 'Please accept the data processing agreement (version {version}).',
  'adv.needsAgain':
    'A new version of the data processing agreement has been published (version {version}). Please read and accept it again – so far version {accepted} is accepted.',
  'adv.needsKeyUser': 'A key user of your company declares the acceptance.',
  'adv.toAccept': 'To the agreement',
  'adv.none': 'No data processing agreement is published at the moment.',
  'adv.statusTitle': 'Your acceptance',
  'adv.notAccepted': 'No version accepted yet.',
  'adv.acceptedCurrent': 'Current version accepted',
  'adv.acceptedOld': 'Older version accepted',
  'adv.version': 'Version',
  'adv.acceptedBy': 'Accepted by',
  'adv.acceptedAt': 'Time',
  'adv.from': 'From (IP address)',
  'adv.hash': 'SHA-256 of the text',
  'adv.language': 'Language',
  'adv.pdf': 'Download PDF',
  'adv.pdfOf': 'Download the PDF of version {version}',
  'adv.textTitle': 'Version {version} of {date}',
  'adv.textLabel': 'Agreement text',
  'adv.bindingNote': 'The German version is binding.',
  'adv.confirm': 'I have read the agreement and accept it on behalf of {tenant}.',
  'adv.accept': 'Accept',
  'adv.accepted': 'Accepted. The acceptance is logged; the PDF is ready.',
  'adv.historyTitle': 'Acceptances so far',
  'adv.tenantsTitle': 'Tenants',
  'adv.tenant': 'Tenant',
  'adv.state': 'State',
  'adv.open': 'Acceptance pending',
  'adv.done': 'Accepted',
  'adv.publishTitle': 'Publish a new version',
  'adv.publishIntro':
    'The new version applies at once; every tenant has to accept it again, key users and partners get an e-mail. Format: “# Title”, “## Section”, “- item”, paragraphs separated by blank lines.',
  'adv.versionId': 'Version id',
  'adv.versionIdHint': 'e.g. 2.0 – letters, digits, dot, hyphen and underscore',
  'adv.textDe': 'Text (German, binding)',
  'adv.textEn': 'Text (English)',
  'adv.publish': 'Publish',
  'adv.published': 'Version {version} is published; {n} users were notified.',
  'register.title': 'Processing register',
  'register.intro':
    'Record of processing activities under Art. 30 GDPR, as of {date}. Controller: {name}, {address}, {email}.',
  'register.activities': 'Processing activities',
  'register.role': 'Role',
  'register.role.controller': 'Controller (own processing)',
  'register.role.processor': 'Processor (for customers)',
  'register.purpose': 'Purpose',
  'register.legalBasis': 'Legal basis',
  'register.dataSubjects': 'Data subjects',
  'register.dataCategories': 'Categories of data',
  'register.recipientsOf': 'Recipients',
  'register.thirdCountry': 'Third-country transfers',
  'register.retention': 'Retention',
  'register.measuresOf': 'Measures',
  'register.recipients': 'Recipients and processors',
  'register.name': 'Name',
  'register.kind': 'Kind',
  'register.kind.processor': 'Sub-processor',
  'register.kind.recipient': 'Recipient on the customer’s instruction',
  'register.service': 'Service',
  'register.location': 'Location',
  'register.safeguards': 'Safeguards',
  'register.yes': 'yes',
  'register.no': 'no',
  'register.measures': 'Technical and organisational measures',
  'register.area': 'Area',
  'register.measure': 'Measure',
};

export const advDictionaries: Readonly<Record<Locale, Readonly<Record<AdvKey, string>>>> = {
  de: advDe,
  en: advEn,
};

export type AdvTranslate = (
  key: AdvKey,
  vars?: Readonly<Record<string, string | number>>,
) => string;

export function advTranslate(
  locale: Locale,
  key: AdvKey,
  vars?: Readonly<Record<string, string | number>>,
): string {
  const text = advDictionaries[locale][key] ?? advDe[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : String(value);
  });
}
