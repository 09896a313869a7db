/**
 * Node-only helpers of `@fluxel/crypto`: the stream format through Node `Transform`s
 * (`sealNodeStream`, `openNodeStream`), and a KEK kept in a key file (development, small
 * deployments). The file holds one line, `fluxel-kek-v1:<base64url of 32 bytes>`, is created
 * with mode 0600 and refused when group or others can read it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { CryptoError } from './errors.js';
import { type LocalKek, type LocalWrapping, localKek } from './kek.js';

export type {
  CachedDataKey,
  DataKeyCache,
  DataKeyCacheOptions,
  DataKeyCacheStats,
} from './cache.js';
export type { EncryptionContext } from './context.js';
export type { HeaderEntry } from './format.js';
export type { KekProvider, LocalKek, LocalWrapping, MaybePromise } from './kek.js';
export type { Keyring, KeyringOptions } from './keyring.js';
export { openNodeStream, sealNodeStream } from './node-stream.js';
export type { OpenStreamOptions, SealStreamOptions } from './stream.js';
export type { SuiteName } from './suites.js';

const PREFIX = 'fluxel-kek-v1:';

/**
 * Options of {@link keyFileKek}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { type KeyFileKekOptions, keyFileKek } from '@fluxel/crypto/node';
 *
 * const dir = await mkdtemp(join(tmpdir(), 'fluxel-kek-'));
 * try {
 *   const options: KeyFileKekOptions = { id: 'file:dev-2026', wrapping: 'aes-kwp', create: true };
 *   const kek = await keyFileKek(join(dir, 'dev.kek'), options);
 *   assert.equal(kek.id, 'file:dev-2026');
 *   assert.equal(kek.wrapping, 'aes-kwp');
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export interface KeyFileKekOptions {
  /** KEK id written in headers. Default `"file:" + the file name`. */
  readonly id?: string;
  /** How new data keys are wrapped. Default `aes-gcm`. */
  readonly wrapping?: LocalWrapping;
  /** Create the file (with a fresh random key) when it does not exist. Default false. */
  readonly create?: boolean;
}

/**
 * Writes a new key file with a fresh random 256-bit key, mode 0600. An existing file is never
 * overwritten (`ERR_CRYPTO_INVALID_ARGUMENT`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm, stat } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { CryptoError } from '@fluxel/crypto';
 * import { createKeyFile } from '@fluxel/crypto/node';
 *
 * const dir = await mkdtemp(join(tmpdir(), 'fluxel-kek-'));
 * try {
 *   const path = join(dir, 'dev.kek');
 *   await createKeyFile(path);
 *   if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
 *   // Never overwritten: that would lose every record sealed under the key.
 *   await assert.rejects(createKeyFile(path), (error) =>
 *     CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_INVALID_ARGUMENT',
 *   );
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function createKeyFile(path: string): Promise<void> {
  try {
    await writeFile(path, `${PREFIX}${toBase64Url(randomBytes(32))}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (cause) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `cannot create key file ${path}`, {
      cause,
    });
  }
}

/**
 * Reads the 32-byte key of a key file. A missing or unreadable file is
 * `ERR_CRYPTO_KEK_UNAVAILABLE`; a file readable by group or others (POSIX) or not in the format
 * is `ERR_CRYPTO_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { chmod, mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { CryptoError, localKek } from '@fluxel/crypto';
 * import { createKeyFile, readKeyFile } from '@fluxel/crypto/node';
 *
 * const dir = await mkdtemp(join(tmpdir(), 'fluxel-kek-'));
 * try {
 *   const path = join(dir, 'dev.kek');
 *   await createKeyFile(path);
 *   const key = await readKeyFile(path);
 *   assert.equal(key.length, 32);
 *   assert.equal(localKek({ id: 'dev', key }).id, 'dev');
 *   if (process.platform !== 'win32') {
 *     await chmod(path, 0o644); // readable by others: refused
 *     await assert.rejects(readKeyFile(path), (error) =>
 *       CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_INVALID_ARGUMENT',
 *     );
 *   }
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    const info = await stat(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new CryptoError(
        'ERR_CRYPTO_INVALID_ARGUMENT',
        `key file ${path} is accessible by group or others: chmod 600 it`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (CryptoError.isInstance(cause)) throw cause;
    throw new CryptoError('ERR_CRYPTO_KEK_UNAVAILABLE', `cannot read key file ${path}`, { cause });
  }
  const line = text.trim();
  const key = line.startsWith(PREFIX) ? fromBase64Url(line.slice(PREFIX.length)) : undefined;
  if (key?.length !== 32) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `key file ${path} is not a Fluxel KEK`);
  }
  return key;
}

/**
 * A local KEK read from a key file (created first with `create: true`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtemp, rm } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { Keyring, open, seal } from '@fluxel/crypto';
 * import { keyFileKek } from '@fluxel/crypto/node';
 *
 * const dir = await mkdtemp(join(tmpdir(), 'fluxel-kek-'));
 * try {
 *   const path = join(dir, 'dev.kek');
 *   const keyring = new Keyring([await keyFileKek(path, { create: true })]);
 *   assert.equal(keyring.primary.id, 'file:dev.kek');
 *   const sealed = await seal(new TextEncoder().encode('hello'), { keyring });
 *   // A later process reads the same file and opens what the first one sealed.
 *   const again = new Keyring([await keyFileKek(path)]);
 *   assert.equal(new TextDecoder().decode(await open(sealed, { keyring: again })), 'hello');
 * } finally {
 *   await rm(dir, { recursive: true, force: true });
 * }
 * ```
 */
export async function keyFileKek(path: string, options: KeyFileKekOptions = {}): Promise<LocalKek> {
  if (options.create) {
    try {
      await stat(path);
    } catch {
      await createKeyFile(path);
    }
  }
  const key = await readKeyFile(path);
  const name = path.split(/[\\/]/).pop() ?? path;
  const kek = localKek({
    id: options.id ?? `file:${name}`,
    key,
    ...(options.wrapping ? { wrapping: options.wrapping } : {}),
  });
  key.fill(0);
  return kek;
}
