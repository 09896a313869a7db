/**
 * RFC 9457 problems (`application/problem+json`): one error class for the relay, the portal
 * and the portal's partner API. A problem belongs to a realm, which is part of its `type`
 * URI, so a client reading a code knows whose list of codes to look it up in.
 */

/** Who answers: the relay, the portal's own web API, or the partner API the portal serves. */
export type ProblemRealm = 'portal' | 'partner-api' | 'relay';

/**
 * Where each realm's problem types live. The relay's types were published with its own host
 * before realms existed; that host names the realm.
 */
const TYPE_BASES: Readonly<Record<ProblemRealm, string>> = {
  portal: 'https://fluxel.example/problems/portal/',
  'partner-api': 'https://fluxel.example/problems/partner-api/',
  relay: 'https://relay.fluxel.dev/problems/',
};

/** The `type` URI of the problem `name` in `realm` (`…/problems/<realm>/<name>`). */
export function problemType(realm: ProblemRealm, name: string): string {
  return `${TYPE_BASES[realm]}${name}`;
}

/** Extension members of a problem document (RFC 9457 §3.2) besides type, title and status. */
export interface ProblemMembers {
  /** A type URI of its own; by default the realm's type of `code`, or `about:blank`. */
  readonly type?: string;
  /** The stable, machine-readable code clients switch on. */
  readonly code?: string;
  readonly detail?: string;
  /** Seconds; also sent as `Retry-After`. */
  readonly retryAfter?: number;
  readonly [member: string]: unknown;
}

/** A problem the realm's error handler turns into an `application/problem+json` answer. */
export class Problem<M extends ProblemMembers = ProblemMembers> extends Error {
  constructor(
    readonly realm: ProblemRealm,
    readonly status: number,
    readonly title: string,
    readonly extra: M = {} as M,
  ) {
    super(title);
    this.name = 'Problem';
  }

  /** The `type` URI: the problem's own, else its code's in the realm, else `about:blank`. */
  get type(): string {
    if (this.extra.type !== undefined) return this.extra.type;
    return this.extra.code !== undefined ? problemType(this.realm, this.extra.code) : 'about:blank';
  }

  /** The document: the extension members, then type, title and status. */
  document(): M & { type: string; title: string; status: number } {
    return { ...this.extra, type: this.type, title: this.title, status: this.status };
  }
}
