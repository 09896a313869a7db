/**
 * The objects of RFC 8555 as they travel on the wire (directory, account, order, authorisation,
 * challenge, identifier), RFC 9773 renewal information, Let's Encrypt's directory URLs, and the
 * conversion of a name to an identifier.
 */
import type { AcmeProblem } from './errors.js';
import { AcmeError } from './errors.js';
import type { RenewalWindow } from './renewal.js';
import { ipBytes } from './x509.js';

/**
 * Let's Encrypt production.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeClient, generateAccountKey, LETS_ENCRYPT_PRODUCTION } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const client = new AcmeClient({ accountKey: key }); // production is the default
 * assert.equal(client.directoryUrl, LETS_ENCRYPT_PRODUCTION);
 * ```
 */
export const LETS_ENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory';
/**
 * Let's Encrypt staging.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeClient, generateAccountKey, LETS_ENCRYPT_STAGING } from '@fluxel/acme-lite';
 *
 * // Try the whole flow against staging first: its rate limits are far higher.
 * const { key } = await generateAccountKey();
 * const client = new AcmeClient({ directoryUrl: LETS_ENCRYPT_STAGING, accountKey: key });
 * assert.match(client.directoryUrl, /acme-staging-v02/);
 * ```
 */
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/**
 * The directory object (RFC 8555 §7.1.1), with RFC 9773 `renewalInfo` and profiles.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeClient, type AcmeDirectory, generateAccountKey } from '@fluxel/acme-lite';
 *
 * const directory: AcmeDirectory = {
 *   newNonce: 'https://ca.example/acme/new-nonce',
 *   newAccount: 'https://ca.example/acme/new-acct',
 *   newOrder: 'https://ca.example/acme/new-order',
 *   revokeCert: 'https://ca.example/acme/revoke-cert',
 *   keyChange: 'https://ca.example/acme/key-change',
 *   renewalInfo: 'https://ca.example/acme/renewal-info',
 *   meta: { profiles: { classic: 'the 90-day certificate', shortlived: 'the 6-day certificate' } },
 * };
 * // A stand-in CA that only serves its directory.
 * const client = new AcmeClient({
 *   directoryUrl: 'https://ca.example/acme/directory',
 *   accountKey: (await generateAccountKey()).key,
 *   fetch: async () => Response.json(directory),
 * });
 * assert.deepEqual(Object.keys((await client.directory()).meta?.profiles ?? {}), ['classic', 'shortlived']);
 * ```
 */
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

/**
 * An ACME identifier.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AcmeIdentifier, toIdentifier } from '@fluxel/acme-lite';
 *
 * const identifiers: AcmeIdentifier[] = ['Shop.Example.org', '192.0.2.10'].map(toIdentifier);
 * assert.deepEqual(identifiers, [
 *   { type: 'dns', value: 'shop.example.org' },
 *   { type: 'ip', value: '192.0.2.10' },
 * ]);
 * ```
 */
export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/**
 * An account object.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { AcmeAccount } from '@fluxel/acme-lite';
 *
 * // What AcmeClient.createAccount() and findAccount() resolve to.
 * const account: AcmeAccount = {
 *   url: 'https://ca.example/acme/acct/123',
 *   status: 'valid',
 *   contact: ['mailto:ops@example.org'],
 * };
 * assert.equal(account.status, 'valid');
 * ```
 */
export interface AcmeAccount {
  readonly url: string;
  readonly status: 'valid' | 'deactivated' | 'revoked';
  readonly contact?: readonly string[];
  readonly orders?: string;
}

/**
 * An order object with its URL.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { AcmeOrder } from '@fluxel/acme-lite';
 *
 * // What AcmeClient.newOrder() and getOrder() resolve to.
 * const order: AcmeOrder = {
 *   url: 'https://ca.example/acme/order/42',
 *   status: 'pending',
 *   identifiers: [{ type: 'dns', value: 'shop.example.org' }],
 *   authorizations: ['https://ca.example/acme/authz/7'],
 *   finalize: 'https://ca.example/acme/order/42/finalize',
 * };
 * assert.equal(order.identifiers[0]?.value, 'shop.example.org');
 * ```
 */
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

/**
 * A challenge object.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { AcmeChallenge } from '@fluxel/acme-lite';
 *
 * const challenge: AcmeChallenge = {
 *   type: 'http-01',
 *   url: 'https://ca.example/acme/chall/9',
 *   token: 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA',
 *   status: 'pending',
 * };
 * assert.equal(challenge.type, 'http-01');
 * ```
 */
export interface AcmeChallenge {
  readonly type: string;
  readonly url: string;
  readonly token: string;
  readonly status: 'pending' | 'processing' | 'valid' | 'invalid';
  readonly error?: AcmeProblem;
}

/**
 * An authorisation object with its URL.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { AcmeAuthorization } from '@fluxel/acme-lite';
 *
 * // What AcmeClient.getAuthorization() resolves to.
 * const authorization: AcmeAuthorization = {
 *   url: 'https://ca.example/acme/authz/7',
 *   status: 'pending',
 *   identifier: { type: 'dns', value: 'shop.example.org' },
 *   challenges: [
 *     {
 *       type: 'http-01',
 *       url: 'https://ca.example/acme/chall/9',
 *       token: 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA',
 *       status: 'pending',
 *     },
 *   ],
 * };
 * assert.ok(authorization.challenges.some((c) => c.type === 'http-01'));
 * ```
 */
export interface AcmeAuthorization {
  readonly url: string;
  readonly status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  readonly identifier: AcmeIdentifier;
  readonly challenges: readonly AcmeChallenge[];
  readonly wildcard?: boolean;
}

/**
 * The RFC 9773 renewal information of a certificate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RenewalInfo, renewalTime } from '@fluxel/acme-lite';
 *
 * // What AcmeClient.renewalInfo() resolves to when the CA offers ARI.
 * const info: RenewalInfo = {
 *   suggestedWindow: { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-02T00:00:00Z') },
 *   retryAfterMs: 21_600_000,
 * };
 * const at = renewalTime(
 *   { notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-04-01T00:00:00Z' },
 *   { ari: info.suggestedWindow, now: Date.parse('2026-01-02T00:00:00Z'), random: () => 0.5 },
 * );
 * assert.equal(at.toISOString(), '2026-03-01T12:00:00.000Z');
 * ```
 */
export interface RenewalInfo {
  readonly suggestedWindow: RenewalWindow;
  readonly explanationURL?: string;
  /** When to ask again (from Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

/**
 * Converts a name to an ACME identifier.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { toIdentifier } from '@fluxel/acme-lite';
 *
 * assert.deepEqual(toIdentifier('*.Example.org'), { type: 'dns', value: '*.example.org' });
 * assert.deepEqual(toIdentifier('2001:db8::1'), { type: 'ip', value: '2001:db8::1' });
 * assert.throws(() => toIdentifier('shop_example'), { code: 'ERR_ACME_INVALID_ARGUMENT' });
 * ```
 */
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
