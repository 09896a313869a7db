/**
 * The RFC 8555 client: directory, nonces, account, orders, HTTP-01, finalize, certificate
 * download, revocation, plus ACME profiles and ARI (RFC 9773). Web-platform code (fetch, Web
 * Crypto); pass your own `fetch` to trust a private CA or to count requests.
 */
import { b64u } from '../../internal/src/base64url.js';
import { pemBlocks } from './der.js';
import { AcmeError, type AcmeProblem } from './errors.js';
import { type ChallengeStore, isValidToken } from './http01.js';
import {
  type AcmeKey,
  type ExternalAccountBinding,
  eabJws,
  jwkThumbprint,
  signJws,
} from './jws.js';
import {
  type AcmeAccount,
  type AcmeAuthorization,
  type AcmeChallenge,
  type AcmeDirectory,
  type AcmeOrder,
  LETS_ENCRYPT_PRODUCTION,
  type RenewalInfo,
  toIdentifier,
} from './objects.js';
import { parseRetryAfter } from './renewal.js';
import { transportFailure } from './transport.js';
import { USER_AGENT } from './version.js';
import {
  type CertKey,
  type CertKeyType,
  createCsr,
  exportKeyPem,
  generateCertKey,
  parseCertificate,
  parseCertificatePem,
  splitChain,
} from './x509.js';

/**
 * Options of {@link AcmeClient}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeClient, type AcmeClientOptions, generateAccountKey, LETS_ENCRYPT_STAGING } from '@fluxel/acme-lite';
 *
 * let requests = 0;
 * const options: AcmeClientOptions = {
 *   directoryUrl: LETS_ENCRYPT_STAGING,
 *   accountKey: (await generateAccountKey()).key,
 *   pollTimeoutMs: 60_000,
 *   // Count requests (a stand-in answers here instead of the network).
 *   fetch: async () => {
 *     requests++;
 *     return Response.json({ newNonce: 'n', newAccount: 'a', newOrder: 'o', revokeCert: 'r', keyChange: 'k' });
 *   },
 * };
 * const client = new AcmeClient(options);
 * await client.directory();
 * await client.directory(); // fetched once
 * assert.equal(requests, 1);
 * ```
 */
