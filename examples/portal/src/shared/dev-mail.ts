/**
 * The dev start's mail viewer, server and web app alike (the route and its answer are
 * src/features/dev-mail/contract.ts): the page's path, the answer's limit, and how a mail's
 * text is split into text and links (the page and the dev console both show them).
 */

/** At most this many mails in one answer (a long-running demo collects many). */
export const DEV_MAIL_LIMIT = 200;

/** The web path of the viewer page. */
export const DEV_MAIL_PAGE = '/dev/mails';

/** A piece of a mail text: plain text, or an http(s) link. */
export type MailTextPart = { readonly text: string } | { readonly link: string };

/** Candidates for links: an http(s) scheme up to white space, `<`, `>` or a quote. */
const LINK = /https?:\/\/[^\s<>"']+/gi;

/**
 * Splits a mail text into text and links. Only http(s) URLs become links (a `javascript:` or
 * `data:` text stays text); sentence punctuation after a URL stays text.
 */
export function mailTextParts(text: string): MailTextPart[] {
  const parts: MailTextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    if (start > at) parts.push({ text: text.slice(at, start) });
    parts.push({ link: url });
    at = start + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** The first http(s) link of a mail text. */
export function firstLink(text: string): string | undefined {
  for (const part of mailTextParts(text)) if ('link' in part) return part.link;
  return undefined;
}
