/**
 * Byte helpers of the core: UTF-8, base64url, concatenation, constant-time comparison and
 * randomness. Web platform only; Node's `Buffer` is used when present, never imported.
 */
import { b64u, fromUtf8 as decodeUtf8, fromB64u } from '../../internal/src/base64url.js';
import { CryptoError } from './errors.js';

export { equalBytes, utf8 } from '../../internal/src/base64url.js';

interface BufferLike {
  allocUnsafeSlow(size: number): Uint8Array;
  from(
    data: Uint8Array | string,
    encoding?: string,
  ): Uint8Array & { toString(enc: string): string };
}

const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** The string of UTF-8 bytes; invalid UTF-8 is a malformed input. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes);
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

export { randomBytes } from '../../internal/src/random.js';

/** Overwrites a key with zeros (best effort: JavaScript may hold other copies). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

/** base64url without padding (RFC 4648 section 5). */
export function toBase64Url(bytes: Uint8Array): string {
  return b64u(bytes);
}

/** Decodes strict base64url without padding; anything else is `ERR_CRYPTO_MALFORMED`. */
export function fromBase64Url(text: string): Uint8Array {
  const bytes = fromB64u(text);
  if (!bytes) throw new CryptoError('ERR_CRYPTO_MALFORMED', 'invalid base64url text');
  return bytes;
}
