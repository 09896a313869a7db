/**
 * The text form of a ciphertext, for database text columns and JSON: `flx1.` followed by the
 * binary form in base64url without padding.
 */
import { fromBase64Url, toBase64Url } from './bytes.js';
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
