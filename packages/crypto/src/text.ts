/**
 * The text form of a ciphertext, for database text columns and JSON: `flx1.` followed by the
 * binary form in base64url without padding.
 */
import { fromBase64Url, toBase64Url } from './bytes.js';
import { type OpenOptions, open, type SealOptions, seal } from './envelope.js';
import { CryptoError } from './errors.js';
import { FORMAT_VERSION } from './format.js';

/**
 * The prefix of the text form of format version 1.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { TEXT_PREFIX } from '@fluxel/crypto';
 *
 * // Tell a sealed column value from a plaintext one during a migration.
 * const isSealed = (value: string) => value.startsWith(TEXT_PREFIX);
 * assert.equal(TEXT_PREFIX, 'flx1.');
 * assert.equal(isSealed('flx1.RkxYAQEA'), true);
 * assert.equal(isSealed('api-key-123'), false);
 * ```
 */
export const TEXT_PREFIX = `flx${FORMAT_VERSION}.`;

/**
 * The text form of a binary ciphertext.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, seal, toText } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const column = toText(await seal(new TextEncoder().encode('api-key-123'), { keyring }));
 * assert.match(column, /^flx1\.[A-Za-z0-9_-]+$/); // base64url, no padding: safe in JSON and text columns
 * ```
 */
export function toText(ciphertext: Uint8Array): string {
  if (!(ciphertext instanceof Uint8Array)) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a ciphertext is a Uint8Array');
  }
  return TEXT_PREFIX + toBase64Url(ciphertext);
}

/**
 * The binary form of a text ciphertext. Another `flxN.` prefix is
 * `ERR_CRYPTO_UNSUPPORTED_VERSION`; anything else not of the form is `ERR_CRYPTO_MALFORMED`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, fromText, generateKey, Keyring, localKek, open, seal, toText } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await seal(Uint8Array.of(1, 2, 3), { keyring });
 * assert.deepEqual(fromText(toText(sealed)), sealed);
 * assert.deepEqual(await open(fromText(toText(sealed)), { keyring }), Uint8Array.of(1, 2, 3));
 * assert.throws(() => fromText('flx9.AAAA'), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_UNSUPPORTED_VERSION',
 * );
 * ```
 */
export function fromText(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a text ciphertext is a string');
  }
  if (!text.startsWith(TEXT_PREFIX)) {
    if (/^flx\d+\./.test(text)) {
      throw new CryptoError('ERR_CRYPTO_UNSUPPORTED_VERSION', 'unsupported text form version');
    }
    throw new CryptoError('ERR_CRYPTO_MALFORMED', 'not a Fluxel text ciphertext');
  }
  return fromBase64Url(text.slice(TEXT_PREFIX.length));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Seals a string (its UTF-8 bytes) and returns the text form — for a secret in a text column:
 * `await sealText(apiKey, { keyring, context: { tenant, field: 'api-key' } })`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, openText, sealText } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context = { tenant: 'acme', field: 'api-key' };
 * const sealed = await sealText('s3cret', { keyring, context });
 * assert.ok(sealed.startsWith('flx1.'));
 * assert.equal(await openText(sealed, { keyring, context }), 's3cret');
 * ```
 */
export async function sealText(text: string, options: SealOptions): Promise<string> {
  if (typeof text !== 'string')
    throw new CryptoError(
      'ERR_CRYPTO_INVALID_ARGUMENT',
      'sealText seals a string: use seal() for bytes',
    );
  return toText(await seal(encoder.encode(text), options));
}

/**
 * Opens the text form {@link sealText} made and returns the string. A wrong key, context or a
 * changed ciphertext is "decryption failed", as with {@link open}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, localKek, openText, sealText } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await sealText('s3cret', { keyring, context: { field: 'api-key' } });
 * assert.equal(await openText(sealed, { keyring, context: { field: 'api-key' } }), 's3cret');
 * await assert.rejects(openText(sealed, { keyring, context: { field: 'password' } }), (error) =>
 *   CryptoError.isInstance(error) && error.message === 'decryption failed',
 * );
 * ```
 */
export async function openText(sealed: string, options: OpenOptions): Promise<string> {
  const plain = await open(fromText(sealed), options);
  try {
    return decoder.decode(plain);
  } catch {
    // Authentic, but not text: it was sealed with seal(), not sealText().
    throw new CryptoError(
      'ERR_CRYPTO_INVALID_ARGUMENT',
      'this record holds bytes, not text: use open()',
    );
  }
}
