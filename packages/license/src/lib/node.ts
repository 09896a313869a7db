/**
 * `@fluxel/license/node`: where the agent keeps its device key on a real machine.
 *
 * - {@link KeychainKeyStore}: the OS keychain — Windows Credential Manager, macOS Keychain,
 *   Linux Secret Service — through the optional peer dependency `@napi-rs/keyring`. If no
 *   keychain is usable, opening it fails with `ERR_KEYSTORE_UNAVAILABLE`; there is no silent
 *   fallback.
 * - {@link EncryptedFileKeyStore}: an encrypted file (scrypt + AES-256-GCM, mode 0600), for
 *   machines without a keychain (headless servers), chosen explicitly.
 * - {@link createVerifyPool}: for servers, the signature checks of DPoP proofs on worker
 *   threads (the `verifier` of a `LicenseAuthority`), so they use every core.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { b64u, fromB64u } from '../../../internal/src/base64url.js';
import { type PrivateJwk, toPrivateJwk } from '../jwk.js';
import type { DeviceKeyStore } from './device.js';
import { LicenseError } from './errors.js';

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.startsWith('.')) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'a key name is 1 to 100 of A-Z a-z 0-9 . _ - and does not start with a dot',
    );
  }
  return name;
}

/** The part of `@napi-rs/keyring` used here. */
interface KeyringEntry {
  getPassword(): string | null | undefined;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
type KeyringModule = { Entry: new (service: string, account: string) => KeyringEntry };

const HOW_TO_CHOOSE_FILE =
  'Choose the encrypted file store explicitly instead: new EncryptedFileKeyStore({ directory, passphrase }).';

/**
 * Options of {@link KeychainKeyStore.open}.
 *
 * @example
 * ```ts
 * import { KeychainKeyStore, type KeychainKeyStoreOptions } from '@fluxel/license/node';
 *
 * const options: KeychainKeyStoreOptions = { service: 'wawi-sync-agent' };
 * // On the agent (needs the OS keychain; not run here):
 * const open = () => KeychainKeyStore.open(options);
 * console.log(typeof open);
 * ```
 */
export interface KeychainKeyStoreOptions {
  /** Service name the entries are filed under. Default `fluxel-license`. */
  readonly service?: string;
}

/**
 * Device keys in the OS keychain.
 *
 * @example
 * ```ts
 * import { createDpopSigner, loadOrCreateDeviceKey } from '@fluxel/license/client';
 * import { KeychainKeyStore } from '@fluxel/license/node';
 *
 * // On the agent at activation (needs the OS keychain and @napi-rs/keyring; not run here).
 * // Without a usable keychain open() throws ERR_KEYSTORE_UNAVAILABLE; there is no silent fallback.
 * async function deviceSigner() {
 *   const store = await KeychainKeyStore.open({ service: 'wawi-sync-agent' });
 *   const { privateJwk } = await loadOrCreateDeviceKey(store, 'device');
 *   return createDpopSigner(privateJwk);
 * }
 * console.log(typeof deviceSigner);
 * ```
 */
export class KeychainKeyStore implements DeviceKeyStore {
  readonly kind = 'keychain';
  readonly location: string;
  readonly #keyring: KeyringModule;
  readonly #service: string;

  private constructor(keyring: KeyringModule, service: string) {
    this.#keyring = keyring;
    this.#service = service;
    const system =
      { win32: 'Windows Credential Manager', darwin: 'macOS Keychain' }[
        process.platform as string
      ] ?? 'Secret Service';
    this.location = `${system}, service "${service}"`;
  }

