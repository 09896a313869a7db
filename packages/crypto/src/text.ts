/**
 * The text form of a ciphertext, for database text columns and JSON: `flx1.` followed by the
 * binary form in base64url without padding.
 */
import { fromBase64Url, toBase64Url } from './bytes.js';
import { type OpenOptions, open, type SealOptions, seal } from './envelope.js';
import { CryptoError } from './errors.js';
import { FORMAT_VERSION } from './format.js';

/** The prefix of the text form of format version 1. */
export const TEXT_PREFIX = `flx${FORMAT_VERSION}.`;

/** The text form of a binary ciphertext. */
export function toText(ciphertext: Uint8Array): string {
  if (!(ciphertext instanceof Uint8Array)) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a ciphertext is a Uint8Array');
  }
  return TEXT_PREFIX + toBase64Url(ciphertext);
}

/**
 * The binary form of a text ciphertext. Another `flxN.` prefix is
 * `ERR_CRYPTO_UNSUPPORTED_VERSION`; anything else not of the form is `ERR_CRYPTO_MALFORMED`.
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
 * const keyring = new Keyring({ keks: [await localKek({ id: 'k1', key: generateKey() })] });
 * const sealed = await sealText('s3cret', { keyring, context: { field: 'api-key' } });
 * sealed.startsWith('flx1.'); // true
 * await openText(sealed, { keyring, context: { field: 'api-key' } }); // 's3cret'
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
