/**
 * Crypto-shredding: one KEK per tenant or data subject, kept in a pluggable store. Destroying
 * a subject's KEK makes every record sealed for it unopenable — in the live database and in
 * every backup of it — without finding or touching those records (GDPR erasure).
 *
 * In production let a KMS protect the subject keys at rest (`protect`: a keyring whose KEK
 * lives in the KMS), and keep the key store out of long-lived backups, or the erasure is only
 * as final as the oldest backup of the key store.
 */
import type { MaybePromise } from './aead.js';
import { randomBytes, wipe } from './bytes.js';
import { open, seal } from './envelope.js';
import { CryptoError } from './errors.js';
import { checkKekId, type LocalKek, type LocalWrapping, localKek } from './kek.js';
import { Keyring } from './keyring.js';

/**
 * What a key store holds for a subject.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemorySubjectKeyStore, type StoredSubjectKey, SubjectKeys } from '@fluxel/crypto';
 *
 * const store = new MemorySubjectKeyStore();
 * const keys = new SubjectKeys({ store });
 * await keys.keyring('tenant-acme', { create: true });
 * await keys.destroy('tenant-acme');
 * const stored: StoredSubjectKey | undefined = store.get('tenant-acme');
 * assert.equal(stored?.state, 'destroyed'); // a tombstone: the key material is gone
 * ```
 */
export type StoredSubjectKey =
  | { readonly state: 'active'; readonly material: Uint8Array }
  | { readonly state: 'destroyed'; readonly destroyedAt: number };

/**
 * Where subject keys live: a table, a KMS-backed store, memory in tests.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, type StoredSubjectKey, type SubjectKeyStore, SubjectKeys } from '@fluxel/crypto';
 *
 * // A store over a table (here a Map standing in for it): a row per subject, never overwritten.
 * const rows = new Map<string, StoredSubjectKey>();
 * const store: SubjectKeyStore = {
 *   get: async (subject) => rows.get(subject),
 *   create: async (subject, material) => {
 *     if (rows.has(subject)) throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `subject ${subject} already has a key`);
 *     rows.set(subject, { state: 'active', material });
 *   },
 *   destroy: async (subject, at) => {
 *     rows.set(subject, { state: 'destroyed', destroyedAt: at });
 *   },
 * };
 * const keys = new SubjectKeys({ store });
 * assert.equal((await keys.keyring('tenant-acme', { create: true })).primary.id, 'subject:tenant-acme');
 * assert.equal(rows.get('tenant-acme')?.state, 'active');
 * ```
 */
export interface SubjectKeyStore {
  /** The stored key of a subject, or `undefined` if none was ever created. */
  get(subject: string): MaybePromise<StoredSubjectKey | undefined>;
  /** Stores a new key; must fail if the subject already has one (active or destroyed). */
  create(subject: string, material: Uint8Array): MaybePromise<void>;
  /** Deletes the key material for good, keeping a tombstone. */
  destroy(subject: string, at: number): MaybePromise<void>;
}

/**
 * An in-memory {@link SubjectKeyStore} (tests, examples).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemorySubjectKeyStore } from '@fluxel/crypto';
 *
 * const store = new MemorySubjectKeyStore();
 * store.create('tenant-acme', new Uint8Array(32));
 * assert.equal(store.get('tenant-acme')?.state, 'active');
 * assert.throws(() => store.create('tenant-acme', new Uint8Array(32)), { code: 'ERR_CRYPTO_INVALID_ARGUMENT' });
 * store.destroy('tenant-acme', Date.now());
 * assert.equal(store.get('tenant-acme')?.state, 'destroyed');
 * ```
 */
export class MemorySubjectKeyStore implements SubjectKeyStore {
  readonly #keys = new Map<string, StoredSubjectKey>();

  /** {@inheritDoc SubjectKeyStore.get} */
  get(subject: string): StoredSubjectKey | undefined {
    return this.#keys.get(subject);
  }

  /** {@inheritDoc SubjectKeyStore.create} */
  create(subject: string, material: Uint8Array): void {
    if (this.#keys.has(subject)) {
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `subject ${subject} already has a key`);
    }
    this.#keys.set(subject, { state: 'active', material: material.slice() });
  }

  /** {@inheritDoc SubjectKeyStore.destroy} */
  destroy(subject: string, at: number): void {
    const stored = this.#keys.get(subject);
    if (stored?.state === 'active') wipe(stored.material);
    this.#keys.set(subject, { state: 'destroyed', destroyedAt: at });
  }
}

