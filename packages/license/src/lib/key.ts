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
 */
import { LicenseError } from './errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
const CONFUSABLE: Record<string, string> = { O: '0', I: '1', L: '1' };

const MOD = 1021;
const DATA_SYMBOLS = 26;
const BODY_SYMBOLS = DATA_SYMBOLS + 2;
const GROUP = 4;
const PREFIX_PATTERN = /^[A-Z]{2,8}$/;

/**
 * Default product prefix.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_LICENSE_PREFIX, generateLicenseKey } from '@fluxel/license/key';
 *
 * assert.ok(generateLicenseKey().startsWith(`${DEFAULT_LICENSE_PREFIX}-`)); // 'FLX-'
 * ```
 */
export const DEFAULT_LICENSE_PREFIX = 'FLX';

/**
 * A parsed, valid license key.
 *
 * @example
 * ```ts
 * import { generateLicenseKey, type LicenseKey, parseLicenseKey } from '@fluxel/license/key';
 *
 * const typed = generateLicenseKey().toLowerCase().replaceAll('-', ' ');
 * const key: LicenseKey = parseLicenseKey(typed);
 * console.log(key.prefix, key.canonical.length); // the prefix; never log the key itself
 * ```
 */
export interface LicenseKey {
  /** The product prefix, e.g. `FLX`. */
  readonly prefix: string;
  /** The canonical printed form, e.g. `FLX-ABCD-…`. This is what to hash and compare. */
  readonly canonical: string;
}

/**
 * Options of {@link generateLicenseKey}.
 *
 * @example
 * ```ts
 * import { type GenerateLicenseKeyOptions, generateLicenseKey } from '@fluxel/license/key';
 *
 * const options: GenerateLicenseKeyOptions = { prefix: 'WAWI' };
 * console.log(generateLicenseKey(options).startsWith('WAWI-')); // true (the key is a secret: not logged)
 * ```
 */
export interface GenerateLicenseKeyOptions {
  /** Product prefix, 2–8 letters A–Z. Default `FLX`. */
  readonly prefix?: string;
}

/**
 * Generates a new random license key in canonical form.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateLicenseKey, isLicenseKey } from '@fluxel/license/key';
 *
 * const key = generateLicenseKey();
 * assert.match(key, /^FLX(-[0-9A-HJKMNP-TV-Z]{4}){7}$/);
 * assert.ok(isLicenseKey(key));
 * ```
 */
export function generateLicenseKey(options: GenerateLicenseKeyOptions = {}): string {
  const prefix = options.prefix ?? DEFAULT_LICENSE_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'a license key prefix is 2 to 8 letters A-Z',
    );
  }
  const random = crypto.getRandomValues(new Uint8Array(DATA_SYMBOLS));
  const values = Array.from(random, (b) => b & 31);
  return format(prefix, [...values, ...checkSymbols(prefix, values)]);
}

/**
 * Parses what a person typed. Throws `ERR_LICENSE_INVALID_KEY` with a message that says what
 * is wrong (never echoing the key, which is a secret).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateLicenseKey, parseLicenseKey } from '@fluxel/license/key';
 *
 * const key = generateLicenseKey();
 * // case, spaces and dashes are forgiven
 * assert.equal(parseLicenseKey(` ${key.toLowerCase().replaceAll('-', ' ')} `).canonical, key);
 * // a typo is caught before any network call
 * const typo = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
 * assert.throws(() => parseLicenseKey(typo), { code: 'ERR_LICENSE_INVALID_KEY' });
 * ```
 */
export function parseLicenseKey(input: string, options: { prefix?: string } = {}): LicenseKey {
  if (typeof input !== 'string' || input.length > 200) throw invalid('it is not a license key');
  const compact = input.toUpperCase().replace(/[\s\-_.]/g, '');
  if (compact.length <= BODY_SYMBOLS)
    throw invalid('it is too short; a license key has 28 characters after the product prefix');
  const prefix = compact.slice(0, compact.length - BODY_SYMBOLS);
  if (!PREFIX_PATTERN.test(prefix)) {
    throw invalid(
      'the product prefix (the letters before the first dash) is not valid, or characters are missing or extra',
    );
  }
  if (options.prefix !== undefined && prefix !== options.prefix) {
    throw invalid(`this is a key for another product (expected prefix ${options.prefix})`);
  }
  const values: number[] = [];
  for (let i = prefix.length; i < compact.length; i++) {
    const char = CONFUSABLE[compact[i] as string] ?? (compact[i] as string);
    const value = VALUE[char.charCodeAt(0)] ?? -1;
    if (value < 0) {
      throw invalid(
        `character ${i - prefix.length + 1} after the prefix is not one a license key uses`,
      );
    }
    values.push(value);
  }
  if (weightedSum(prefix, values) !== 0) {
    throw invalid('the check characters do not match: there is a typo in the key');
  }
  return { prefix, canonical: format(prefix, values) };
}

/**
 * True when `input` parses as a license key (see {@link parseLicenseKey}).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateLicenseKey, isLicenseKey } from '@fluxel/license/key';
 *
 * assert.equal(isLicenseKey(generateLicenseKey({ prefix: 'WAWI' }), { prefix: 'WAWI' }), true);
 * assert.equal(isLicenseKey(generateLicenseKey(), { prefix: 'WAWI' }), false); // another product
 * ```
 */
export function isLicenseKey(input: string, options: { prefix?: string } = {}): boolean {
  try {
    parseLicenseKey(input, options);
    return true;
  } catch {
    return false;
  }
}

function invalid(why: string): LicenseError {
  return new LicenseError('ERR_LICENSE_INVALID_KEY', `The license key is not valid: ${why}.`);
}

function format(prefix: string, values: readonly number[]): string {
  let out = prefix;
  for (let i = 0; i < values.length; i++) {
    if (i % GROUP === 0) out += '-';
    out += ALPHABET[values[i] as number];
  }
  return out;
}

// Weights: prefix characters 1…p, data symbols p+1…p+26, check symbols w and 32·w (mod 1021),
// so that the two check symbols together encode one value c = c0 + 32·c1 in 0…1020.
function weightedSum(prefix: string, values: readonly number[]): number {
  let sum = 0;
  let weight = 1;
  for (let i = 0; i < prefix.length; i++) sum = (sum + weight++ * prefix.charCodeAt(i)) % MOD;
  for (let i = 0; i < DATA_SYMBOLS; i++) sum = (sum + weight++ * (values[i] as number)) % MOD;
  const w = weight;
  sum = (sum + w * (values[DATA_SYMBOLS] as number)) % MOD;
  sum = (sum + ((32 * w) % MOD) * (values[DATA_SYMBOLS + 1] as number)) % MOD;
  return sum;
}

function checkSymbols(prefix: string, data: readonly number[]): [number, number] {
  const partial = weightedSum(prefix, [...data, 0, 0]);
  const w = prefix.length + DATA_SYMBOLS + 1;
  // w·c ≡ −partial (mod 1021)  →  c = −partial · w⁻¹
  const c = (((MOD - partial) % MOD) * inverse(w)) % MOD;
  return [c & 31, c >> 5];
}

function inverse(a: number): number {
  // Fermat: a^(p−2) mod p, p prime.
  let result = 1;
  let base = a % MOD;
  let exp = MOD - 2;
  while (exp > 0) {
    if (exp & 1) result = (result * base) % MOD;
    base = (base * base) % MOD;
    exp >>= 1;
  }
  return result;
}
