/**
 * Where the authority keeps licenses: an interface any storage can implement, and an
 * in-memory implementation (tests, single-process tools). The SQL implementation is in the
 * `./sql` subpath. Only keyed hashes of license keys and rebind codes are ever stored.
 */

import type { PublicJwk } from '../jwk.js';
import { LicenseError } from './errors.js';

/**
 * Where a license is in its life. `locked` is separate: any state can be locked.
 *
 * @example
 * ```ts
 * import type { LicenseState } from '@fluxel/license/server';
 *
 * const label: Record<LicenseState, string> = {
 *   issued: 'waiting for activation',
 *   active: 'bound to a device',
 *   rebinding: 'waiting for the new device',
 * };
 * console.log(label.active);
 * ```
 */
export type LicenseState = 'issued' | 'active' | 'rebinding';

/**
 * A stored license. Times are milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import { type LicenseRecord, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * const now = Date.now();
 * const record: LicenseRecord = {
 *   id: 'lic_01',
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 *   keyHash: 'hmac-of-the-key', // the authority stores an HMAC, never the key
 *   state: 'issued',
 *   locked: false,
 *   lockedReason: null,
 *   deviceJkt: null,
 *   deviceJwk: null,
 *   rebindHash: null,
 *   rebindExpiresAt: null,
 *   createdAt: now,
 *   activatedAt: null,
 *   expiresAt: null,
 *   lastSeenAt: null,
 *   updatedAt: now,
 *   version: 1,
 * };
 * const store = new MemoryLicenseStore();
 * await store.insert(record);
 * console.log((await store.get('lic_01'))?.state); // 'issued'
 * ```
 */
export interface LicenseRecord {
  readonly id: string;
  readonly tenant: string;
  readonly product: string;
  readonly entitlements: readonly string[];
  /** HMAC of the license key under the authority's pepper. */
  readonly keyHash: string;
  readonly state: LicenseState;
  readonly locked: boolean;
  readonly lockedReason: string | null;
  readonly deviceJkt: string | null;
  readonly deviceJwk: PublicJwk | null;
  /** HMAC of the pending rebind code, while `state` is `rebinding`. */
  readonly rebindHash: string | null;
  readonly rebindExpiresAt: number | null;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly expiresAt: number | null;
  /** The last verified request (activation, refresh, or any request: at most once a minute). */
  readonly lastSeenAt: number | null;
  /** The client IP of that request, as the server saw it (absent: stores before it existed). */
  readonly lastIp?: string | null;
  /** What the bound device said about itself at activation and refresh. */
  readonly deviceHostName?: string | null;
  readonly deviceAgentVersion?: string | null;
  readonly updatedAt: number;
  /** Incremented by every update; updates name the version they expect. */
  readonly version: number;
}

/**
 * The fields an update may change.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type LicensePatch, type LicenseRecord, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * const now = Date.now();
 * const record: LicenseRecord = {
 *   id: 'lic_01',
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 *   keyHash: 'hmac-of-the-key', // the authority stores an HMAC, never the key
 *   state: 'issued',
 *   locked: false,
 *   lockedReason: null,
 *   deviceJkt: null,
 *   deviceJwk: null,
 *   rebindHash: null,
 *   rebindExpiresAt: null,
 *   createdAt: now,
 *   activatedAt: null,
 *   expiresAt: null,
 *   lastSeenAt: null,
 *   updatedAt: now,
 *   version: 1,
 * };
 * const store = new MemoryLicenseStore();
 * await store.insert(record);
 * const patch: LicensePatch = { locked: true, lockedReason: 'unpaid' };
 * const updated = await store.update('lic_01', record.version, patch);
 * assert.equal(updated?.locked, true);
 * assert.equal(await store.update('lic_01', record.version, patch), undefined); // stale version
 * ```
 */
export type LicensePatch = Partial<
  Omit<LicenseRecord, 'id' | 'tenant' | 'product' | 'keyHash' | 'createdAt' | 'version'>
>;

