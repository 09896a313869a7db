/**
 * The purposes a user can consent to. A purpose's `version` changes whenever its text changes
 * in substance; a consent given to an older version no longer counts (the user is asked again).
 */
import type { PurposeText } from './contract.ts';

export interface Purpose {
  readonly id: string;
  readonly version: string;
  readonly title: PurposeText;
  readonly text: PurposeText;
}

export const PURPOSES: readonly Purpose[] = [
  {
    id: 'newsletter',
    version: '2026-01',
    title: { de: 'Produkt-Newsletter', en: 'Product newsletter' },
    text: {
      de: 'Wir schicken Ihnen höchstens einmal im Monat eine E-Mail zu neuen Funktionen und Wartungsfenstern. Widerruf jederzeit hier oder über den Link in jeder E-Mail.',
      en: 'We send you at most one e-mail a month about new features and maintenance windows. Withdraw at any time here or by the link in every e-mail.',
    },
  },
  {
    id: 'product-analytics',
    version: '2026-01',
    title: { de: 'Nutzungsanalyse', en: 'Product analytics' },
    text: {
      de: 'Wir zählen, welche Seiten des Portals genutzt werden (ohne IP-Adresse, ohne Cookies Dritter), um es zu verbessern. Widerruf jederzeit.',
      en: 'We count which pages of the portal are used (no IP address, no third-party cookies) to improve it. Withdraw at any time.',
    },
  },
];

export function purposeById(id: string): Purpose | undefined {
  return PURPOSES.find((p) => p.id === id);
}
