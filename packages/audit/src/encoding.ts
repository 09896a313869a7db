/**
 * Byte and text encodings used by the log format: canonical JSON, hex, base64url, UTF-8.
 * Web-platform code only.
 */
import { AuditError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes; throws `ERR_AUDIT_INVALID_ARGUMENT` on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'invalid UTF-8', { cause });
  }
}

const HEX = '0123456789abcdef';
const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push(HEX[i >> 4] + (HEX[i & 15] as string));

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i] as number];
  return out;
}

/** Bytes of a lower- or upper-case hex string; throws on bad input. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'invalid hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE[HEX.charCodeAt(i)] = i;
  HEX_VALUE[HEX.toUpperCase().charCodeAt(i)] = i;
}

/** 32 bytes from 64 hex characters at `at` in a byte buffer or string (no checks beyond hex). @internal */
export function hex32(source: Uint8Array | string, at = 0): Uint8Array {
  const out = new Uint8Array(32);
  const str = typeof source === 'string';
  for (let i = 0; i < 32; i++) {
    const a = str ? source.charCodeAt(at + 2 * i) : (source[at + 2 * i] as number);
    const b = str ? source.charCodeAt(at + 2 * i + 1) : (source[at + 2 * i + 1] as number);
    out[i] = ((HEX_VALUE[a & 127] as number) << 4) | ((HEX_VALUE[b & 127] as number) & 15);
  }
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Unpadded base64url of bytes. */
export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += `${B64URL[n >> 18]}${B64URL[(n >> 12) & 63]}${B64URL[(n >> 6) & 63]}${B64URL[n & 63]}`;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += `${B64URL[n >> 18]}${B64URL[(n >> 12) & 63]}`;
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += `${B64URL[n >> 18]}${B64URL[(n >> 12) & 63]}${B64URL[(n >> 6) & 63]}`;
  }
  return out;
}

const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64_INDEX[B64URL.charCodeAt(i)] = i;

/** Bytes of an unpadded base64url string; throws `ERR_AUDIT_INVALID_ARGUMENT` on bad input. */
export function fromBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1)
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'invalid base64url');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? (B64_INDEX[code] as number) : -1;
    if (v < 0) throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'invalid base64url');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined`
 * members omitted (and `null` in arrays, as `JSON.stringify` does), `toJSON` honoured (a
 * `Date` becomes its ISO string), numbers in their shortest round-trip form, strings escaped
 * as `JSON.stringify` does. The same value always gives the same text, so a hash over it is
 * reproducible from the structured data, and `canonicalJson(JSON.parse(text)) === text`.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` for non-finite numbers, bigints, functions,
 * symbols, cycles or nesting deeper than 64.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { canonicalJson } from '@fluxel/audit';
 *
 * assert.equal(canonicalJson({ b: 1, a: { d: [true, null], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[true,null]},"b":1}');
 * const line = canonicalJson({ z: 1, y: 2 });
 * assert.equal(canonicalJson(JSON.parse(line)), line); // stable under a round trip
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value, 0));
}

/**
 * A copy of a JSON value whose objects have their keys inserted in sorted order, so that
 * `JSON.stringify` of it is canonical; checks every value on the way. @internal
 */
export function sortDeep(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new AuditError('ERR_AUDIT_INVALID_EVENT', 'non-finite number in event');
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > 64) throw new AuditError('ERR_AUDIT_INVALID_EVENT', 'value nested too deeply');
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return sortDeep((value as { toJSON: () => unknown }).toJSON(), depth + 1);
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          out[i] = item === undefined ? null : sortDeep(item, depth + 1);
        }
        return out;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const item = record[key];
        if (item !== undefined) out[key] = sortDeep(item, depth + 1);
      }
      return out;
    }
    case 'undefined':
      return undefined;
    default:
      throw new AuditError(
        'ERR_AUDIT_INVALID_EVENT',
        `cannot encode a ${typeof value} in an event`,
      );
  }
}

/** Constant-time comparison of two byte arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