  /**
   * Opens the keychain and checks that it works (writes, reads and removes a probe entry).
   * Throws `ERR_KEYSTORE_UNAVAILABLE`, saying why and what to do, when it does not.
   */
  static async open(options: KeychainKeyStoreOptions = {}): Promise<KeychainKeyStore> {
    const service = options.service ?? 'fluxel-license';
    let keyring: KeyringModule;
    try {
      keyring = (await import('@napi-rs/keyring')) as unknown as KeyringModule;
    } catch (cause) {
      throw new LicenseError(
        'ERR_KEYSTORE_UNAVAILABLE',
        `The OS keychain needs the package @napi-rs/keyring (npm install @napi-rs/keyring). ${HOW_TO_CHOOSE_FILE}`,
        { cause },
      );
    }
    const store = new KeychainKeyStore(keyring, service);
    const probe = `probe-${b64u(randomBytes(6))}`;
    try {
      const entry = new keyring.Entry(service, probe);
      entry.setPassword('probe');
      const back = entry.getPassword();
      entry.deletePassword();
      if (back !== 'probe') throw new Error('the keychain did not return what was stored');
    } catch (cause) {
      throw new LicenseError(
        'ERR_KEYSTORE_UNAVAILABLE',
        `No usable OS keychain (${store.location}): ${cause instanceof Error ? cause.message : String(cause)}. ` +
          `On Linux this needs a running Secret Service (e.g. gnome-keyring) on the session D-Bus. ${HOW_TO_CHOOSE_FILE}`,
        { cause },
      );
    }
    return store;
  }

  async load(name: string): Promise<PrivateJwk | undefined> {
    const text = this.#call(() =>
      new this.#keyring.Entry(this.#service, checkName(name)).getPassword(),
    );
    if (text === null || text === undefined) return undefined;
    try {
      return toPrivateJwk(JSON.parse(text));
    } catch (cause) {
      throw new LicenseError(
        'ERR_KEYSTORE_CORRUPT',
        `the keychain entry "${name}" does not hold a device key`,
        { cause },
      );
    }
  }

  async save(name: string, key: PrivateJwk): Promise<void> {
    const text = JSON.stringify(toPrivateJwk(key));
    this.#call(() => new this.#keyring.Entry(this.#service, checkName(name)).setPassword(text));
  }

  async delete(name: string): Promise<boolean> {
    return this.#call(() => {
      try {
        return new this.#keyring.Entry(this.#service, checkName(name)).deletePassword();
      } catch (error) {
        if (/no (matching )?entry|not found/i.test(String(error))) return false;
        throw error;
      }
    });
  }

  #call<T>(run: () => T): T {
    try {
      return run();
    } catch (cause) {
      if (LicenseError.isInstance(cause)) throw cause;
      if (/no (matching )?entry|not found/i.test(String(cause))) return undefined as T;
      throw new LicenseError(
        'ERR_KEYSTORE_UNAVAILABLE',
        `the OS keychain failed (${this.location})`,
        { cause },
      );
    }
  }
}

/**
 * Options of {@link EncryptedFileKeyStore}.
 *
 * @example
 * ```ts
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { EncryptedFileKeyStore, type EncryptedFileKeyStoreOptions } from '@fluxel/license/node';
 *
 * const directory = mkdtempSync(join(tmpdir(), 'fluxel-keys-'));
 * // `key`: 32 bytes from a KMS or machine secret; or `passphrase` (12+ characters, scrypt).
 * const options: EncryptedFileKeyStoreOptions = { directory, key: crypto.getRandomValues(new Uint8Array(32)) };
 * const store = new EncryptedFileKeyStore(options);
 * console.log(store.location === directory); // true
 * rmSync(directory, { recursive: true, force: true });
 * ```
 */