export interface AcmeClientOptions {
  /** The directory URL. Default Let's Encrypt production. */
  readonly directoryUrl?: string;
  /** The account key. */
  readonly accountKey: AcmeKey;
  /** The account URL, when known (skips the lookup). */
  readonly accountUrl?: string;
  /** The fetch to use (to trust a private CA, add a proxy or count requests). */
  readonly fetch?: typeof fetch;
  /**
   * How often a request refused with badNonce is retried with the fresh nonce the refusal
   * carries. Default 30: a retry costs one request the CA asked for, and with a CA that rejects
   * half of all nonces (Pebble's test setting) 10 retries still fail one request in 2,048.
   */
  readonly badNonceRetries?: number;
  /** Longest time to wait for a pending authorisation or order. Default 3 minutes. */
  readonly pollTimeoutMs?: number;
  /**
   * First poll delay; grows fourfold per poll (1, 4, 16, 64, 256 ms, 1 s, 4 s, …) up to
   * `pollMaxMs`, and is never shorter than the CA's Retry-After. Default 1 ms.
   */
  readonly pollInitialMs?: number;
  /** Longest poll delay without Retry-After. Default 5 s. */
  readonly pollMaxMs?: number;
  /** Sleep (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Options of {@link AcmeClient.issue}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type IssueOptions, MemoryChallengeStore } from '@fluxel/acme-lite';
 *
 * const steps: string[] = [];
 * const options: IssueOptions = {
 *   identifiers: ['shop.example.org', 'www.shop.example.org'],
 *   challengeStore: new MemoryChallengeStore(), // the one your port-80 responder reads
 *   profile: 'shortlived', // Let's Encrypt's 6-day certificates
 *   onProgress: (step) => steps.push(step),
 * };
 * // const issued = await client.issue(options); // needs the CA to reach your port 80
 * assert.equal(options.identifiers.length, 2);
 * ```
 */
export interface IssueOptions {
  /** DNS names and IP addresses (IPv4/IPv6 literals become `ip` identifiers, RFC 8738). */
  readonly identifiers: readonly string[];
  /** Where the HTTP-01 responder finds key authorisations. */
  readonly challengeStore: ChallengeStore;
  /** The certificate key; generated (ECDSA P-256 unless `keyType` says RSA) when absent. */
  readonly certKey?: CertKey;
  readonly keyType?: CertKeyType;
  /** An ACME profile name the CA advertises in `meta.profiles`. */
  readonly profile?: string;
  /** ARI: the certificate identifier this order replaces. */
  readonly replaces?: string;
  /** Prefer the chain whose top certificate is issued by (or is) this common name. */
  readonly preferredChain?: string;
  /** Reports progress ("ordering", "validating example.org", …). */
  readonly onProgress?: (step: string) => void;
}

/**
 * What {@link AcmeClient.issue} returns.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { exportKeyPem, generateCertKey, type IssuedCertificate, parseCertificatePem } from '@fluxel/acme-lite';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * // What AcmeClient.issue() resolves to (FileCertificateStore.save() takes it as it is).
 * const issued: IssuedCertificate = {
 *   orderUrl: 'https://ca.example/acme/order/42',
 *   identifiers: ['localhost'],
 *   certPem,
 *   chainPem: '',
 *   keyPem: await exportKeyPem((await generateCertKey()).privateKey),
 * };
 * assert.deepEqual(parseCertificatePem(issued.certPem).sans, ['localhost']);
 * ```
 */
export interface IssuedCertificate {
  readonly orderUrl: string;
  readonly identifiers: readonly string[];
  /** The leaf certificate, PEM. */
  readonly certPem: string;
  /** The intermediates, PEM. */
  readonly chainPem: string;
  /** PKCS #8 PEM of the certificate key. */
  readonly keyPem: string;
  readonly profile?: string;
}

const ERR = 'urn:ietf:params:acme:error:';
const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Response_ {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly json: unknown;
}

/**
 * An RFC 8555 client bound to one account key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AcmeClient, generateAccountKey, jwkThumbprint } from '@fluxel/acme-lite';
 *
 * const { key } = await generateAccountKey();
 * const client = new AcmeClient({
 *   directoryUrl: 'https://ca.example/acme/directory',
 *   accountKey: key,
 *   // A stand-in CA serving only its directory; leave `fetch` out to use the network.
 *   fetch: async () =>
 *     Response.json({
 *       newNonce: 'https://ca.example/acme/new-nonce',
 *       newAccount: 'https://ca.example/acme/new-acct',
 *       newOrder: 'https://ca.example/acme/new-order',
 *       revokeCert: 'https://ca.example/acme/revoke-cert',
 *       keyChange: 'https://ca.example/acme/key-change',
 *     }),
 * });
 * assert.equal((await client.directory()).newOrder, 'https://ca.example/acme/new-order');
 * const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
 * assert.equal(await client.keyAuthorization(token), `${token}.${await jwkThumbprint(key.publicJwk)}`);
 * // With a real CA: await client.createAccount({ termsOfServiceAgreed: true }), then client.issue({ … }).
 * ```
 */
export class AcmeClient {
  readonly directoryUrl: string;
  #key: AcmeKey;
  #accountUrl: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #badNonceRetries: number;
  readonly #pollTimeoutMs: number;
  readonly #pollInitialMs: number;
  readonly #pollMaxMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  #directory: Promise<AcmeDirectory> | undefined;
  readonly #nonces: string[] = [];

