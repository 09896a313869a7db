/**
 * The PDF of an accepted agreement (pdf-lib, standard fonts only — nothing embedded): title,
 * parties, the full text with line wrapping and page breaks, and the acceptance block (who, when,
 * version, text hash, from where). Standard fonts use WinAnsi, which covers ä ö ü ß „ “ – …;
 * anything else is transliterated or replaced by `?`.
 *
 * The PDF is tagged (accessible): headings, paragraphs, lists and the fact tables are structure
 * elements over marked content (`pdf-structure.ts`), with language, title and XMP metadata
 * (`pdf-metadata.ts`), so a screen reader reads the agreement as a document, not as loose glyphs.
 */
import { PDFDocument, type PDFFont, PDFName, type PDFPage, rgb, StandardFonts } from 'pdf-lib';
import type { AdvLocale } from './contract.ts';
import { agreementBlocks } from './markdown.ts';
import { type DocumentInfo, describeDocument } from './pdf-metadata.ts';
import { type StructElement, StructureTree } from './pdf-structure.ts';

export interface AcceptancePdfInput {
  readonly locale: AdvLocale;
  /** The agreement text (markdown subset) exactly as accepted. */
  readonly text: string;
  readonly operator: {
    readonly name: string;
    readonly address: string;
    readonly email?: string | undefined;
  };
  readonly tenant: { readonly id: string; readonly name: string };
  readonly acceptance: {
    readonly id: string;
    readonly version: string;
    readonly publishedAt: string;
    readonly acceptedAt: string;
    readonly acceptedBy: { readonly id: string; readonly name: string };
    readonly textSha256: string;
    readonly ip: string;
    readonly userAgent: string;
  };
}

const LABELS = {
  de: {
    parties: 'Vertragsparteien',
    controller: 'Auftraggeber (Verantwortlicher)',
    processor: 'Auftragnehmer (Auftragsverarbeiter)',
    tenantId: 'Mandant',
    version: 'Fassung',
    published: 'veröffentlicht am',
    acceptance: 'Digitale Annahme',
    acceptedBy: 'Angenommen von',
    acceptedAt: 'Zeitpunkt (UTC)',
    hash: 'SHA-256 des Vertragstexts',
    ip: 'IP-Adresse',
    userAgent: 'Browser',
    record: 'Annahme-Nr.',
    note: 'Die Annahme wurde im Fluxel-Portal elektronisch erklärt und im manipulationssicheren Protokoll (Aktion adv.accepted) festgehalten. Der Hashwert belegt den angenommenen Wortlaut.',
    page: 'Seite {n} von {total}',
  },
  en: {
    parties: 'Parties',
    controller: 'Customer (controller)',
    processor: 'Contractor (processor)',
    tenantId: 'Tenant',
    version: 'Version',
    published: 'published on',
    acceptance: 'Digital acceptance',
    acceptedBy: 'Accepted by',
    acceptedAt: 'Time (UTC)',
    hash: 'SHA-256 of the agreement text',
    ip: 'IP address',
    userAgent: 'Browser',
    record: 'Acceptance no.',
    note: 'The acceptance was declared electronically in the Fluxel portal and recorded in the tamper-evident log (action adv.accepted). The hash proves the accepted wording.',
    page: 'Page {n} of {total}',
  },
} as const;

/** Replacements for characters WinAnsi lacks (before the generic fallback). */
const REPLACE: Readonly<Record<string, string>> = {
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2212': '-',
  '\u2192': '->',
  '\u2190': '<-',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u2260': '!=',
  '\u2026': '...',
  '\u00a0': ' ',
  '\u202f': ' ',
  '\u2009': ' ',
  '\u200b': '',
  '\ufeff': '',
  '\t': '    ',
  '\u2713': 'x',
  '\u2714': 'x',
};

/** Makes `text` encodable with `font`: known replacements, then accents stripped, then `?`. */
export function sanitizeForFont(text: string, supported: ReadonlySet<number>): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20) continue; // control characters (line ends are handled by the caller)
    if (supported.has(cp)) {
      out += ch;
      continue;
    }
    const replaced = REPLACE[ch];
    if (replaced !== undefined) {
      out += replaced;
      continue;
    }
    const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
    out += [...base].every((c) => supported.has(c.codePointAt(0) ?? 0)) && base ? base : '?';
  }
  return out;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const BOTTOM = 64;

interface Fonts {
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  readonly mono: PDFFont;
}

