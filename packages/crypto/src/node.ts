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

/** Options of {@link keyFileKek}. */
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

/** A local KEK read from a key file (created first with `create: true`). */
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