  constructor(options: AcmeClientOptions) {
    this.directoryUrl = options.directoryUrl ?? LETS_ENCRYPT_PRODUCTION;
    this.#key = options.accountKey;
    this.#accountUrl = options.accountUrl;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#badNonceRetries = options.badNonceRetries ?? 30;
    this.#pollTimeoutMs = options.pollTimeoutMs ?? 180_000;
    this.#pollInitialMs = options.pollInitialMs ?? 1;
    this.#pollMaxMs = options.pollMaxMs ?? 5_000;
    this.#sleep = options.sleep ?? sleeper;
  }

  /** The account URL, once known. */
  get accountUrl(): string | undefined {
    return this.#accountUrl;
  }

  /** The current account key. */
  get accountKey(): AcmeKey {
    return this.#key;
  }

  /** The directory (fetched once). */
  directory(): Promise<AcmeDirectory> {
    this.#directory ??= this.#http(this.directoryUrl, { method: 'GET' }).then((res) => {
      if (res.status !== 200 || typeof (res.json as AcmeDirectory)?.newNonce !== 'string') {
        this.#directory = undefined;
        throw new AcmeError('ERR_ACME_PROBLEM', `${this.directoryUrl} is not an ACME directory`);
      }
      return res.json as AcmeDirectory;
    });
    return this.#directory;
  }

  /** The key authorisation for a token (RFC 8555 §8.1). */
  async keyAuthorization(token: string): Promise<string> {
    return `${token}.${await jwkThumbprint(this.#key.publicJwk)}`;
  }

  async #http(url: string, init: RequestInit): Promise<Response_> {
    const headers = new Headers(init.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT);
    let res: Response;
    try {
      res = await this.#fetch(url, { ...init, headers });
    } catch (cause) {
      const { reason, text } = transportFailure(cause);
      throw new AcmeError('ERR_ACME_UNREACHABLE', `request to ${url} failed: ${text}`, {
        cause,
        reason,
      });
    }
    const nonce = res.headers.get('replay-nonce');
    if (nonce) this.#nonces.push(nonce);
    const body = init.method === 'HEAD' ? '' : await res.text();
    let json: unknown;
    if (/json/.test(res.headers.get('content-type') ?? '') && body) {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, headers: res.headers, body, json };
  }

  async #nonce(): Promise<string> {
    const cached = this.#nonces.pop();
    if (cached) return cached;
    const dir = await this.directory();
    await this.#http(dir.newNonce, { method: 'GET' });
    const nonce = this.#nonces.pop();
    if (!nonce) throw new AcmeError('ERR_ACME_PROBLEM', 'the CA sent no Replay-Nonce');
    return nonce;
  }

  async #post(
    url: string,
    payload: unknown,
    options: { jwk?: boolean; accept?: string; build?: (url: string) => Promise<unknown> } = {},
  ): Promise<Response_> {
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.#nonce();
      const header: Record<string, unknown> = { nonce, url };
      if (options.jwk) header.jwk = this.#key.publicJwk;
      else header.kid = await this.#requireAccount();
      const body = await signJws(
        this.#key,
        header,
        options.build ? await options.build(url) : payload,
      );
      const res = await this.#http(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/jose+json',
          ...(options.accept ? { accept: options.accept } : {}),
        },
        body: JSON.stringify(body),
      });
      if (res.status < 400) return res;
      const problem = (res.json ?? { detail: res.body.slice(0, 500) }) as AcmeProblem;
      if (problem.type === `${ERR}badNonce` && attempt < this.#badNonceRetries) continue;
      throw problemError(res, problem, url);
    }
  }

  async #requireAccount(): Promise<string> {
    if (this.#accountUrl) return this.#accountUrl;
    const account = await this.findAccount();
    return account.url;
  }

  /**
   * Creates the account (or returns the existing one for this key; RFC 8555 §7.3.1). Agreeing
   * to the terms of service is required by Let's Encrypt.
   */
  async createAccount(
    options: {
      readonly contact?: readonly string[];
      readonly termsOfServiceAgreed?: boolean;
      readonly externalAccountBinding?: ExternalAccountBinding;
    } = {},
  ): Promise<AcmeAccount> {
    const dir = await this.directory();
    const payload: Record<string, unknown> = {
      termsOfServiceAgreed: options.termsOfServiceAgreed ?? true,
    };
    if (options.contact?.length) payload.contact = options.contact.map(toMailto);
    const eab = options.externalAccountBinding;
    const res = await this.#post(dir.newAccount, payload, {
      jwk: true,
      ...(eab
        ? {
            build: async (url: string) => ({
              ...payload,
              externalAccountBinding: await eabJws(eab, this.#key.publicJwk, url),
            }),
          }
        : {}),
    });
    return this.#setAccount(res);
  }

  /** Looks up the existing account of this key (`onlyReturnExisting`). */
  async findAccount(): Promise<AcmeAccount> {
    const dir = await this.directory();
    const res = await this.#post(dir.newAccount, { onlyReturnExisting: true }, { jwk: true });
    return this.#setAccount(res);
  }

  #setAccount(res: Response_): AcmeAccount {
    const url = res.headers.get('location');
    if (!url) throw new AcmeError('ERR_ACME_PROBLEM', 'the CA returned no account URL');
    this.#accountUrl = url;
    return { ...(res.json as object), url } as AcmeAccount;
  }

  /** Updates the contact addresses. */
  async updateAccount(contact: readonly string[]): Promise<AcmeAccount> {
    const url = await this.#requireAccount();
    const res = await this.#post(url, { contact: contact.map(toMailto) });
    return { ...(res.json as object), url } as AcmeAccount;
  }

  /** Deactivates the account (RFC 8555 §7.3.6). Irreversible. */
  async deactivateAccount(): Promise<AcmeAccount> {
    const url = await this.#requireAccount();
    const res = await this.#post(url, { status: 'deactivated' });
    return { ...(res.json as object), url } as AcmeAccount;
  }

  /** Replaces the account key with `newKey` (RFC 8555 §7.3.5); the client signs with it afterwards. */
  async rolloverKey(newKey: AcmeKey): Promise<void> {
    const dir = await this.directory();
    const account = await this.#requireAccount();
    await this.#post(dir.keyChange, undefined, {
      build: (url) =>
        signJws(newKey, { jwk: newKey.publicJwk, url }, { account, oldKey: this.#key.publicJwk }),
    });
    this.#key = newKey;
  }

  /** Places an order (RFC 8555 §7.4) with an optional profile and ARI `replaces`. */
  async newOrder(options: {
    readonly identifiers: readonly string[];
    readonly profile?: string;
    readonly replaces?: string;
  }): Promise<AcmeOrder> {
    const dir = await this.directory();
    if (options.profile && dir.meta?.profiles && !(options.profile in dir.meta.profiles))
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        `the CA offers no profile "${options.profile}" (it has: ${Object.keys(dir.meta.profiles).join(', ')})`,
      );
    const payload: Record<string, unknown> = { identifiers: options.identifiers.map(toIdentifier) };
    if (options.profile) payload.profile = options.profile;
    if (options.replaces && dir.renewalInfo) payload.replaces = options.replaces;
    const res = await this.#post(dir.newOrder, payload);
    const url = res.headers.get('location');
    if (!url) throw new AcmeError('ERR_ACME_PROBLEM', 'the CA returned no order URL');
    return { ...(res.json as object), url } as AcmeOrder;
  }

  /** Fetches an order (POST-as-GET). */
  async getOrder(url: string): Promise<AcmeOrder & { retryAfterMs?: number }> {
    const res = await this.#post(url, undefined);
    return withRetry({ ...(res.json as object), url } as AcmeOrder, res);
  }

  /** Fetches an authorisation (POST-as-GET). */
  async getAuthorization(url: string): Promise<AcmeAuthorization & { retryAfterMs?: number }> {
    const res = await this.#post(url, undefined);
    return withRetry({ ...(res.json as object), url } as AcmeAuthorization, res);
  }

  /** Tells the CA a challenge is ready (RFC 8555 §7.5.1). */
  async completeChallenge(url: string): Promise<AcmeChallenge> {
    const res = await this.#post(url, {});
    return res.json as AcmeChallenge;
  }

  /** Deactivates an authorisation. */
  async deactivateAuthorization(url: string): Promise<AcmeAuthorization> {
    const res = await this.#post(url, { status: 'deactivated' });
    return { ...(res.json as object), url } as AcmeAuthorization;
  }

  /**
   * Polls `fetchOnce` until `done` says so, with a delay that starts at `pollInitialMs` and
   * grows fourfold to `pollMaxMs`, never shorter than the CA's Retry-After, until the
   * deadline. `wake` (the CA fetched our challenge response) ends one wait early, unless the
   * CA asked for a Retry-After.
   */
  async #poll<T extends { retryAfterMs?: number }>(
    what: string,
    fetchOnce: () => Promise<T>,
    done: (value: T) => boolean,
    first?: T,
    wake?: Promise<unknown>,
  ): Promise<T> {
    const deadline = Date.now() + this.#pollTimeoutMs;
    let delay = this.#pollInitialMs;
    let early = wake;
    const pause = async (ms: number, honourOnly: boolean) => {
      if (Date.now() + ms > deadline)
        throw new AcmeError('ERR_ACME_TIMEOUT', `gave up waiting for ${what}`);
      if (early && !honourOnly) {
        const woken = early;
        early = undefined;
        const signalled = await Promise.race([
          this.#sleep(ms).then(() => false),
          woken.then(() => true),
        ]);
        // The CA has just validated: the answer is imminent, so restart the short schedule.
        if (signalled) {
          delay = this.#pollInitialMs;
          return;
        }
      } else await this.#sleep(ms);
      if (!honourOnly || ms === delay) delay = Math.min(this.#pollMaxMs, delay * 4);
    };
    let value = first;
    if (!value) {
      // With a wake signal, the first poll waits for it (or a second at most).
      if (wake) await pause(Math.max(delay, 1000), false);
      value = await fetchOnce();
    }
    while (!done(value)) {
      await pause(Math.max(delay, value.retryAfterMs ?? 0), value.retryAfterMs !== undefined);
      value = await fetchOnce();
    }
    return value;
  }

  /**
   * Waits until an order leaves `pending`/`processing`. `wake` resolves when polling is worth
   * doing at once (e.g. the CA fetched the challenge response).
   */
  waitForOrder(url: string, first?: AcmeOrder, wake?: Promise<unknown>): Promise<AcmeOrder> {
    return this.#poll<AcmeOrder & { retryAfterMs?: number }>(
      `order ${url}`,
      () => this.getOrder(url),
      (o) => o.status !== 'pending' && o.status !== 'processing',
      first,
      wake,
    );
  }

  /** Finalizes an order with a DER CSR. */
  async finalize(
    order: AcmeOrder,
    csr: Uint8Array,
  ): Promise<AcmeOrder & { retryAfterMs?: number }> {
    const res = await this.#post(order.finalize, { csr: b64u(csr) });
    return withRetry({ ...(res.json as object), url: order.url } as AcmeOrder, res);
  }

  /**
   * Downloads a certificate chain (PEM). With `preferredChain`, the alternates the CA links
   * (`rel="alternate"`) are tried too and the first whose last certificate is issued by or
   * named after that common name wins; else the default chain.
   */
  async downloadCertificate(url: string, preferredChain?: string): Promise<string> {
    const res = await this.#post(url, undefined, { accept: 'application/pem-certificate-chain' });
    if (!preferredChain || matchesChain(res.body, preferredChain)) return res.body;
    for (const alt of linkHeader(res.headers, 'alternate')) {
      const other = await this.#post(alt, undefined, {
        accept: 'application/pem-certificate-chain',
      });
      if (matchesChain(other.body, preferredChain)) return other.body;
    }
    return res.body;
  }

  /**
   * Revokes a certificate (RFC 8555 §7.6), signed by the account key, or by the certificate's
   * own key when `certKey` is given (the account is then not needed).
   */
  async revoke(
    certPem: string,
    options: { reason?: number; certKey?: AcmeKey } = {},
  ): Promise<void> {
    const dir = await this.directory();
    const [der] = pemBlocks(certPem);
    if (!der) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'no certificate to revoke');
    const payload = {
      certificate: b64u(der),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    };
    const certKey = options.certKey;
    if (!certKey) {
      await this.#post(dir.revokeCert, payload);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.#nonce();
      const body = await signJws(
        certKey,
        { nonce, url: dir.revokeCert, jwk: certKey.publicJwk },
        payload,
      );
      const res = await this.#http(dir.revokeCert, {
        method: 'POST',
        headers: { 'content-type': 'application/jose+json' },
        body: JSON.stringify(body),
      });
      if (res.status < 400) return;
      const problem = (res.json ?? {}) as AcmeProblem;
      if (problem.type === `${ERR}badNonce` && attempt < this.#badNonceRetries) continue;
      throw problemError(res, problem, dir.revokeCert);
    }
  }

  /**
   * The CA's suggested renewal window for a certificate (RFC 9773). `undefined` when the CA
   * has no `renewalInfo` endpoint or the certificate has no authority key identifier.
   */
  async renewalInfo(certPem: string): Promise<RenewalInfo | undefined> {
    const dir = await this.directory();
    const id = parseCertificatePem(certPem).ariId;
    if (!dir.renewalInfo || !id) return undefined;
    const res = await this.#http(`${dir.renewalInfo.replace(/\/$/, '')}/${id}`, { method: 'GET' });
    if (res.status !== 200)
      throw problemError(res, (res.json ?? {}) as AcmeProblem, dir.renewalInfo);
    const json = res.json as {
      suggestedWindow?: { start?: string; end?: string };
      explanationURL?: string;
    };
    const start = new Date(json?.suggestedWindow?.start ?? Number.NaN);
    const end = new Date(json?.suggestedWindow?.end ?? Number.NaN);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start)
      throw new AcmeError('ERR_ACME_PROBLEM', 'the CA sent a malformed renewal window');
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return {
      suggestedWindow: { start, end },
      ...(json.explanationURL ? { explanationURL: json.explanationURL } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }

  /**
   * The whole flow: account (created when unknown), order, HTTP-01 for every pending
   * authorisation through `challengeStore`, CSR, finalize, download. Key authorisations are
   * removed from the store afterwards, success or not.
   */
  async issue(options: IssueOptions): Promise<IssuedCertificate> {
    const progress = options.onProgress ?? (() => {});
    // Made while the CA works; awaited only at finalize.
    const certKeyReady = options.certKey
      ? Promise.resolve(options.certKey)
      : generateCertKey(options.keyType);
    certKeyReady.catch(() => {});
    if (!this.#accountUrl) await this.createAccount();
    progress('ordering');
    let order = await this.newOrder({
      identifiers: options.identifiers,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.replaces ? { replaces: options.replaces } : {}),
    });
    const tokens: string[] = [];
    try {
      if (order.status === 'pending') {
        const authzs = await Promise.all(order.authorizations.map((u) => this.getAuthorization(u)));
        const started: Promise<unknown>[] = [];
        const fetched: Promise<void>[] = [];
        const store = options.challengeStore;
        for (const authz of authzs) {
          if (authz.status === 'valid') continue;
          if (authz.status !== 'pending')
            throw new AcmeError(
              'ERR_ACME_PROBLEM',
              `authorisation for ${authz.identifier.value} is ${authz.status}`,
            );
          const challenge = authz.challenges.find((c) => c.type === 'http-01');
          if (!challenge)
            throw new AcmeError(
              'ERR_ACME_PROBLEM',
              `the CA offers no http-01 challenge for ${authz.identifier.value}`,
            );
          if (!isValidToken(challenge.token))
            throw new AcmeError(
              'ERR_ACME_INVALID_TOKEN',
              `the CA sent a malformed http-01 token for ${authz.identifier.value}`,
            );
          progress(`validating ${authz.identifier.value}`);
          await options.challengeStore.set(
            challenge.token,
            await this.keyAuthorization(challenge.token),
          );
          tokens.push(challenge.token);
          if (store.fetched) fetched.push(store.fetched(challenge.token));
          started.push(this.completeChallenge(challenge.url));
        }
        await Promise.all(started);
        const wake = fetched.length === tokens.length ? Promise.all(fetched) : undefined;
        order = await this.waitForOrder(order.url, undefined, wake);
        if (order.status !== 'ready') throw await this.#orderFailure(order);
      }
      progress('finalizing');
      const certKey = await certKeyReady;
      if (order.status === 'ready') {
        const csr = await createCsr(
          order.identifiers.map((i) => i.value),
          certKey,
        );
        order = await this.finalize(order, csr);
      }
      order = await this.waitForOrder(order.url, order);
      if (order.status !== 'valid' || !order.certificate) throw await this.#orderFailure(order);
      progress('downloading');
      const pem = await this.downloadCertificate(order.certificate, options.preferredChain);
      const { cert, chain } = splitChain(pem);
      return {
        orderUrl: order.url,
        identifiers: order.identifiers.map((i) => i.value),
        certPem: cert,
        chainPem: chain,
        keyPem: await exportKeyPem(certKey.privateKey),
        ...(order.profile ? { profile: order.profile } : {}),
      };
    } finally {
      for (const token of tokens) await options.challengeStore.delete(token);
    }
  }

  async #orderFailure(order: AcmeOrder): Promise<AcmeError> {
    for (const url of order.authorizations) {
      const authz = await this.getAuthorization(url).catch(() => undefined);
      const failed = authz?.challenges.find((c) => c.status === 'invalid' && c.error);
      if (failed?.error)
        return new AcmeError(
          'ERR_ACME_PROBLEM',
          `validation of ${authz?.identifier.value} failed: ${failed.error.detail ?? failed.error.type}`,
          { problem: failed.error },
        );
    }
    return new AcmeError(
      'ERR_ACME_PROBLEM',
      `order ${order.url} is ${order.status}${order.error?.detail ? `: ${order.error.detail}` : ''}`,
      order.error ? { problem: order.error } : {},
    );
  }
}