/**
 * A verified request of a license's device, for {@link LicenseStore.touch}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type LicenseRecord, type LicenseSeen, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * const now = Date.now();
 * const record: LicenseRecord = {
 *   id: 'lic_01',
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 *   keyHash: 'hmac-of-the-key', // the authority stores an HMAC, never the key
 *   state: 'issued',
 *   locked: false,
 *   lockedReason: null,
 *   deviceJkt: null,
 *   deviceJwk: null,
 *   rebindHash: null,
 *   rebindExpiresAt: null,
 *   createdAt: now,
 *   activatedAt: null,
 *   expiresAt: null,
 *   lastSeenAt: null,
 *   updatedAt: now,
 *   version: 1,
 * };
 * const store = new MemoryLicenseStore();
 * await store.insert(record);
 * const seen: LicenseSeen = { at: now, ip: '203.0.113.7', staleAt: now - 60_000 };
 * assert.equal(await store.touch('lic_01', seen), true);
 * assert.equal(await store.touch('lic_01', seen), false); // seen within the last minute
 * ```
 */
export interface LicenseSeen {
  /** When (ms since the epoch). */
  readonly at: number;
  /** The client IP, when the server knows it. */
  readonly ip: string | null;
  /** Write only when the stored `lastSeenAt` is null or at most this (else: seen recently). */
  readonly staleAt: number;
}

/**
 * Filter and page of {@link LicenseStore.list}.
 *
 * @example
 * ```ts
 * import { type LicenseListFilter, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * const filter: LicenseListFilter = { tenant: 'merchant-42', state: 'active', locked: false, limit: 50 };
 * const page = await new MemoryLicenseStore().list(filter);
 * const next: LicenseListFilter = { ...filter, after: page.at(-1)?.id ?? '' };
 * console.log(page.length, next.after);
 * ```
 */
export interface LicenseListFilter {
  readonly tenant?: string;
  readonly state?: LicenseState;
  readonly locked?: boolean;
  /** Page size, 1–1000. */
  readonly limit: number;
  /** Return licenses whose id sorts after this one (ids sort by creation time). */
  readonly after?: string;
}

/**
 * Storage of licenses. Every method may throw `ERR_LICENSE_STORAGE`.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, type LicenseStore, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * // Any implementation plugs into the authority: MemoryLicenseStore, SqlLicenseStore (./sql), yours.
 * const store: LicenseStore = new MemoryLicenseStore();
 * new LicenseAuthority({
 *   store,
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: { remember: () => true }, // illustration only: use MemoryReplayStore or Redis
 * });
 * ```
 */
export interface LicenseStore {
  /** Adds a new license; a duplicate id or key hash is `ERR_LICENSE_CONFLICT`. */
  insert(record: LicenseRecord): Promise<void>;
  get(id: string): Promise<LicenseRecord | undefined>;
  findByKeyHash(keyHash: string): Promise<LicenseRecord | undefined>;
  findByRebindHash(rebindHash: string): Promise<LicenseRecord | undefined>;
  findByDevice(jkt: string): Promise<LicenseRecord | undefined>;
  /**
   * Applies `patch` if the license is still at `version` (optimistic concurrency), and
   * returns the updated record; `undefined` when another update came first. A device key
   * already bound to another license is `ERR_LICENSE_CONFLICT`.
   */
  update(id: string, version: number, patch: LicensePatch): Promise<LicenseRecord | undefined>;
  /** Licenses in id order. */
  list(filter: LicenseListFilter): Promise<LicenseRecord[]>;
  /**
   * Records a verified request: sets `lastSeenAt` and `lastIp` in one conditional write, only
   * if `lastSeenAt` is null or at most `seen.staleAt` (so of many requests at once, one
   * writes); leaves `version` alone (bookkeeping, not a change of the license). Returns whether
   * it wrote. Optional: a store without it records activation and refresh only.
   */
  touch?(id: string, seen: LicenseSeen): Promise<boolean>;
}

