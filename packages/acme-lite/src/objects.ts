/**
 * The objects of RFC 8555 as they travel on the wire (directory, account, order, authorisation,
 * challenge, identifier), RFC 9773 renewal information, Let's Encrypt's directory URLs, and the
 * conversion of a name to an identifier.
 */
import type { AcmeProblem } from './errors.js';
import { AcmeError } from './errors.js';
import type { RenewalWindow } from './renewal.js';
import { ipBytes } from './x509.js';

/** Let's Encrypt production. */
export const LETS_ENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory';
/** Let's Encrypt staging. */
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/** The directory object (RFC 8555 §7.1.1), with RFC 9773 `renewalInfo` and profiles. */
export interface AcmeDirectory {
  readonly newNonce: string;
  readonly newAccount: string;
  readonly newOrder: string;
  readonly revokeCert: string;
  readonly keyChange: string;
  readonly newAuthz?: string;
  readonly renewalInfo?: string;
  readonly meta?: {
    readonly termsOfService?: string;
    readonly website?: string;
    readonly externalAccountRequired?: boolean;
    readonly profiles?: Readonly<Record<string, string>>;
  };
}

/** An ACME identifier. */
export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** An account object. */
export interface AcmeAccount {
  readonly url: string;
  readonly status: 'valid' | 'deactivated' | 'revoked';
  readonly contact?: readonly string[];
  readonly orders?: string;
}

/** An order object with its URL. */
export interface AcmeOrder {
  readonly url: string;
  readonly status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
  readonly identifiers: readonly AcmeIdentifier[];
  readonly authorizations: readonly string[];
  readonly finalize: string;
  readonly certificate?: string;
  readonly expires?: string;
  readonly profile?: string;
  readonly replaces?: string;
  readonly error?: AcmeProblem;
}

/** A challenge object. */
export interface AcmeChallenge {
  readonly type: string;
  readonly url: string;
  readonly token: string;
  readonly status: 'pending' | 'processing' | 'valid' | 'invalid';
  readonly error?: AcmeProblem;
}

/** An authorisation object with its URL. */
export interface AcmeAuthorization {
  readonly url: string;
  readonly status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  readonly identifier: AcmeIdentifier;
  readonly challenges: readonly AcmeChallenge[];
  readonly wildcard?: boolean;
}

/** The RFC 9773 renewal information of a certificate. */
export interface RenewalInfo {
  readonly suggestedWindow: RenewalWindow;
  readonly explanationURL?: string;
  /** When to ask again (from Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

/** Converts a name to an ACME identifier. */
export function toIdentifier(name: string): AcmeIdentifier {
  if (typeof name !== 'string' || name.length === 0 || name.length > 253)
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', `not a domain name or IP address: ${name}`);
  if (ipBytes(name)) return { type: 'ip', value: name };
  const lower = name.toLowerCase();
  if (
    // eslint-disable-next-line security/detect-unsafe-regex -- every repeated label ends in a literal dot, so there is one way to split the input: linear time
    !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(
      lower,
    )
  )
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', `not a domain name or IP address: ${name}`);
  return { type: 'dns', value: lower };
}
