/**
 * The glue between client and store: `openAccount` (the stored account, created on first use)
 * and `obtainCertificate` (lock, issue, store).
 */
import { AcmeClient, type AcmeClientOptions } from '../client.js';
import { AcmeError } from '../errors.js';
import type { ChallengeStore } from '../http01.js';
import { generateAccountKey, importAccountKey } from '../jws.js';
import type { CertKeyType } from '../x509.js';
import type { FileCertificateStore, StoredCertificate } from './store.js';

/** Options of {@link openAccount}. */
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

/** Options of {@link obtainCertificate}. */
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
}

/** Locks the first domain, issues, stores; the lock is released afterwards. */
export async function obtainCertificate(options: ObtainOptions): Promise<StoredCertificate> {
  const [first] = options.domains;
  if (!first) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'no domain given');
  const release = await options.store.lock(first);
  try {
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