function toMailto(contact: string): string {
  return contact.includes(':') ? contact : `mailto:${contact}`;
}

function withRetry<T extends object>(value: T, res: Response_): T & { retryAfterMs?: number } {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return retryAfterMs === undefined ? value : { ...value, retryAfterMs };
}

function problemError(res: Response_, problem: AcmeProblem, url: string): AcmeError {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  const code =
    problem.type === `${ERR}rateLimited` || res.status === 429
      ? 'ERR_ACME_RATE_LIMITED'
      : problem.type === `${ERR}badNonce`
        ? 'ERR_ACME_BAD_NONCE'
        : 'ERR_ACME_PROBLEM';
  return new AcmeError(
    code,
    `${url}: ${res.status} ${problem.type ?? ''} ${problem.detail ?? ''}`.trim(),
    { problem, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  );
}

function linkHeader(headers: Headers, rel: string): string[] {
  const out: string[] = [];
  for (const part of (headers.get('link') ?? '').split(/,(?=\s*<)/)) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part);
    if (match?.[1] && match[2] === rel) out.push(match[1]);
  }
  return out;
}

function matchesChain(pem: string, name: string): boolean {
  const blocks = pemBlocks(pem);
  const top = blocks[blocks.length - 1];
  if (!top) return false;
  const info = parseCertificate(top);
  return info.issuer.includes(`CN=${name}`) || info.subject.includes(`CN=${name}`);
}
