/**
 * `RenewalManager`: one timer per certificate at its renewal time (ARI window or fraction of
 * the lifetime), order, store, events; jittered backoff on failure.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AcmeClient } from '../client.js';
import { AcmeError } from '../errors.js';
import type { ChallengeStore } from '../http01.js';
import type { OrderLock } from '../order-lock.js';
import { renewalTime, retryDelay } from '../renewal.js';
import type { CertKeyType } from '../x509.js';
import { obtainCertificate } from './account.js';
import type { FileCertificateStore, StoredCertificate } from './store.js';

/**
 * Timers, injectable for tests.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AcmeClient, type Clock, FileCertificateStore, generateAccountKey, MemoryChallengeStore, RenewalManager } from '@fluxel/acme-lite/node';
 *
 * // A manual clock: timers are recorded, never fired.
 * const timers: number[] = [];
 * const clock: Clock = {
 *   now: () => Date.parse('2026-06-01T00:00:00Z'),
 *   setTimeout: (_fn, ms) => timers.push(ms),
 *   clearTimeout: () => {},
 * };
 * const accountKey = (await generateAccountKey()).key;
 * const manager = new RenewalManager({
 *   store: new FileCertificateStore({ root: join(tmpdir(), 'acme-example-empty') }), // nothing stored
 *   client: async () => new AcmeClient({ accountKey }),
 *   challengeStore: new MemoryChallengeStore(),
 *   certificates: [['shop.example.org']],
 *   clock,
 * });
 * assert.deepEqual(await manager.dueAt(['shop.example.org']), { at: new Date(clock.now()), source: 'missing' });
 * ```
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Events of {@link RenewalManager}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AcmeClient, FileCertificateStore, generateAccountKey, MemoryChallengeStore, RenewalManager, type RenewalEvents } from '@fluxel/acme-lite/node';
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
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem: '' });
 *   const accountKey = (await generateAccountKey()).key;
 *   const manager = new RenewalManager({ store, client: async () => new AcmeClient({ accountKey }), challengeStore: new MemoryChallengeStore(), certificates: [['localhost']], ari: false });
 *   const log: RenewalEvents['scheduled'][0][] = [];
 *   manager.on('scheduled', (event) => log.push(event)); // feed these to your audit log
 *   await manager.start();
 *   manager.stop();
 *   assert.equal(log[0]?.source, 'fraction');
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export interface RenewalEvents {
  /** `recheck`: the CA's ARI Retry-After comes before the renewal time; ARI is asked again then. */
  scheduled: [
    { domain: string; at: Date; source: 'ari' | 'fraction' | 'missing' | 'retry' | 'recheck' },
  ];
  ordered: [{ domain: string }];
  renewed: [{ domain: string; stored: StoredCertificate }];
  failed: [{ domain: string; error: unknown; attempt: number; retryInMs: number }];
}

/**
 * Options of {@link RenewalManager}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileCertificateStore, MemoryChallengeStore, openAccount, RenewalManager, type RenewalManagerOptions } from '@fluxel/acme-lite/node';
 *
 * const store = new FileCertificateStore({ root: join(tmpdir(), 'myapp') });
 * const options: RenewalManagerOptions = {
 *   store,
 *   client: () => openAccount({ store, email: 'ops@example.org' }), // called only when needed
 *   challengeStore: new MemoryChallengeStore(),
 *   certificates: [['shop.example.org', 'www.shop.example.org'], ['api.example.org']],
 *   fraction: 1 / 3,
 *   retryBaseMs: 60_000,
 *   profile: 'shortlived',
 * };
 * const manager = new RenewalManager(options);
 * // await manager.start(); // orders what is missing now, then renews on time
 * assert.equal(manager.listenerCount('failed'), 0);
 * ```
 */
export interface RenewalManagerOptions {
  readonly store: FileCertificateStore;
  /** Returns a ready client (e.g. `() => openAccount(...)`). */
  readonly client: () => Promise<AcmeClient>;
  readonly challengeStore: ChallengeStore;
  /** Each entry is one certificate: its domains (the first names the lock and lookup). */
  readonly certificates: readonly (readonly string[])[];
  /** Renew when this fraction of the lifetime remains (no ARI). Default 1/3. */
  readonly fraction?: number;
  /** Use the CA's ARI window when it offers one. Default true. */
  readonly ari?: boolean;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly profile?: string;
  readonly keyType?: CertKeyType;
  readonly clock?: Clock;
  readonly random?: () => number;
  /**
   * The order lock (default the store's lock file). When another holder has it the attempt
   * fails with `ERR_ACME_LOCKED`, and the retry first looks again whether the certificate is
   * still due: on a shared store, the holder's certificate is there by then and nothing is
   * ordered.
   */
  readonly lock?: OrderLock;
}

