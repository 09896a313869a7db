/**
 * The tiny markdown subset of the agreement texts: `# title`, `## heading`, `- item` and
 * paragraphs (consecutive lines, ended by a blank line). Pure, shared by the PDF and the web page.
 */
export type AgreementBlock =
  | { readonly kind: 'title'; readonly text: string }
  | { readonly kind: 'heading'; readonly text: string }
  | { readonly kind: 'item'; readonly text: string }
  | { readonly kind: 'paragraph'; readonly text: string };

export function agreementBlocks(markdown: string): AgreementBlock[] {
  const blocks: AgreementBlock[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: 'paragraph', text: paragraph.join(' ') });
    paragraph = [];
  };
  for (const raw of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    if (line === '') {
      flush();
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: heading[1] === '#' ? 'title' : 'heading', text: heading[2] ?? '' });
      continue;
    }
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (item) {
      flush();
      blocks.push({ kind: 'item', text: item[1] ?? '' });
      continue;
    }
    // A continuation line of a list item belongs to the item.
    const last = blocks[blocks.length - 1];
    if (paragraph.length === 0 && last?.kind === 'item' && /^\s/.test(raw)) {
      blocks[blocks.length - 1] = { kind: 'item', text: `${last.text} ${line}` };
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return blocks;
}

/** The agreement's title: its first `# ` line, else `fallback`. */
export function agreementTitle(markdown: string, fallback: string): string {
  return agreementBlocks(markdown).find((b) => b.kind === 'title')?.text ?? fallback;
}