/**
 * A license store in memory. Records it returns are frozen.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type LicenseRecord, MemoryLicenseStore } from '@fluxel/license/server';
 *
 * const now = Date.now();
 * const record: LicenseRecord = {
 *   id: 'lic_01',
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 *   keyHash: 'hmac-of-the-key', // the authority stores an HMAC, never the key
 *   state: 'issued',
 *   locked: false,
 *   lockedReason: null,
 *   deviceJkt: null,
 *   deviceJwk: null,
 *   rebindHash: null,
 *   rebindExpiresAt: null,
 *   createdAt: now,
 *   activatedAt: null,
 *   expiresAt: null,
 *   lastSeenAt: null,
 *   updatedAt: now,
 *   version: 1,
 * };
 * const store = new MemoryLicenseStore(); // tests and single-process tools; SqlLicenseStore in production
 * await store.insert(record);
 * assert.equal((await store.findByKeyHash('hmac-of-the-key'))?.id, 'lic_01');
 * await assert.rejects(store.insert(record), { code: 'ERR_LICENSE_CONFLICT' });
 * ```
 */
export class MemoryLicenseStore implements LicenseStore {
  readonly #byId = new Map<string, LicenseRecord>();

  async insert(record: LicenseRecord): Promise<void> {
    for (const existing of this.#byId.values()) {
      if (existing.id === record.id || existing.keyHash === record.keyHash) {
        throw new LicenseError(
          'ERR_LICENSE_CONFLICT',
          'a license with this id or key already exists',
        );
      }
    }
    this.#byId.set(record.id, freeze(record));
  }

  async get(id: string): Promise<LicenseRecord | undefined> {
    return this.#byId.get(id);
  }

  async findByKeyHash(keyHash: string): Promise<LicenseRecord | undefined> {
    return this.#find((r) => r.keyHash === keyHash);
  }

  async findByRebindHash(rebindHash: string): Promise<LicenseRecord | undefined> {
    return this.#find((r) => r.rebindHash === rebindHash);
  }

  async findByDevice(jkt: string): Promise<LicenseRecord | undefined> {
    return this.#find((r) => r.deviceJkt === jkt);
  }

  async update(
    id: string,
    version: number,
    patch: LicensePatch,
  ): Promise<LicenseRecord | undefined> {
    const current = this.#byId.get(id);
    if (!current || current.version !== version) return undefined;
    if (patch.deviceJkt) {
      const other = this.#find((r) => r.deviceJkt === patch.deviceJkt && r.id !== id);
      if (other)
        throw new LicenseError(
          'ERR_LICENSE_CONFLICT',
          'this device key is bound to another license',
        );
    }
    const next = freeze({ ...current, ...patch, version: version + 1 });
    this.#byId.set(id, next);
    return next;
  }

  async touch(id: string, seen: LicenseSeen): Promise<boolean> {
    const current = this.#byId.get(id);
    if (!current || (current.lastSeenAt !== null && current.lastSeenAt > seen.staleAt))
      return false;
    this.#byId.set(id, freeze({ ...current, lastSeenAt: seen.at, lastIp: seen.ip }));
    return true;
  }

  async list(filter: LicenseListFilter): Promise<LicenseRecord[]> {
    return [...this.#byId.values()]
      .filter(
        (r) =>
          (filter.tenant === undefined || r.tenant === filter.tenant) &&
          (filter.state === undefined || r.state === filter.state) &&
          (filter.locked === undefined || r.locked === filter.locked) &&
          (filter.after === undefined || r.id > filter.after),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, filter.limit);
  }

  #find(predicate: (record: LicenseRecord) => boolean): LicenseRecord | undefined {
    for (const record of this.#byId.values()) if (predicate(record)) return record;
    return undefined;
  }
}

// Records are immutable once stored, so they can be handed out without copying.
function freeze(record: LicenseRecord): LicenseRecord {
  const copy = structuredClone(record);
  Object.freeze(copy.entitlements);
  if (copy.deviceJwk) Object.freeze(copy.deviceJwk);
  return Object.freeze(copy);
}