const MAX_TIMER = 2 ** 31 - 1;

/**
 * Keeps certificates renewed: for each one, a timer at {@link renewalTime} (ARI window or
 * fraction of the lifetime; a missing certificate is ordered at once), then order, store and
 * an event; on failure a jittered exponential backoff. Emits `scheduled`, `ordered`,
 * `renewed`, `failed` — feed them to your audit log.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { AcmeClient, FileCertificateStore, generateAccountKey, MemoryChallengeStore, RenewalManager } from '@fluxel/acme-lite/node';
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
 * const root = await mkdtemp(join(tmpdir(), 'acme-example-'));
 * try {
 *   const store = new FileCertificateStore({ root });
 *   // A certificate valid 2026-01-01 … 2046-01-01 is stored.
 *   await store.save({ orderUrl: 'https://ca.example/acme/order/42', identifiers: ['localhost'], certPem, chainPem: '', keyPem: '' });
 *   const accountKey = (await generateAccountKey()).key;
 *   const manager = new RenewalManager({
 *     store,
 *     client: async () => new AcmeClient({ accountKey }), // usually () => openAccount({ store })
 *     challengeStore: new MemoryChallengeStore(),
 *     certificates: [['localhost']],
 *     ari: false, // no CA here to ask for its renewal window
 *   });
 *   manager.on('failed', ({ error, retryInMs }) => console.error('renewal failed', error, retryInMs));
 *   // Renews when a third of the lifetime is left.
 *   const due = await manager.dueAt(['localhost']);
 *   assert.deepEqual(due, { at: new Date('2039-05-03T00:00:00.000Z'), source: 'fraction' });
 *   await manager.start(); // one timer per certificate
 *   manager.stop();
 * } finally {
 *   await rm(root, { recursive: true, force: true });
 * }
 * ```
 */
export class RenewalManager extends EventEmitter<RenewalEvents> {
  readonly #o: RenewalManagerOptions;
  readonly #clock: Clock;
  readonly #timers = new Map<string, unknown>();
  readonly #attempts = new Map<string, number>();
  #running = false;