export interface EncryptedFileKeyStoreOptions {
  /** Folder for the key files (created with mode 0700). */
  readonly directory: string;
  /** Passphrase the files are encrypted under (scrypt), or… */
  readonly passphrase?: string;
  /** …a 32-byte key (e.g. from a KMS or a machine secret). */
  readonly key?: Uint8Array;
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * Device keys in encrypted files, one per name. Chosen explicitly, never a fallback.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { loadOrCreateDeviceKey } from '@fluxel/license/client';
 * import { EncryptedFileKeyStore } from '@fluxel/license/node';
 *
 * const directory = mkdtempSync(join(tmpdir(), 'fluxel-keys-'));
 * try {
 *   const key = crypto.getRandomValues(new Uint8Array(32)); // a machine secret, not stored next to the files
 *   const first = await loadOrCreateDeviceKey(new EncryptedFileKeyStore({ directory, key }), 'device');
 *   const again = await loadOrCreateDeviceKey(new EncryptedFileKeyStore({ directory, key }), 'device');
 *   assert.deepEqual(again.privateJwk, first.privateJwk);
 *   // another secret cannot read it
 *   const other = new EncryptedFileKeyStore({ directory, key: crypto.getRandomValues(new Uint8Array(32)) });
 *   await assert.rejects(other.load('device'), { code: 'ERR_KEYSTORE_CORRUPT' });
 * } finally {
 *   rmSync(directory, { recursive: true, force: true });
 * }
 * ```
 */
export class EncryptedFileKeyStore implements DeviceKeyStore {
  readonly kind = 'encrypted-file';
  readonly location: string;
  readonly #directory: string;
  readonly #secret: { passphrase: string } | { key: Uint8Array };

  constructor(options: EncryptedFileKeyStoreOptions) {
    if (options.key !== undefined) {
      if (!(options.key instanceof Uint8Array) || options.key.length !== 32) {
        throw new LicenseError(
          'ERR_LICENSE_INVALID_ARGUMENT',
          'the file store key must be 32 bytes',
        );
      }
      this.#secret = { key: options.key };
    } else if (typeof options.passphrase === 'string' && options.passphrase.length >= 12) {
      this.#secret = { passphrase: options.passphrase };
    } else {
      throw new LicenseError(
        'ERR_LICENSE_INVALID_ARGUMENT',
        'the file store needs a passphrase of at least 12 characters or a 32-byte key',
      );
    }
    this.#directory = options.directory;
    this.location = options.directory;
  }

  async load(name: string): Promise<PrivateJwk | undefined> {
    const file = this.#file(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw new LicenseError('ERR_KEYSTORE_UNAVAILABLE', `cannot read ${file}`, { cause: error });
    }
    try {
      const box = JSON.parse(text) as {
        v: number;
        salt: string;
        iv: string;
        data: string;
        tag: string;
      };
      if (box.v !== 1) throw new Error('unknown version');
      const salt = fromB64u(box.salt);
      const iv = fromB64u(box.iv);
      const data = fromB64u(box.data);
      const tag = fromB64u(box.tag);
      if (!salt || !iv || !data || !tag) throw new Error('malformed');
      const decipher = createDecipheriv('aes-256-gcm', await this.#key(salt), iv);
      decipher.setAAD(new TextEncoder().encode(`fluxel-device-key:${name}`));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(data), decipher.final()]);
      return toPrivateJwk(JSON.parse(plain.toString('utf8')));
    } catch (cause) {
      throw new LicenseError(
        'ERR_KEYSTORE_CORRUPT',
        `${file} cannot be opened: wrong passphrase or key, or the file was changed`,
        { cause },
      );
    }
  }

  async save(name: string, key: PrivateJwk): Promise<void> {
    const file = this.#file(name);
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.#key(salt), iv);
    cipher.setAAD(new TextEncoder().encode(`fluxel-device-key:${name}`));
    const data = Buffer.concat([
      cipher.update(JSON.stringify(toPrivateJwk(key)), 'utf8'),
      cipher.final(),
    ]);
    const box = {
      v: 1,
      kdf: 'scrypt',
      salt: b64u(salt),
      iv: b64u(iv),
      data: b64u(data),
      tag: b64u(cipher.getAuthTag()),
    };
    await mkdir(this.#directory, { recursive: true, mode: 0o700 });
    const temp = `${file}.${b64u(randomBytes(6))}.tmp`;
    await writeFile(temp, JSON.stringify(box), { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  }

  async delete(name: string): Promise<boolean> {
    const file = this.#file(name);
    try {
      await rm(file);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return false;
      throw new LicenseError('ERR_KEYSTORE_UNAVAILABLE', `cannot delete ${file}`, { cause: error });
    }
  }

  #file(name: string): string {
    return join(this.#directory, `${checkName(name)}.key.json`);
  }

  async #key(salt: Uint8Array): Promise<Uint8Array> {
    const secret = this.#secret;
    if ('key' in secret) return secret.key;
    return new Promise((resolve, reject) =>
      scryptCb(secret.passphrase, salt, 32, SCRYPT, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  }
}
