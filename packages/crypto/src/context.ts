/**
 * The encryption context: a map of strings (tenant, record id, field, …) bound to a
 * ciphertext as additional authenticated data. Its canonical encoding is
 * `u32 count ‖ (u32 keyLength ‖ key ‖ u32 valueLength ‖ value)*`, keys sorted by UTF-16 code
 * units, lengths big-endian, strings UTF-8.
 */
import { CryptoError } from './errors.js';

/**
 * A string-to-string map bound to a ciphertext; the same map must be given to open it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type EncryptionContext, generateKey, Keyring, localKek, open, seal } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context: EncryptionContext = { tenant: 'acme', table: 'credentials', record: '42' };
 * const sealed = await seal(new TextEncoder().encode('api-key-123'), { keyring, context });
 * // The same map, in any key order, opens it.
 * const reordered: EncryptionContext = { record: '42', table: 'credentials', tenant: 'acme' };
 * assert.equal(new TextDecoder().decode(await open(sealed, { keyring, context: reordered })), 'api-key-123');
 * ```
 */
export type EncryptionContext = Readonly<Record<string, string>>;

const encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The canonical bytes of a context (a plain object of strings). Non-string values, anything but
 * a plain object (a `Map`, an array) and lone surrogates are `ERR_CRYPTO_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { encodeContext } from '@fluxel/crypto';
 *
 * assert.deepEqual(encodeContext(undefined), new Uint8Array(4)); // count 0
 * // Keys are sorted, so the encoding does not depend on the order they were written in.
 * assert.deepEqual(encodeContext({ b: '2', a: '1' }), encodeContext({ a: '1', b: '2' }));
 * assert.deepEqual(
 *   encodeContext({ a: 'b' }),
 *   Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x62),
 * );
 * ```
 */
export function encodeContext(context: EncryptionContext | undefined): Uint8Array {
  if (context === undefined) return new Uint8Array(4);
  const proto = typeof context === 'object' && context !== null && Object.getPrototypeOf(context);
  if (proto !== Object.prototype && proto !== null) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'the context must be a map of strings');
  }
  const keys = Object.keys(context);
  if (keys.length === 0) return new Uint8Array(4);
  let size = 4;
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = context[key];
    if (typeof value !== 'string') {
      throw new CryptoError(
        'ERR_CRYPTO_INVALID_ARGUMENT',
        `context value ${JSON.stringify(key)} is not a string`,
      );
    }
    if (i > 0 && (keys[i - 1] as string) > key) sorted = false;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    size += 8 + 3 * (key.length + value.length);
  }
  if (!sorted) keys.sort();
  const buffer = new Uint8Array(size);
  writeU32(buffer, 0, keys.length);
  let at = 4;
  for (const key of keys) {
    at = writeString(buffer, at, key);
    at = writeString(buffer, at, context[key] as string);
  }
  return buffer.subarray(0, at);
}

function writeU32(buffer: Uint8Array, at: number, value: number): void {
  buffer[at] = value >>> 24;
  buffer[at + 1] = (value >>> 16) & 0xff;
  buffer[at + 2] = (value >>> 8) & 0xff;
  buffer[at + 3] = value & 0xff;
}

/** Writes `u32 length ‖ UTF-8` of a string at `at`; returns the next offset. */
function writeString(buffer: Uint8Array, at: number, text: string): number {
  let n = 0;
  const start = at + 4;
  for (; n < text.length; n++) {
    const code = text.charCodeAt(n);
    if (code >= 0x80) break;
    buffer[start + n] = code;
  }
  let length = n;
  if (n < text.length) {
    if (LONE_SURROGATE.test(text)) {
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'context strings must be well-formed');
    }
    length = n + encoder.encodeInto(text.slice(n), buffer.subarray(start + n)).written;
  }
  writeU32(buffer, at, length);
  return start + length;
}
