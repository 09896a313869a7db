/**
 * The glue between client and store: `openAccount` (the stored account, created on first use)
 * and `obtainCertificate` (lock, issue, store).
 */
import { AcmeClient, type AcmeClientOptions } from '../client.js';
import { AcmeError } from '../errors.js';
import type { ChallengeStore } from '../http01.js';
import { generateAccountKey, importAccountKey } from '../jws.js';
import type { OrderLock } from '../order-lock.js';
import type { CertKeyType } from '../x509.js';
import type { FileCertificateStore, StoredCertificate } from './store.js';

/**
 * Options of {@link openAccount}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { acmeFetch, FileCertificateStore, type OpenAccountOptions } from '@fluxel/acme-lite/node';
 *
 * const options: OpenAccountOptions = {
 *   store: new FileCertificateStore({ root: join(tmpdir(), 'myapp') }),
 *   email: 'ops@example.org',
 *   fetch: acmeFetch(), // or acmeFetch({ ca: pebbleCaPem }) for Pebble
 *   pollTimeoutMs: 60_000,
 * };
 * // const client = await openAccount(options); // talks to the store's CA
 * assert.equal(options.store.directoryUrl, 'https://acme-v02.api.letsencrypt.org/directory');
 * ```
 */
export interface OpenAccountOptions
  extends Omit<AcmeClientOptions, 'accountKey' | 'accountUrl' | 'directoryUrl'> {
  readonly store: FileCertificateStore;
  /** Contact e-mail; used when the account is created. */
  readonly email?: string;
  readonly externalAccountBinding?: { readonly kid: string; readonly hmacKey: string };
}

/**
 * A client for the store's directory with the stored account, creating (and storing) the
 * account key and account on first use — no manual account step.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, openAccount } from '@fluxel/acme-lite/node';
 *
 * // A stand-in CA: directory, nonces, and newAccount creating account 1.
 * const ca: typeof fetch = async (input) => {
 *   const url = String(input);
 *   const headers = { 'replay-nonce': `nonce-${Math.random()}` };
 *   if (url.endsWith('/directory'))
 *     return Response.json({ newNonce: 'https://ca.example/nonce', newAccount: 'https://ca.example/account', newOrder: 'https://ca.example/order', revokeCert: 'https://ca.example/revoke', keyChange: 'https://ca.example/key-change' });
 *   if (url.endsWith('/nonce')) return new Response(null, { headers });
 *   return Response.json({ status: 'valid' }, { status: 201, headers: { ...headers, location: 'https://ca.example/acct/1' } });
 * };
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root, directoryUrl: 'https://ca.example/directory' });
 *   const client = await openAccount({ store, email: 'ops@example.org', fetch: ca });
 *   assert.equal(client.accountUrl, 'https://ca.example/acct/1');
 *   // The key and the account URL are stored: the next start reuses them.
 *   assert.equal((await store.loadAccount())?.url, 'https://ca.example/acct/1');
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export async function openAccount(options: OpenAccountOptions): Promise<AcmeClient> {
  const { store, email, externalAccountBinding, ...clientOptions } = options;
  let account = await store.loadAccount();
  if (!account) {
    account = { privateJwk: (await generateAccountKey()).privateJwk };
    await store.saveAccount(account);
  }
  const client = new AcmeClient({
    ...clientOptions,
    directoryUrl: store.directoryUrl,
    accountKey: await importAccountKey(account.privateJwk),
    ...(account.url ? { accountUrl: account.url } : {}),
  });
  if (!account.url) {
    const created = await client.createAccount({
      ...(email ? { contact: [email] } : {}),
      termsOfServiceAgreed: true,
      ...(externalAccountBinding ? { externalAccountBinding } : {}),
    });
    await store.saveAccount({
      ...account,
      url: created.url,
      ...(email ? { contact: [email] } : {}),
    });
  }
  return client;
}

/**
 * Options of {@link obtainCertificate}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AcmeClient, FileCertificateStore, generateAccountKey, MemoryChallengeStore, type ObtainOptions } from '@fluxel/acme-lite/node';
 *
 * const store = new FileCertificateStore({ root: join(tmpdir(), 'myapp') });
 * const options: ObtainOptions = {
 *   client: new AcmeClient({ accountKey: (await generateAccountKey()).key }), // usually openAccount({ store })
 *   store,
 *   domains: ['shop.example.org', 'www.shop.example.org'],
 *   challengeStore: new MemoryChallengeStore(), // the one your port-80 listener answers from
 *   keyType: { type: 'ec' },
 *   onProgress: (step) => console.debug(step),
 * };
 * // const stored = await obtainCertificate(options); // needs the CA to reach your port 80
 * assert.equal(options.domains[0], 'shop.example.org'); // names the lock
 * ```
 */
export interface ObtainOptions {
  readonly client: AcmeClient;
  readonly store: FileCertificateStore;
  readonly domains: readonly string[];
  readonly challengeStore: ChallengeStore;
  readonly keyType?: CertKeyType;
  readonly profile?: string;
  readonly preferredChain?: string;
  /** Ask ARI-capable CAs to link the new order to this stored certificate. */
  readonly replaces?: StoredCertificate;
  readonly onProgress?: (step: string) => void;
  /**
   * The order lock to take for the first domain. Default the store's lock file (one host);
   * `redisOrderLock(client)` when several hosts or containers order for the same names.
   */
  readonly lock?: OrderLock;
  /**
   * Asked once the lock is held, with the store's current certificate for the first domain:
   * `true` orders nothing and returns that certificate. Lets an instance that decided to order
   * before it got the lock see that another one has just stored a certificate (the check is
   * then made under the lock, so two instances never both order).
   */
  readonly unless?: (current: StoredCertificate | undefined) => boolean | Promise<boolean>;
}

/**
 * Locks the first domain, issues, stores; the lock is released afterwards.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AcmeClient, FileCertificateStore, generateAccountKey, MemoryChallengeStore, obtainCertificate } from '@fluxel/acme-lite/node';
 *
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   const client = new AcmeClient({
 *     accountKey: (await generateAccountKey()).key,
 *     accountUrl: 'https://acme-v02.api.letsencrypt.org/acme/acct/1',
 *     // Offline here: the CA cannot be reached (with the network, leave `fetch` out).
 *     fetch: async () => {
 *       throw new TypeError('fetch failed');
 *     },
 *   });
 *   const challengeStore = new MemoryChallengeStore();
 *   await assert.rejects(
 *     obtainCertificate({ client, store, domains: ['shop.example.org'], challengeStore }),
 *     { code: 'ERR_ACME_UNREACHABLE' },
 *   );
 *   // The domain's lock was released: the next attempt can take it.
 *   await (await store.lock('shop.example.org'))();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export async function obtainCertificate(options: ObtainOptions): Promise<StoredCertificate> {
  const [first] = options.domains;
  if (!first) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'no domain given');
  const release = await (options.lock ? options.lock(first) : options.store.lock(first));
  try {
    if (options.unless) {
      const current = await options.store.current(first);
      if (current && (await options.unless(current))) return current;
    }
    const issued = await options.client.issue({
      identifiers: options.domains,
      challengeStore: options.challengeStore,
      ...(options.keyType ? { keyType: options.keyType } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.preferredChain ? { preferredChain: options.preferredChain } : {}),
      ...(options.replaces?.meta.ariId ? { replaces: options.replaces.meta.ariId } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    options.onProgress?.('storing');
    return await options.store.save(issued);
  } finally {
    await release();
  }
}