  constructor(options: RenewalManagerOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Schedules every certificate. */
  async start(): Promise<void> {
    this.#running = true;
    await Promise.all(this.#o.certificates.map((domains) => this.#schedule(domains)));
  }

  /** Cancels all timers. */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
  }

  /** When the certificate for `domains` is due (and from which rule). */
  async dueAt(
    domains: readonly string[],
  ): Promise<{ at: Date; source: 'ari' | 'fraction' | 'missing'; recheckAt?: Date }> {
    const { basis: _, ...due } = await this.#due(domains);
    return due;
  }

  /**
   * {@link dueAt}, with the id of the certificate the decision rests on (`null`: none
   * stored). The timer that orders carries it, and the order is made only if that is still
   * the current certificate under the lock.
   */
  async #due(domains: readonly string[]): Promise<{
    at: Date;
    source: 'ari' | 'fraction' | 'missing';
    recheckAt?: Date;
    basis: string | null;
  }> {
    const now = this.#clock.now();
    const current = await this.#o.store.current(domains[0] as string, now);
    if (!current) return { at: new Date(now), source: 'missing', basis: null };
    const basis = current.id;
    const cert = {
      notBefore: new Date(current.meta.notBefore),
      notAfter: new Date(current.meta.notAfter),
    };
    if (this.#o.ari !== false) {
      try {
        const client = await this.#o.client();
        const info = await client.renewalInfo(await readFile(current.certPath, 'utf8'));
        if (info) {
          // RFC 9773 §4.3: ask again after Retry-After, clamped to one minute … one day.
          const recheckMs = Math.min(86_400_000, Math.max(60_000, info.retryAfterMs ?? 21_600_000));
          return {
            at: renewalTime(cert, {
              ari: info.suggestedWindow,
              now,
              ...(this.#o.random ? { random: this.#o.random } : {}),
            }),
            source: 'ari',
            recheckAt: new Date(now + recheckMs),
            basis,
          };
        }
      } catch {
        // no ARI answer: fall back to the fraction
      }
    }
    return {
      at: renewalTime(cert, { now, ...(this.#o.fraction ? { fraction: this.#o.fraction } : {}) }),
      source: 'fraction',
      basis,
    };
  }

  async #schedule(domains: readonly string[]): Promise<void> {
    const { at, source, recheckAt, basis } = await this.#due(domains);
    if (recheckAt && recheckAt < at)
      this.#arm(domains, recheckAt.getTime() - this.#clock.now(), 'recheck', basis);
    else this.#arm(domains, at.getTime() - this.#clock.now(), source, basis);
  }

  #arm(
    domains: readonly string[],
    delay: number,
    source: 'ari' | 'fraction' | 'missing' | 'retry' | 'recheck',
    basis: string | null,
  ) {
    if (!this.#running) return;
    const key = domains.join(',');
    const previous = this.#timers.get(key);
    if (previous !== undefined) this.#clock.clearTimeout(previous);
    const ms = Math.max(0, delay);
    this.emit('scheduled', {
      domain: domains[0] as string,
      at: new Date(this.#clock.now() + ms),
      source,
    });
    const handle = this.#clock.setTimeout(
      () => {
        this.#timers.delete(key);
        if (ms > MAX_TIMER || source === 'recheck') void this.#schedule(domains).catch(() => {});
        else void this.#renew(domains, basis).catch(() => {});
      },
      Math.min(ms, MAX_TIMER),
    );
    this.#timers.set(key, handle);
  }

  /** Orders a certificate for `domains` now; schedules the next renewal or a retry. */
  renewNow(domains: readonly string[]): Promise<StoredCertificate | undefined> {
    return this.#renew(domains, undefined);
  }

  /**
   * Orders unless, under the lock, the current certificate is no longer `basis`: the id of the
   * certificate the decision to order rested on (`null`: none was stored), or `undefined` for
   * "the one current now" ({@link renewNow}). A timer's decision can be older than the
   * store: another instance may store a certificate after this one decided and before it
   * looks (regression: under load both instances of a shared store ordered — the second read
   * the first one's new certificate as the one to replace and renewed it at once).
   */
  async #renew(
    domains: readonly string[],
    basis: string | null | undefined,
  ): Promise<StoredCertificate | undefined> {
    const domain = domains[0] as string;
    const key = domains.join(',');
    let expected = basis ?? null;
    try {
      this.emit('ordered', { domain });
      const replaces = await this.#o.store.current(domain);
      if (basis === undefined) expected = replaces?.id ?? null;
      // Another instance may store a certificate between the decision and the lock: checked
      // again under the lock, and then nothing is ordered.
      let storedMeanwhile = false;
      const stored = await obtainCertificate({
        client: await this.#o.client(),
        store: this.#o.store,
        domains,
        challengeStore: this.#o.challengeStore,
        ...(this.#o.profile ? { profile: this.#o.profile } : {}),
        ...(this.#o.keyType ? { keyType: this.#o.keyType } : {}),
        ...(replaces ? { replaces } : {}),
        ...(this.#o.lock ? { lock: this.#o.lock } : {}),
        unless: (current) => {
          storedMeanwhile = current !== undefined && current.id !== expected;
          return storedMeanwhile;
        },
      });
      this.#attempts.delete(key);
      if (storedMeanwhile) {
        if (this.#running) await this.#schedule(domains);
        return stored;
      }
      this.emit('renewed', { domain, stored });
      if (this.#running) await this.#schedule(domains);
      return stored;
    } catch (error) {
      const attempt = this.#attempts.get(key) ?? 0;
      this.#attempts.set(key, attempt + 1);
      const rateLimitMs = AcmeError.isInstance(error) ? (error.retryAfterMs ?? 0) : 0;
      const retryInMs = Math.max(
        rateLimitMs,
        retryDelay(attempt, {
          ...(this.#o.retryBaseMs ? { baseMs: this.#o.retryBaseMs } : {}),
          ...(this.#o.retryMaxMs ? { maxMs: this.#o.retryMaxMs } : {}),
          ...(this.#o.random ? { random: this.#o.random } : {}),
        }),
      );
      this.emit('failed', { domain, error, attempt, retryInMs });
      // Locked: someone else is ordering; look again whether it is still due, then.
      const locked = AcmeError.isInstance(error) && error.code === 'ERR_ACME_LOCKED';
      this.#arm(domains, retryInMs, locked ? 'recheck' : 'retry', expected);
      return undefined;
    }
  }
}
