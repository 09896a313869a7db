/**
 * Device keys on the agent's side: the key pair created at activation, and where its
 * private half is kept. The OS keychain and the encrypted file store are in the `./node`
 * subpath; this module has the interface and a memory store for tests.
 */

import { type PrivateJwk, toPrivateJwk } from '../jwk.js';
import { generateKeyPair } from '../sig.js';
import { LicenseError } from './errors.js';

/**
 * Keeps device private keys by name.
 *
 * @example
 * ```ts
 * import { type DeviceKeyStore, loadOrCreateDeviceKey, type PrivateJwk } from '@fluxel/license';
 *
 * // A store over any key-value backend (here a Map; the OS keychain in ./node).
 * const entries = new Map<string, PrivateJwk>();
 * const store: DeviceKeyStore = {
 *   kind: 'map',
 *   location: 'a Map',
 *   load: async (name) => entries.get(name),
 *   save: async (name, key) => void entries.set(name, key),
 *   delete: async (name) => entries.delete(name),
 * };
 * const { created } = await loadOrCreateDeviceKey(store, 'agent');
 * console.log(created, entries.size); // true 1
 * ```
 */
export interface DeviceKeyStore {
  /** What kind of store this is, e.g. `keychain`, `encrypted-file`, `memory`. */
  readonly kind: string;
  /** Where keys are kept, for people (never the key itself). */
  readonly location: string;
  load(name: string): Promise<PrivateJwk | undefined>;
  save(name: string, key: PrivateJwk): Promise<void>;
  /** Removes a key; false when there was none. */
  delete(name: string): Promise<boolean>;
}

/**
 * A key store in memory (tests; keys are lost with the process).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair, MemoryKeyStore } from '@fluxel/license/client';
 *
 * const store = new MemoryKeyStore(); // tests and short-lived processes only
 * await store.save('agent', (await generateKeyPair()).privateJwk);
 * assert.ok(await store.load('agent'));
 * assert.equal(await store.delete('agent'), true);
 * ```
 */
export class MemoryKeyStore implements DeviceKeyStore {
  readonly kind = 'memory';
  readonly location = 'process memory';
  readonly #keys = new Map<string, PrivateJwk>();

  async load(name: string): Promise<PrivateJwk | undefined> {
    return this.#keys.get(name);
  }

  async save(name: string, key: PrivateJwk): Promise<void> {
    this.#keys.set(name, toPrivateJwk(key));
  }

  async delete(name: string): Promise<boolean> {
    return this.#keys.delete(name);
  }
}

/**
 * The device key named `name` from `store`, created (ES256) and saved first if there is
 * none. `created` tells which happened.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { loadOrCreateDeviceKey, MemoryKeyStore } from '@fluxel/license/client';
 *
 * const store = new MemoryKeyStore(); // KeychainKeyStore.open() from ./node on a real agent
 * const first = await loadOrCreateDeviceKey(store, 'agent');
 * const again = await loadOrCreateDeviceKey(store, 'agent');
 * assert.equal(first.created, true);
 * assert.equal(again.created, false); // created once, then loaded
 * assert.deepEqual(again.privateJwk, first.privateJwk);
 * ```
 */
export async function loadOrCreateDeviceKey(
  store: DeviceKeyStore,
  name: string,
): Promise<{ privateJwk: PrivateJwk; created: boolean }> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'a device key name is 1 to 200 characters',
    );
  }
  const existing = await store.load(name);
  if (existing) return { privateJwk: existing, created: false };
  const { privateJwk } = await generateKeyPair('ES256');
  await store.save(name, privateJwk);
  return { privateJwk, created: true };
}
