/**
 * Byte helpers of the core: UTF-8, base64url, concatenation, constant-time comparison and
 * randomness. Web platform only; Node's `Buffer` is used when present, never imported.
 */
import { CryptoError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

interface BufferLike {
  allocUnsafeSlow(size: number): Uint8Array;
  from(
    data: Uint8Array | string,
    encoding?: string,
  ): Uint8Array & { toString(enc: string): string };
}

const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes; invalid UTF-8 is a malformed input. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new CryptoError('ERR_CRYPTO_MALFORMED', 'invalid UTF-8', { cause });
  }
}

/**
 * A byte array of `size` bytes whose content is unspecified (not zeroed where the platform
 * allows it): for outputs that are written over entirely.
 */
export function allocOutput(size: number): Uint8Array {
  if (NodeBuffer && size >= 4096) {
    const buffer = NodeBuffer.allocUnsafeSlow(size);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
  }
  return new Uint8Array(size);
}

/** Concatenation of byte arrays into a fresh array. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = allocOutput(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-time equality of two byte arrays (the length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const POOL_SIZE = 8192;
const POOL_MAX_TAKE = 256;
let pool = new Uint8Array(0);
let poolAt = 0;

/**
 * `size` cryptographically random bytes. Small requests are served from a pool filled by one
 * `getRandomValues` call (each call costs about 2 µs on Node, more than the bytes); every pool
 * byte is handed out once and zeroed as it leaves.
 */
export function randomBytes(size: number): Uint8Array {
  if (size <= POOL_MAX_TAKE) {
    if (poolAt + size > pool.length) {
      pool = new Uint8Array(POOL_SIZE);
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    const out = pool.slice(poolAt, poolAt + size);
    pool.fill(0, poolAt, poolAt + size);
    poolAt += size;
    return out;
  }
  const out = new Uint8Array(size);
  // getRandomValues takes at most 65536 bytes per call.
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(out.subarray(offset, Math.min(size, offset + 65536)));
  }
  return out;
}

/** Overwrites a key with zeros (best effort: JavaScript may hold other copies). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_LOOKUP[B64URL.charCodeAt(i)] = i;

/** base64url without padding (RFC 4648 section 5). */
export function toBase64Url(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes).toString('base64url');
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      B64URL[n >> 18] + (B64URL[(n >> 12) & 63] as string) + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += (B64URL[n >> 18] as string) + B64URL[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += (B64URL[n >> 18] as string) + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
  }
  return out;
}

/** Decodes strict base64url without padding; anything else is `ERR_CRYPTO_MALFORMED`. */
export function fromBase64Url(text: string): Uint8Array {
  const malformed = () => new CryptoError('ERR_CRYPTO_MALFORMED', 'invalid base64url text');
  if (text.length % 4 === 1) throw malformed();
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? (B64URL_LOOKUP[code] as number) : -1;
    if (digit < 0) throw malformed();
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  // Canonical form only: the unused low bits of the last character must be zero.
  if ((value & ((1 << bits) - 1)) !== 0) throw malformed();
  return out;
}
