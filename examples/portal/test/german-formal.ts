/**
 * A detector for informal German ("du" form) in user-facing texts. The portal is B2B software:
 * German texts address people formally ("Sie", "Ihr", "Melden Sie sich an"). Shared by the
 * dictionary test (`german-formal.test.ts`) and the Chromium check of the rendered pages.
 *
 * It is a list-based check, not a grammar: it finds the informal pronouns, the unambiguous
 * second-person verb forms and the informal imperatives this UI uses (extend the lists when a
 * new text needs a new verb) — capitalised at the start of a sentence, and in lower case
 * anywhere ("Bitte versuche …", "Oder bestätige …") unless the sentence speaks as "ich" ("Ich
 * bestätige …" is the first person). Formal forms never match because every word is matched
 * whole: "Melden Sie" is not "Melde", "Ihr" is not "dein".
 */

/** Informal pronouns, second person singular and plural; matched whole-word, any case. */
const PRONOUNS = [
  'du',
  'dich',
  'dir',
  'dein',
  'deine',
  'deinen',
  'deinem',
  'deiner',
  'deines',
  'euch',
  'euer',
  'eure',
  'euren',
  'eurem',
  'eurer',
  'eures',
];

/**
 * Verb forms that exist only in the du/ihr conjugation ("Du hast", "kannst du"); matched
 * whole-word, any case. Forms shared with the third person ("nutzt", "habt" is not) are left out.
 */
const SECOND_PERSON_VERBS = [
  'bist',
  'hast',
  'hattest',
  'warst',
  'kannst',
  'könntest',
  'musst',
  'müsstest',
  'darfst',
  'sollst',
  'solltest',
  'willst',
  'möchtest',
  'wirst',
  'würdest',
  'weißt',
  'brauchst',
  'erhältst',
  'bekommst',
  'siehst',
  'findest',
  'kommst',
  'kennst',
  'machst',
  'gibst',
  'gehst',
  'nimmst',
  'legst',
  'richtest',
  'wählst',
  'änderst',
  'meldest',
  'seid',
  'habt',
  'könnt',
  'müsst',
  'dürft',
  'wollt',
  'solltet',
];

/**
 * Informal imperatives (singular), capitalised. Formal imperatives are infinitive + "Sie"
 * ("Geben Sie"), a different word, so none of these can match a formal sentence.
 */
const IMPERATIVES = [
  'Achte',
  'Aktiviere',
  'Aktualisiere',
  'Ändere',
  'Behalte',
  'Beende',
  'Benutze',
  'Bestätige',
  'Bewahre',
  'Brich',
  'Denk',
  'Denke',
  'Deaktiviere',
  'Drucke',
  'Entferne',
  'Entsperre',
  'Erstelle',
  'Erteile',
  'Erzeuge',
  'Exportiere',
  'Fordere',
  'Füge',
  'Geh',
  'Gehe',
  'Genehmige',
  'Gib',
  'Hinterlege',
  'Hol',
  'Hole',
  'Informiere',
  'Klick',
  'Klicke',
  'Kontaktiere',
  'Kopiere',
  'Lade',
  'Lass',
  'Lege',
  'Lehne',
  'Lies',
  'Logge',
  'Lösche',
  'Mach',
  'Mache',
  'Melde',
  'Nimm',
  'Notiere',
  'Nutze',
  'Öffne',
  'Prüfe',
  'Registriere',
  'Richte',
  'Schau',
  'Schick',
  'Schicke',
  'Schreib',
  'Schreibe',
  'Scanne',
  'Sende',
  'Sieh',
  'Speichere',
  'Starte',
  'Tippe',
  'Trag',
  'Trage',
  'Vergiss',
  'Verwende',
  'Wähle',
  'Warte',
  'Wechsle',
  'Zeig',
  'Zeige',
];

/**
 * Imperatives that are also common nouns or adjectives ("die Frage", "Teile des Texts", the
 * column heading "Versuche", "die achte Fassung"). At the start of a sentence they count only
 * when followed by a word an imperative takes there ("Versuche es …", "Wende dich an …",
 * "Stelle sicher, …").
 */
const NOUN_LIKE_IMPERATIVES = [
  'Achte',
  'Frage',
  'Halte',
  'Sorge',
  'Sperre',
  'Stelle',
  'Suche',
  'Teile',
  'Versuche',
  'Wende',
];
const AFTER_NOUN_LIKE = [
  ...['bitte', 'doch', 'mal', 'dich', 'dir', 'dein\\p{L}*', 'uns', 'sie', 'es', 'ihn'],
  ...['den', 'dem', 'die', 'das', 'der', 'ein', 'eine', 'einen', 'einem'],
  ...['sicher', 'dafür', 'darauf', 'zuerst', 'jetzt', 'dann', 'später', 'gleich'],
];
/** Lower-case forms that are also English words ("a hole", "lies") or an ordinal ("achte"). */
const NOT_LOWER_CASE = new Set(['achte', 'hole', 'lies']);

