/**
 * License keys: human-typable, 130 bits of entropy, with check characters that catch every
 * single-character typo and every swap of two neighbouring characters before any network
 * call.
 *
 * Format: `PREFIX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`
 * - `PREFIX`: 2–8 letters naming the product (default `FLX`), part of the checksum, so a key
 *   of one product is not valid for another.
 * - 28 Crockford base32 symbols (`0-9 A-Z` without `I L O U`): 26 random (130 bits) and 2
 *   check symbols.
 * - Check: every character has a weight; the weighted sum of all character values, check
 *   symbols included, is 0 modulo the prime 1021. A single substitution changes the sum by
 *   (difference × weight), never a multiple of 1021; a swap of neighbours changes it by
 *   (difference × weight difference), likewise never 0.
 * Parsing is forgiving where it is safe: case, spaces, dashes, and the confusables
 * `O`→`0`, `I`/`L`→`1` in the key body.
 *
 * @packageDocumentation
 */
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  LICENSE_ERROR_CODES,
  LicenseError,
  type LicenseErrorCode,
  type LicenseErrorOptions,
} from './lib/errors.js';
export {
  DEFAULT_LICENSE_PREFIX,
  type GenerateLicenseKeyOptions,
  generateLicenseKey,
  isLicenseKey,
  type LicenseKey,
  parseLicenseKey,
} from './lib/key.js';
