/**
 * SSO configuration: the identity providers (OpenID Connect, SAML 2.0), how their users map to
 * tenants and roles, and whether the portal trusts an IdP's statement that it did MFA.
 */
import type { Role } from '../../shared/permissions.ts';

/**
 * A mapping rule: when every condition given matches the IdP's claims/attributes, the user
 * belongs to `tenant` with `role`. The first matching rule wins. Rules are used to provision an
 * account just in time and to allow linking an existing account by its (verified) e-mail; an
 * already linked identity signs in without a rule.
 */
export interface SsoMappingRule {
  /** The e-mail's domain (after `@`, case-insensitive), e.g. `merchant.example`. */
  readonly emailDomain?: string;
  /** A value of the groups claim/attribute (see `groupsClaim`). */
  readonly group?: string;
  /** Any claim/attribute equal to a value (or, for arrays, containing it). */
  readonly claim?: { readonly name: string; readonly value: string };
  readonly tenant: string;
  readonly role: Role;
  /** `false`: the rule only allows linking existing accounts, never provisions one. */
  readonly provision?: boolean;
  /** An `administrator` role needs this, on top of naming it (never by accident). */
  readonly allowAdministrator?: boolean;
}

export interface SsoMapping {
  readonly rules: readonly SsoMappingRule[];
  /** The claim/attribute holding group names; default `groups`. */
  readonly groupsClaim?: string;
  /** The claim/attribute holding the e-mail; default `email` (SAML: also `mail` and the OID). */
  readonly emailClaim?: string;
  /** The claim/attribute holding the display name; default `name` (SAML: `displayName`). */
  readonly nameClaim?: string;
}

export interface OidcProviderConfig {
  readonly kind: 'oidc';
  /** URL segment, `[a-z0-9-]`. */
  readonly id: string;
  /** Shown on the button "Sign in with <name>". */
  readonly name: string;
  /** The issuer; discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PEM of the CA that signs the IdP's TLS certificate (private/dev CAs). */
  readonly ca?: string;
  /** Plain HTTP is accepted only for loopback issuers and only when this is set (tests). */
  readonly allowHttpLoopback?: boolean;
  /** Scopes; default `openid email profile`. */
  readonly scope?: string;
  /** `acr` values that count as MFA (besides `amr` containing mfa/otp/hwk/swk); default `DEFAULT_MFA_ACR`. */
  readonly mfaAcrValues?: readonly string[];
  readonly mapping: SsoMapping;
}

export interface SamlProviderConfig {
  readonly kind: 'saml';
  readonly id: string;
  readonly name: string;
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  readonly entryPoint: string;
  /** PEM (or base64 DER) of the IdP's signing certificate(s). */
  readonly idpCert: string | readonly string[];
  /** Our entity id (the audience the IdP must name). */
  readonly issuer: string;
  /** The IdP's entity id; checked when given. */
  readonly idpIssuer?: string;
  /** AuthnContextClassRefs that count as MFA; default the SAML 2.0 MultiFactor classes. */
  readonly mfaContextClasses?: readonly string[];
  readonly mapping: SsoMapping;
}

export type SsoProviderConfig = OidcProviderConfig | SamlProviderConfig;

export interface SsoOptions {
  readonly providers: readonly SsoProviderConfig[];
  /**
   * Trust the IdP's MFA statement (OIDC `amr`/`acr`, SAML AuthnContextClassRef): then an SSO
   * sign-in with MFA is a full session. Otherwise (and when the IdP asserts none) the portal's
   * own second factor is still required.
   */
  readonly trustMfa: boolean;
  /** How long a started sign-in may take at the IdP; default 10 min. */
  readonly flowTtlMs?: number;
}

export const MFA_AMR = new Set(['mfa', 'otp', 'hwk', 'swk']);
export const DEFAULT_MFA_ACR = [
  // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- an ACR identifier compared as a string, never fetched
  'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
  'https://refeds.org/profile/mfa',
];
export const DEFAULT_MFA_CONTEXT_CLASSES = [
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactorContract',
  'https://refeds.org/profile/mfa',
];

/** Throws on a configuration that would be unsafe or ambiguous (checked when routes register). */
export function checkSsoOptions(options: SsoOptions): void {
  const ids = new Set<string>();
  for (const p of options.providers) {
    if (!/^[a-z0-9-]{1,40}$/.test(p.id)) throw new Error(`sso: invalid provider id ${p.id}`);
    if (ids.has(p.id)) throw new Error(`sso: duplicate provider id ${p.id}`);
    ids.add(p.id);
    for (const rule of p.mapping.rules) {
      if (rule.role === 'administrator' && rule.allowAdministrator !== true)
        throw new Error(`sso: ${p.id}: an administrator rule needs allowAdministrator: true`);
      if (!rule.emailDomain && !rule.group && !rule.claim)
        throw new Error(`sso: ${p.id}: a mapping rule needs at least one condition`);
    }
    if (p.kind === 'oidc') {
      const url = new URL(p.issuer);
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(p.allowHttpLoopback && loopback))
        throw new Error(`sso: ${p.id}: the issuer must use https`);
    }
  }
}

/** Claims/attributes as the mapping sees them: strings or string lists. */
export type Claims = Readonly<Record<string, unknown>>;

function values(claims: Claims, name: string): string[] {
  const v = claims[name];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'boolean' || typeof v === 'number') return [String(v)];
  return [];
}

export function firstValue(claims: Claims, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = values(claims, n)[0];
    if (v) return v;
  }
  return undefined;
}

/** The first rule whose conditions all hold for `claims` (with the normalised `email`). */
export function matchRule(
  mapping: SsoMapping,
  claims: Claims,
  email: string | undefined,
): SsoMappingRule | undefined {
  const domain = email?.split('@')[1]?.toLowerCase();
  const groups = values(claims, mapping.groupsClaim ?? 'groups');
  return mapping.rules.find(
    (rule) =>
      (rule.emailDomain === undefined || rule.emailDomain.toLowerCase() === domain) &&
      (rule.group === undefined || groups.includes(rule.group)) &&
      (rule.claim === undefined || values(claims, rule.claim.name).includes(rule.claim.value)),
  );
}
