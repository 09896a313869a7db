/**
 * The portal is B2B software: its German texts address people formally ("Sie", "Ihr"). This
 * checks every German text a person can see — the web dictionaries (by key), the texts built
 * on the server (e-mail subjects and bodies, SMS, the ADV/AV-Vertrag PDF, the data export),
 * German strings inline in the web app, and the shipped legal and register texts — with the
 * detector in `german-formal.ts`, and names each offender with its key (or file and line).
 *
 * Mails and SMS are written inline in the route handlers, not kept as templates, so they are
 * found by reading every string and template literal of the server's source with the
 * TypeScript parser (`${…}` placeholders read as `{…}`); whatever reads as German is checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
// The workspace's TypeScript (a root devDependency, the one `tsc` runs), used only to parse.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { de } from '../web/src/i18n.ts';
import { featureMessages } from './feature-messages.ts';
import { describeOffenders, informalForms, looksGerman } from './german-formal.ts';

const root = join(import.meta.dirname, '..');

const DICTIONARIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'i18n.ts de': de,
};

/** The dictionary files themselves; their texts are checked above, by key. */
const isDictionary = (file: string) =>
  /(?:^|\/)i18n\.ts$|\.i18n\.ts$|web\/src\/features\/[^/]+\/messages\.ts$/.test(file);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** Every string, template and JSX text literal of a file, with its line. */
function literals(file: string): [string, string][] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const found: [string, string][] = [];
  const add = (node: ts.Node, value: string) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push([`${relative(root, join(root, file))}:${line + 1}`, value]);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      add(node, node.text);
    } else if (ts.isTemplateExpression(node)) {
      add(
        node,
        [node.head.text, ...node.templateSpans.map((s) => `{…}${s.literal.text}`)].join(''),
      );
    } else if (ts.isJsxText(node) && node.text.trim() !== '') {
      add(node, node.text.trim());
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The German texts of the processing register (`{ de, en }` objects anywhere in the file). */
function registerTexts(): [string, string][] {
  const found: [string, string][] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'de' && typeof v === 'string') found.push([`${path}.de`, v]);
        else walk(v, `${path}.${k}`);
      }
    }
  };
  walk(JSON.parse(readFileSync(join(root, 'data/processing-register.json'), 'utf8')), 'register');
  return found;
}

describe('German texts address people as Sie: no du, dich, dir, dein… and no informal imperative in any dictionary, mail or PDF text', () => {
  it('the detector tells du-form from Sie-form', () => {
    const informal = [
      'Melde dich mit deiner E-Mail-Adresse an.',
      'Gib deine E-Mail-Adresse ein.',
      'Du hast nur noch {n} Wiederherstellungscodes.',
      'Bitte versuche es erneut.',
      'Fast geschafft. Bewahre diese Codes sicher auf.',
      'Kein Scannen möglich? Gib stattdessen diesen Schlüssel ein:',
      'Bevor es losgeht, richte bitte einen zweiten Faktor ein.',
      'Beende Sitzungen und ändere dann das Passwort.',
      'Drucke sie aus oder lege sie im Passwort-Manager ab.',
      'Öffne die Authenticator-App.',
      'Wende dich an die Administration.',
      'Ist eure Adresse richtig?',
      'Oder bestätige die Anmeldung mit einem Passkey.',
      'Zum Schutz Ihres Kontos bestätige diese Änderung.',
      'Versuche es später erneut.',
      'Mit diesen Codes kommst du in das Konto.',
    ];
    const formal = [
      'Melden Sie sich mit Ihrer E-Mail-Adresse an.',
      'Geben Sie Ihre E-Mail-Adresse ein.',
      'Sie haben nur noch {n} Wiederherstellungscodes.',
      'Bitte versuchen Sie es erneut.',
      'Öffnen Sie die Authenticator-App. Bestätigen Sie die Anmeldung.',
      'Eine Frage zur Rechnung? Die Suche ergab nichts. Teile des Texts fehlen.',
      'Frage: Wie lange gilt der Code?',
      'Code per E-Mail senden',
      'Ich habe den Vertrag gelesen und nehme ihn an.',
      'Ich bestätige die Angaben und lade das PDF herunter.',
      'Versuche',
      'There is a hole in the file; it lies.',
    ];
    for (const text of informal) expect(informalForms(text), text).not.toEqual([]);
    for (const text of formal) expect(informalForms(text), text).toEqual([]);
  });

  it('every German web dictionary, by key', async () => {
    const features = (await featureMessages()).map(([name, m]) => [name, m.de] as const);
    const offenders = describeOffenders(
      [...Object.entries(DICTIONARIES), ...features].flatMap(([name, dict]) =>
        Object.entries(dict).map(([key, text]) => [`${name} ${key}`, text] as const),
      ),
    );
    expect(offenders).toEqual([]);
    // The dictionaries were really read: the shared one and every feature's.
    expect(Object.keys(de).length).toBeGreaterThan(100);
    expect(features.length).toBeGreaterThan(10);
    expect(features.reduce((n, [, dict]) => n + Object.keys(dict).length, 0)).toBeGreaterThan(400);
  });

  it('e-mail, SMS, PDF and export texts built on the server, and German inline in the web app', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('web/src')].filter(
      (f) => !isDictionary(f),
    );
    const german = files.flatMap(literals).filter(([, text]) => looksGerman(text));
    // The known places are among what was read: the code mail, the PDF labels, the invitation.
    const seen = german.map(([, text]) => text).join('\n');
    expect(seen).toContain('Ihr Bestätigungscode lautet');
    expect(seen).toContain('Die Annahme wurde im Fluxel-Portal elektronisch erklärt');
    expect(seen).toContain('lädt Sie in das Fluxel-Portal ein');
    expect(describeOffenders(german)).toEqual([]);
  });

  it('the shipped legal texts (AV-Vertrag, partner terms) and the processing register', () => {
    const adv = JSON.parse(readFileSync(join(root, 'data/adv/versions.json'), 'utf8')) as {
      versions: { de: string }[];
    };
    const terms = JSON.parse(readFileSync(join(root, 'data/partner/terms.json'), 'utf8')) as {
      de: string;
    };
    const documents = [...adv.versions.map((v) => `data/adv/${v.de}`), `data/partner/${terms.de}`];
    const texts: [string, string][] = documents.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .map((line, i): [string, string] => [`${file}:${i + 1}`, line]),
    );
    texts.push(...registerTexts());
    expect(texts.length).toBeGreaterThan(50);
    expect(describeOffenders(texts)).toEqual([]);
  });
});
