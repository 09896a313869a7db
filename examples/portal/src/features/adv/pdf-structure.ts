/**
 * The logical structure of a tagged PDF (ISO 32000-1 §14.7–14.8) for pdf-lib, which has no API
 * for it: a `/StructTreeRoot` with one `Document` element, child elements (H1, H2, P, L/LI,
 * Table/TR/TH/TD …), and the page content they own marked with `BDC … EMC` sequences whose
 * MCIDs the `/ParentTree` maps back to their elements. Screen readers read the document in that
 * order, as headings and lists; anything outside it (rules, page footers) is marked as an
 * artifact so they skip it.
 */
import {
  type PDFArray,
  type PDFDict,
  type PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFOperator,
  PDFOperatorNames,
  type PDFPage,
  type PDFRef,
} from 'pdf-lib';

/** A structure element: its reference, and the kids (elements or marked content) it holds. */
export interface StructElement {
  readonly type: string;
  readonly ref: PDFRef;
  readonly dict: PDFDict;
  readonly kids: PDFArray;
}

interface PageMarks {
  /** The element that owns each MCID of the page, by MCID (the page's ParentTree entry). */
  readonly owners: PDFRef[];
}

export class StructureTree {
  readonly root: StructElement;
  private readonly rootRef: PDFRef;
  private readonly pages = new Map<PDFPage, PageMarks>();

  constructor(private readonly doc: PDFDocument) {
    this.rootRef = doc.context.nextRef();
    this.root = this.create('Document', undefined);
  }

  /** A new element under `parent` (default the Document element); `alt`: its alternate text. */
  element(type: string, parent: StructElement = this.root, alt?: string): StructElement {
    return this.create(type, parent, alt);
  }

  private create(type: string, parent: StructElement | undefined, alt?: string): StructElement {
    const { context } = this.doc;
    const kids = context.obj([]);
    const dict = context.obj({
      Type: 'StructElem',
      S: type,
      P: parent?.ref ?? this.rootRef,
      K: kids,
    });
    if (alt !== undefined) dict.set(PDFName.of('Alt'), PDFHexString.fromText(alt));
    const ref = context.register(dict);
    parent?.kids.push(ref);
    return { type, ref, dict, kids };
  }

  /**
   * Runs `draw` (pdf-lib drawing calls on `page`) inside a marked-content sequence owned by
   * `owner`: `/<type> <</MCID n>> BDC … EMC`, n numbered per page.
   */
  mark(page: PDFPage, owner: StructElement, draw: () => void): void {
    let marks = this.pages.get(page);
    if (!marks) {
      marks = { owners: [] };
      this.pages.set(page, marks);
    }
    const mcid = marks.owners.length;
    marks.owners.push(owner.ref);
    if (!owner.dict.has(PDFName.of('Pg'))) owner.dict.set(PDFName.of('Pg'), page.ref);
    // A marked-content reference names its page, so an element may span a page break.
    owner.kids.push(this.doc.context.obj({ Type: 'MCR', Pg: page.ref, MCID: PDFNumber.of(mcid) }));
    page.pushOperators(
      PDFOperator.of(PDFOperatorNames.BeginMarkedContentSequence, [
        PDFName.of(owner.type),
        `<< /MCID ${mcid} >>`,
      ]),
    );
    draw();
    page.pushOperators(PDFOperator.of(PDFOperatorNames.EndMarkedContent));
  }

  /** Runs `draw` as an artifact (decoration, running footer): not part of the text read out. */
  artifact(page: PDFPage, draw: () => void, kind?: 'Pagination' | 'Layout'): void {
    page.pushOperators(
      kind
        ? PDFOperator.of(PDFOperatorNames.BeginMarkedContentSequence, [
            PDFName.of('Artifact'),
            `<< /Type /${kind} >>`,
          ])
        : PDFOperator.of(PDFOperatorNames.BeginMarkedContent, [PDFName.of('Artifact')]),
    );
    draw();
    page.pushOperators(PDFOperator.of(PDFOperatorNames.EndMarkedContent));
  }

  /**
   * Writes the tree into the document: the StructTreeRoot and its ParentTree, `/StructParents`
   * and tab order on every page, and `/MarkInfo << /Marked true >>` in the catalog. Call once,
   * after the last page was drawn.
   */
  finish(): void {
    const { context, catalog } = this.doc;
    const nums = context.obj([]);
    this.doc.getPages().forEach((page, index) => {
      page.node.set(PDFName.of('StructParents'), PDFNumber.of(index));
      // Tab order follows the structure (PDF/UA).
      page.node.set(PDFName.of('Tabs'), PDFName.of('S'));
      nums.push(PDFNumber.of(index));
      nums.push(context.register(context.obj(this.pages.get(page)?.owners ?? [])));
    });
    context.assign(
      this.rootRef,
      context.obj({
        Type: 'StructTreeRoot',
        K: context.obj([this.root.ref]),
        ParentTree: context.register(context.obj({ Nums: nums })),
        ParentTreeNextKey: PDFNumber.of(this.doc.getPageCount()),
      }),
    );
    catalog.set(PDFName.of('StructTreeRoot'), this.rootRef);
    catalog.set(PDFName.of('MarkInfo'), context.obj({ Marked: true }));
  }
}
