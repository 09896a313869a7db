/**
 * A PDF's document-level description for readers and assistive technology: the Info dictionary,
 * the same facts as XMP metadata (the form PDF/A and PDF/UA tools read), the natural language
 * (`/Lang`), and `/DisplayDocTitle` so viewers show the title instead of the file name.
 * Deterministic: everything derives from `info`, no clock or random ids.
 */
import { type PDFDocument, PDFName } from 'pdf-lib';

export interface DocumentInfo {
  readonly title: string;
  readonly author: string;
  readonly subject: string;
  readonly creator: string;
  readonly producer: string;
  /** BCP 47, e.g. `de-DE`. */
  readonly language: string;
  /** Creation and modification time. */
  readonly date: Date;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const xml = (s: string): string => s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);

/** The XMP packet (dc, xmp and pdf schemas) for `info`. */
export function xmpPacket(info: DocumentInfo): string {
  const date = info.date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${xml(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>${xml(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${xml(info.subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>${xml(info.language)}</rdf:li></rdf:Bag></dc:language>
   <xmp:CreatorTool>${xml(info.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>${date}</xmp:CreateDate>
   <xmp:ModifyDate>${date}</xmp:ModifyDate>
   <xmp:MetadataDate>${date}</xmp:MetadataDate>
   <pdf:Producer>${xml(info.producer)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

export function describeDocument(doc: PDFDocument, info: DocumentInfo): void {
  doc.setTitle(info.title, { showInWindowTitleBar: true });
  doc.setAuthor(info.author);
  doc.setSubject(info.subject);
  doc.setCreator(info.creator);
  doc.setProducer(info.producer);
  doc.setLanguage(info.language);
  doc.setCreationDate(info.date);
  doc.setModificationDate(info.date);
  // XMP is stored uncompressed and UTF-8 encoded (as XMP requires), so tools find it unparsed.
  const { context, catalog } = doc;
  const metadata = context.stream(new TextEncoder().encode(xmpPacket(info)), {
    Type: 'Metadata',
    Subtype: 'XML',
  });
  catalog.set(PDFName.of('Metadata'), context.register(metadata));
}
