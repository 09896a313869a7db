/**
 * The partner terms (`data/partner/terms.json` and its texts): read and checked at start, so a
 * broken file stops the portal then, not at the first registration.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { normaliseText } from '../adv/agreements.ts';

const TERMS_DIR = new URL('../../../data/partner/', import.meta.url);

const termsIndex = z.strictObject({
  $comment: z.string().optional(),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/),
  de: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
  en: z.string().regex(/^[A-Za-z0-9._-]+\.md$/),
});

export interface PartnerTerms {
  readonly version: string;
  readonly text: Readonly<Record<'de' | 'en', string>>;
}

/** Reads and validates `data/partner/terms.json` and its texts; throws on any mistake. */
export function loadPartnerTerms(dir: URL = TERMS_DIR): PartnerTerms {
  const index = termsIndex.parse(JSON.parse(readFileSync(new URL('terms.json', dir), 'utf8')));
  return {
    version: index.version,
    text: {
      de: normaliseText(readFileSync(new URL(index.de, dir), 'utf8')),
      en: normaliseText(readFileSync(new URL(index.en, dir), 'utf8')),
    },
  };
}