// Letters and digits in any script: JavaScript's \b only knows ASCII, so "Öffne" or "Prüfe"
// need look-arounds instead.
const WORD_START = '(?<![\\p{L}\\p{N}_])';
const WORD_END = '(?![\\p{L}\\p{N}_])';
const alternatives = (words: readonly string[]) => words.join('|');

/** Where a sentence (or a line, a list item, a quotation, a bracket) starts. */
const SENTENCE_START = '(?:^|(?<=[.!?:;–—…]\\s+)|(?<=[„“"(]\\s*)|(?<=^\\s*-\\s+))';

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  /** The form is also the first person singular: not counted in a sentence with "ich". */
  readonly unlessFirstPerson?: boolean;
}

const RULES: readonly Rule[] = [
  {
    name: 'informal pronoun',
    pattern: new RegExp(`${WORD_START}(?:${alternatives(PRONOUNS)})${WORD_END}`, 'giu'),
  },
  {
    name: 'du/ihr verb form',
    pattern: new RegExp(`${WORD_START}(?:${alternatives(SECOND_PERSON_VERBS)})${WORD_END}`, 'giu'),
  },
  {
    // "Gib …", "Fast geschafft. Bewahre …", "Kein Scannen möglich? Gib …"
    name: 'informal imperative',
    pattern: new RegExp(`${SENTENCE_START}(?:${alternatives(IMPERATIVES)})${WORD_END}`, 'gmu'),
  },
  {
    // "Wende dich an …", "Versuche es später" (but not "Versuche: 3" or "Frage: …")
    name: 'informal imperative',
    pattern: new RegExp(
      `${SENTENCE_START}(?:${alternatives(NOUN_LIKE_IMPERATIVES)})\\s+(?:${alternatives(AFTER_NOUN_LIKE)})${WORD_END}`,
      'gmu',
    ),
  },
  {
    // "Bitte versuche …", "richte bitte …", "Oder bestätige …", "und ändere dann …": in
    // lower case these forms are imperatives, or the first person ("Ich bestätige …").
    name: 'informal imperative',
    pattern: new RegExp(
      `${WORD_START}(?:${alternatives(
        [...IMPERATIVES, ...NOUN_LIKE_IMPERATIVES]
          .map((w) => w.toLowerCase())
          .filter((w) => !NOT_LOWER_CASE.has(w)),
      )})${WORD_END}`,
      'gu',
    ),
    unlessFirstPerson: true,
  },
];

const FIRST_PERSON = /(?<![\p{L}\p{N}_])[Ii]ch(?![\p{L}\p{N}_])/u;

/** The sentence of `text` around `index` (up to the nearest . ! ? ; or line end). */
function sentenceAt(text: string, index: number): string {
  const before = text.slice(0, index).search(/[^.!?;\n]*$/);
  const after = text.slice(index).search(/[.!?;\n]|$/);
  return text.slice(before, index + after);
}

export interface InformalFinding {
  readonly rule: string;
  readonly match: string;
}

/** Every informal form in `text` (empty when the text is formal or neutral). */
export function informalForms(text: string): InformalFinding[] {
  const found: InformalFinding[] = [];
  for (const { name, pattern, unlessFirstPerson } of RULES) {
    for (const m of text.matchAll(pattern)) {
      if (unlessFirstPerson && FIRST_PERSON.test(sentenceAt(text, m.index))) continue;
      found.push({ rule: name, match: m[0] });
    }
  }
  return found;
}

/** One line per informal text: `where: "text" ← rule «match», …`. */
export function describeOffenders(texts: Iterable<readonly [string, string]>): string[] {
  const lines: string[] = [];
  for (const [where, text] of texts) {
    const found = informalForms(text);
    if (found.length === 0) continue;
    const what = found.map((f) => `${f.rule} «${f.match}»`).join(', ');
    lines.push(`${where}: ${JSON.stringify(text)} ← ${what}`);
  }
  return lines;
}

// Umlauts, ß or a common German word (the informal ones included, but not "dir", which is also
// English); English texts that happen to match are checked too, which does no harm.
const GERMAN_MARKERS =
  /[äöüßÄÖÜ]|(?<![\p{L}\p{N}_])(?:sie|ihr|ihre|ihren|ihrem|ihrer|ihres|ihnen|und|oder|bitte|nicht|kein|keine|wurde|werden|wird|ist|sind|der|die|das|den|dem|des|ein|eine|einen|mit|von|zum|zur|im|auf|bei|nach|noch|jetzt|hallo|du|dich|dein\p{L}*|euch|euer|eure\p{L}*)(?![\p{L}\p{N}_])/iu;

/** Whether `text` reads as German (enough to tell it from identifiers and English). */
export function looksGerman(text: string): boolean {
  return GERMAN_MARKERS.test(text);
}