/**
 * A cursor over pages: writes wrapped text, adds a page when the current one is full. Every
 * line is marked as content of a structure element, so the PDF is tagged as it is written.
 */
class Writer {
  page: PDFPage;
  y: number;
  readonly width = A4[0] - 2 * MARGIN;

  constructor(
    readonly doc: PDFDocument,
    readonly fonts: Fonts,
    readonly supported: ReadonlySet<number>,
    readonly tree: StructureTree,
  ) {
    this.page = doc.addPage(A4);
    this.y = A4[1] - MARGIN;
  }

  ensure(height: number): void {
    if (this.y - height >= BOTTOM) return;
    this.page = this.doc.addPage(A4);
    this.y = A4[1] - MARGIN;
  }

  /** Splits `text` into lines no wider than `width` (words longer than a line are cut). */
  wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const lines: string[] = [];
    let line = '';
    const fits = (s: string) => font.widthOfTextAtSize(s, size) <= width;
    for (const word of text.split(/ +/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (fits(candidate)) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = '';
      let rest = word;
      while (!fits(rest)) {
        let cut = rest.length - 1;
        while (cut > 1 && !fits(rest.slice(0, cut))) cut--;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    if (line) lines.push(line);
    return lines;
  }

  /** Writes `raw` wrapped as the content of `into`; `label` holds the hanging mark (list items). */
  text(
    raw: string,
    into: StructElement,
    options: {
      label?: StructElement;
      font?: PDFFont;
      size?: number;
      indent?: number;
      hanging?: string;
      after?: number;
      gray?: boolean;
    } = {},
  ): void {
    const font = options.font ?? this.fonts.regular;
    const size = options.size ?? 10.5;
    const indent = options.indent ?? 0;
    const leading = size * 1.4;
    const text = sanitizeForFont(raw.replace(/\s+/g, ' ').trim(), this.supported);
    const lines = this.wrap(text, font, size, this.width - indent);
    lines.forEach((line, i) => {
      this.ensure(leading);
      this.y -= leading;
      const { hanging, label } = options;
      if (i === 0 && hanging) {
        const draw = () =>
          this.page.drawText(hanging, { x: MARGIN + indent - 12, y: this.y, size, font });
        if (label) this.tree.mark(this.page, label, draw);
        else this.tree.artifact(this.page, draw);
      }
      this.tree.mark(this.page, into, () =>
        this.page.drawText(line, {
          x: MARGIN + indent,
          y: this.y,
          size,
          font,
          color: options.gray ? rgb(0.35, 0.35, 0.35) : rgb(0, 0, 0),
        }),
      );
    });
    this.y -= options.after ?? size * 0.6;
  }

  /**
   * `label: value` rows in two columns (both wrap within their column), tagged as a table of
   * row headers and cells.
   */
  facts(rows: readonly (readonly [string, string, PDFFont?, number?])[]): void {
    const table = this.tree.element('Table');
    const labelWidth = 175;
    const lineHeight = 10 * 1.45;
    for (const [label, value, font, valueSize] of rows) {
      const valueFont = font ?? this.fonts.regular;
      const labelLines = this.wrap(
        sanitizeForFont(label, this.supported),
        this.fonts.bold,
        10,
        labelWidth - 10,
      );
      const valueLines = this.wrap(
        sanitizeForFont(value, this.supported),
        valueFont,
        valueSize ?? 10,
        this.width - labelWidth,
      );
      const height = Math.max(1, labelLines.length, valueLines.length) * lineHeight;
      this.ensure(height);
      const baseline = this.y - 10 * 1.4;
      const row = this.tree.element('TR', table);
      const header = this.tree.element('TH', row);
      header.dict.set(PDFName.of('A'), this.doc.context.obj({ O: 'Table', Scope: 'Row' }));
      const cell = this.tree.element('TD', row);
      labelLines.forEach((line, i) => {
        this.tree.mark(this.page, header, () =>
          this.page.drawText(line, {
            x: MARGIN,
            y: baseline - i * lineHeight,
            size: 10,
            font: this.fonts.bold,
          }),
        );
      });
      valueLines.forEach((line, i) => {
        this.tree.mark(this.page, cell, () =>
          this.page.drawText(line, {
            x: MARGIN + labelWidth,
            y: baseline - i * lineHeight,
            size: valueSize ?? 10,
            font: valueFont,
          }),
        );
      });
      this.y -= height + 2;
    }
    this.y -= 6;
  }

  rule(): void {
    this.ensure(12);
    this.y -= 6;
    this.tree.artifact(this.page, () =>
      this.page.drawLine({
        start: { x: MARGIN, y: this.y },
        end: { x: A4[0] - MARGIN, y: this.y },
        thickness: 0.5,
        color: rgb(0.6, 0.6, 0.6),
      }),
    );
    this.y -= 6;
  }
}

const utc = (iso: string): string => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

/** The acceptance PDF. Deterministic: the same acceptance always gives the same bytes. */
export async function acceptancePdf(input: AcceptancePdfInput): Promise<Uint8Array> {
  const l = LABELS[input.locale];
  const a = input.acceptance;
  const doc = await PDFDocument.create({ updateMetadata: false });
  const fonts: Fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
    mono: await doc.embedFont(StandardFonts.Courier),
  };
  const supported = new Set(fonts.regular.getCharacterSet());
  const blocks = agreementBlocks(input.text);
  const title = blocks.find((b) => b.kind === 'title')?.text ?? 'ADV';
  const acceptedAt = new Date(a.acceptedAt);
  const info: DocumentInfo = {
    title: sanitizeForFont(`${title} – ${input.tenant.name}`, supported),
    author: sanitizeForFont(input.operator.name, supported),
    subject: `${l.version} ${a.version}`,
    creator: 'Fluxel Portal',
    producer: 'Fluxel Portal (pdf-lib)',
    language: input.locale === 'de' ? 'de-DE' : 'en-GB',
    date: acceptedAt,
  };
  describeDocument(doc, info);

  const tree = new StructureTree(doc);
  const w = new Writer(doc, fonts, supported, tree);
  w.text(title, tree.element('H1'), { font: fonts.bold, size: 16, after: 4 });
  w.text(
    `${l.version} ${a.version} – ${l.published} ${a.publishedAt.slice(0, 10)}`,
    tree.element('P'),
    { size: 10, gray: true, after: 10 },
  );
  w.text(l.parties, tree.element('H2'), { font: fonts.bold, size: 12, after: 2 });
  w.facts([
    [l.controller, input.tenant.name],
    [l.tenantId, input.tenant.id],
    [
      l.processor,
      [input.operator.name, input.operator.address, input.operator.email]
        .filter(Boolean)
        .join(', '),
    ],
  ]);
  w.rule();

  // Consecutive items form one list (L › LI › Lbl + LBody).
  let list: StructElement | undefined;
  for (const block of blocks) {
    if (block.kind === 'title') continue;
    if (block.kind !== 'item') list = undefined;
    if (block.kind === 'heading') {
      w.ensure(40); // keep a heading with the first lines of its section
      w.y -= 4;
      w.text(block.text, tree.element('H2'), { font: fonts.bold, size: 11.5, after: 3 });
    } else if (block.kind === 'item') {
      list ??= tree.element('L');
      const item = tree.element('LI', list);
      const label = tree.element('Lbl', item);
      w.text(block.text, tree.element('LBody', item), {
        label,
        indent: 16,
        hanging: '-',
        after: 3,
      });
    } else {
      w.text(block.text, tree.element('P'), { after: 6 });
    }
  }

  w.rule();
  w.ensure(150);
  w.text(l.acceptance, tree.element('H2'), { font: fonts.bold, size: 12, after: 2 });
  w.facts([
    [l.acceptedBy, `${a.acceptedBy.name} (${a.acceptedBy.id})`],
    [l.controller, input.tenant.name],
    [l.acceptedAt, utc(a.acceptedAt)],
    [l.version, a.version],
    [l.hash, a.textSha256, fonts.mono, 7.5], // 64 × 4.5 pt: one line
    [l.ip, a.ip],
    [l.userAgent, a.userAgent || '–'],
    [l.record, a.id],
  ]);
  w.text(l.note, tree.element('P'), { size: 9, gray: true });

  const pages = doc.getPages();
  pages.forEach((page, i) => {
    const footer = sanitizeForFont(
      `${input.tenant.name} – ${l.version} ${a.version} – ${l.page
        .replace('{n}', String(i + 1))
        .replace('{total}', String(pages.length))}`,
      supported,
    );
    tree.artifact(
      page,
      () =>
        page.drawText(footer, {
          x: MARGIN,
          y: 32,
          size: 8,
          font: fonts.regular,
          color: rgb(0.4, 0.4, 0.4),
        }),
      'Pagination',
    );
  });
  tree.finish();
  return doc.save({ useObjectStreams: false });
}
