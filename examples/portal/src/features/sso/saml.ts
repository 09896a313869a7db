/**
 * SAML 2.0 service provider through `@node-saml/node-saml`: SP-initiated (HTTP-Redirect
 * AuthnRequest), ACS with HTTP-POST. The library validates the signature (assertions must be
 * signed), InResponseTo against our request store (the database, single use), the time
 * conditions and the audience; we add the recipient/destination check, the IdP issuer, and the
 * assertion replay table.
 */
import { type CacheProvider, type Profile, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { Context } from '../../server/context.ts';
import { DEFAULT_MFA_CONTEXT_CLASSES, type SamlProviderConfig } from './config.ts';
import {
  assertionSeen,
  consumeAssertion,
  removeSamlRequest,
  samlRequest,
  saveSamlRequest,
} from './store.ts';

export interface SamlResult {
  readonly profile: Profile;
  readonly subject: string;
  readonly assertionId: string;
  readonly assertionExpiresAt: number;
  readonly contextClass: string | undefined;
  readonly mfa: boolean;
  readonly attributes: Record<string, unknown>;
}

/**
 * The request-id store node-saml uses for InResponseTo: rows of `portal_sso_flows` (kind
 * `saml`), bound to the browser that started the sign-in (`bindingHash`), removed on use.
 */
function requestStore(
  ctx: Context,
  provider: string,
  bindingHash: string,
  ttlMs: number,
): CacheProvider {
  return {
    async saveAsync(key, value) {
      const now = ctx.now();
      await saveSamlRequest(ctx.db, { id: key, provider, bindingHash, value }, now, now + ttlMs);
      return { value, createdAt: now };
    },
    getAsync: (key) => samlRequest(ctx.db, key, provider, bindingHash, ctx.now()),
    removeAsync: async (key) => (key ? removeSamlRequest(ctx.db, key, provider) : null),
  };
}

type XmlNode = { $?: Record<string, string>; _?: string; [k: string]: unknown };
const child = (node: unknown, name: string): XmlNode | undefined => {
  const list = (node as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(list) ? (list[0] as XmlNode | undefined) : undefined;
};

export class SamlServiceProvider {
  constructor(
    readonly provider: SamlProviderConfig,
    private readonly ctx: Context,
    private readonly acsUrl: () => string,
    private readonly ttlMs: number,
  ) {}

  private saml(bindingHash: string): SAML {
    const p = this.provider;
    return new SAML({
      callbackUrl: this.acsUrl(),
      entryPoint: p.entryPoint,
      issuer: p.issuer,
      audience: p.issuer,
      idpCert: typeof p.idpCert === 'string' ? p.idpCert : [...p.idpCert],
      ...(p.idpIssuer ? { idpIssuer: p.idpIssuer } : {}),
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: this.ttlMs,
      cacheProvider: requestStore(this.ctx, p.id, bindingHash, this.ttlMs),
      acceptedClockSkewMs: 60_000,
      maxAssertionAgeMs: 10 * 60_000,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
  }

  /** The IdP URL (redirect binding) for a new AuthnRequest bound to the browser. */
  async authorizeUrl(bindingHash: string): Promise<string> {
    return this.saml(bindingHash).getAuthorizeUrlAsync('', undefined, {});
  }

  /** The assertion ID, read before validation (only to refuse replays early). */
  static unverifiedAssertionId(samlResponse: string): string | undefined {
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    // eslint-disable-next-line security/detect-unsafe-regex -- linear: the optional prefix ends at ':', which it cannot contain
    return attributeOfFirstTag(xml, /<(?:[A-Za-z0-9_-]+:)?Assertion\b/, /\sID="([^"]{1,200})"/);
  }

  /** Validates the POSTed response; throws with a reason on any failed check. */
  async validate(samlResponse: string, bindingHash: string): Promise<SamlResult> {
    const p = this.provider;
    const { profile } = await this.saml(bindingHash).validatePostResponseAsync({
      SAMLResponse: samlResponse,
    });
    if (!profile) throw new Error('no assertion');
    if (p.idpIssuer && profile.issuer !== p.idpIssuer) throw new Error('unexpected issuer');
    const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
    const assertionId = assertion?.$?.ID;
    if (!assertion || !assertionId) throw new Error('assertion without ID');
    // Recipient of the bearer confirmation must be our ACS (node-saml does not check it).
    const confirmation = child(child(assertion, 'Subject'), 'SubjectConfirmation');
    const data = child(confirmation, 'SubjectConfirmationData');
    if (data?.$?.Recipient !== this.acsUrl()) throw new Error('wrong recipient');
    const responseXml = profile.getSamlResponseXml?.() ?? '';
    const destination = attributeOfFirstTag(
      responseXml,
      // eslint-disable-next-line security/detect-unsafe-regex -- linear: the optional prefix ends at ':', which it cannot contain
      /<(?:[A-Za-z0-9_-]+:)?Response\b/,
      /\sDestination="([^"]*)"/,
    );
    if (destination !== undefined && destination !== this.acsUrl())
      throw new Error('wrong destination');
    const notOnOrAfter =
      data?.$?.NotOnOrAfter ?? child(assertion, 'Conditions')?.$?.NotOnOrAfter ?? undefined;
    const expiresAt = notOnOrAfter ? Date.parse(notOnOrAfter) : Number.NaN;
    const contextClass = child(
      child(child(assertion, 'AuthnStatement'), 'AuthnContext'),
      'AuthnContextClassRef',
    )?._;
    const classes = p.mfaContextClasses ?? DEFAULT_MFA_CONTEXT_CLASSES;
    if (!profile.nameID) throw new Error('no NameID');
    return {
      profile,
      subject: profile.nameID,
      assertionId,
      assertionExpiresAt: Number.isFinite(expiresAt) ? expiresAt : this.ctx.now() + 3_600_000,
      contextClass: typeof contextClass === 'string' ? contextClass : undefined,
      mfa: typeof contextClass === 'string' && classes.includes(contextClass),
      attributes: (profile.attributes as Record<string, unknown> | undefined) ?? {},
    };
  }

  /** Records the assertion id; `false` when it was used before (a replay). */
  async consume(assertionId: string, expiresAt: number): Promise<boolean> {
    return consumeAssertion(this.ctx.db, this.provider.id, assertionId, expiresAt, this.ctx.now());
  }

  async seen(assertionId: string): Promise<boolean> {
    return assertionSeen(this.ctx.db, this.provider.id, assertionId);
  }
}

/**
 * The attribute inside the first start tag matched by `tag`, in linear time (the former single
 * regex backtracked quadratically on a crafted, not yet verified SAMLResponse).
 */
function attributeOfFirstTag(xml: string, tag: RegExp, attribute: RegExp): string | undefined {
  const start = xml.search(tag);
  if (start < 0) return undefined;
  const end = xml.indexOf('>', start);
  return attribute.exec(xml.slice(start, end < 0 ? undefined : end))?.[1];
}