/**
 * Options of {@link SubjectKeys}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, MemorySubjectKeyStore, SubjectKeys, type SubjectKeysOptions } from '@fluxel/crypto';
 *
 * const store = new MemorySubjectKeyStore();
 * // Subject keys are sealed at rest under a master keyring (in production, a KMS KEK).
 * const master = new Keyring([localKek({ id: 'master', key: generateKey() })]);
 * const options: SubjectKeysOptions = { store, protect: master, prefix: 'tenant:', wrapping: 'aes-kwp' };
 * const keys = new SubjectKeys(options);
 * assert.equal(keys.kekId('acme'), 'tenant:acme');
 * await keys.keyring('acme', { create: true });
 * assert.notEqual((store.get('acme') as { material: Uint8Array }).material.length, 32); // sealed, not raw
 * ```
 */
export interface SubjectKeysOptions {
  /** Where the subject keys are kept. */
  readonly store: SubjectKeyStore;
  /** Seals subject keys at rest (e.g. a keyring of a KMS KEK). Without it they are stored raw. */
  readonly protect?: Keyring;
  /** KEK ids are `prefix + subject`. Default `"subject:"`. */
  readonly prefix?: string;
  /** How subject KEKs wrap data keys. Default `aes-gcm`. */
  readonly wrapping?: LocalWrapping;
}

/**
 * Per-subject (per-tenant) KEKs with destruction: the crypto-shredding helper.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, MemorySubjectKeyStore, open, seal, SubjectKeys } from '@fluxel/crypto';
 *
 * const keys = new SubjectKeys({ store: new MemorySubjectKeyStore() });
 * const ring = await keys.keyring('tenant-acme', { create: true });
 * const context = { tenant: 'tenant-acme' };
 * const record = await seal(new TextEncoder().encode('order history'), { keyring: ring, context });
 * assert.equal(new TextDecoder().decode(await open(record, { keyring: ring, context })), 'order history');
 *
 * // Erasure: every record of the tenant becomes unopenable, wherever copies of it are.
 * await keys.destroy('tenant-acme');
 * await assert.rejects(keys.keyring('tenant-acme'), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_KEY_DESTROYED',
 * );
 * await assert.rejects(open(record, { keyring: ring, context }), { code: 'ERR_CRYPTO_KEY_DESTROYED' });
 * ```
 */
export class SubjectKeys {
  readonly #options: SubjectKeysOptions;
  readonly #live = new Map<string, LocalKek>();

  /** Creates the helper over a key store. */
  constructor(options: SubjectKeysOptions) {
    this.#options = options;
  }

  /** The KEK id used for a subject. */
  kekId(subject: string): string {
    return checkKekId(`${this.#options.prefix ?? 'subject:'}${subject}`);
  }

  /**
   * A keyring holding the subject's KEK, to seal and open that subject's records. With
   * `create`, a missing key is created. A destroyed subject is `ERR_CRYPTO_KEY_DESTROYED`; an
   * unknown one (without `create`) is `ERR_CRYPTO_UNKNOWN_KEK`.
   */
  async keyring(subject: string, options: { readonly create?: boolean } = {}): Promise<Keyring> {
    const id = this.kekId(subject);
    const live = this.#live.get(subject);
    if (live) return new Keyring([live]);
    let stored = await this.#options.store.get(subject);
    if (!stored && options.create) {
      const key = randomBytes(32);
      await this.#options.store.create(subject, await this.#protect(subject, key));
      wipe(key);
      stored = await this.#options.store.get(subject);
    }
    if (!stored) throw new CryptoError('ERR_CRYPTO_UNKNOWN_KEK', `no key for subject ${subject}`);
    if (stored.state === 'destroyed') {
      throw new CryptoError(
        'ERR_CRYPTO_KEY_DESTROYED',
        `the key of subject ${subject} was destroyed`,
      );
    }
    const raw = await this.#unprotect(subject, stored.material);
    const kek = localKek({
      id,
      key: raw,
      ...(this.#options.wrapping ? { wrapping: this.#options.wrapping } : {}),
    });
    wipe(raw);
    this.#live.set(subject, kek);
    return new Keyring([kek]);
  }

  /**
   * Destroys a subject's KEK: the store deletes it (keeping a tombstone) and the copy held in
   * memory is overwritten. Every record of the subject is unopenable from then on. Clear any
   * `DataKeyCache` that opened the subject's records too.
   */
  async destroy(subject: string): Promise<void> {
    this.kekId(subject);
    await this.#options.store.destroy(subject, Date.now());
    this.#live.get(subject)?.destroy();
    this.#live.delete(subject);
  }

  async #protect(subject: string, key: Uint8Array): Promise<Uint8Array> {
    const keyring = this.#options.protect;
    return keyring ? seal(key, { keyring, context: { 'fluxel:subject': subject } }) : key.slice();
  }

  async #unprotect(subject: string, material: Uint8Array): Promise<Uint8Array> {
    const keyring = this.#options.protect;
    return keyring
      ? open(material, { keyring, context: { 'fluxel:subject': subject } })
      : material.slice();
  }
}
