/**
 * Strict base64url (RFC 4648 §5, no padding) and UTF-8 helpers on `Uint8Array`.
 * Decoding rejects anything but the canonical encoding: characters outside the alphabet,
 * padding, impossible lengths and non-zero trailing bits. Uses `Buffer` when present
 * (Node.js) for speed, after the same strict validation.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

type BufferLike = {
  from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(e?: string): string };
  from(
    data: ArrayBuffer,
    byteOffset: number,
    length: number,
  ): Uint8Array & { toString(e?: string): string };
};
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes; throws on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** base64url without padding. */
export function b64u(bytes: Uint8Array): string {
  if (NodeBuffer) {
    // A view of the same memory, not a copy (a SharedArrayBuffer's bytes are copied).
    return (
      bytes.buffer instanceof ArrayBuffer
        ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        : NodeBuffer.from(new Uint8Array(bytes))
    ).toString('base64url');
  }
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      ALPHABET.charAt(n >> 18) +
      ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63);
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out +=
      ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) + ALPHABET.charAt((n >> 6) & 63);
  }
  return out;
}

/** base64url of the UTF-8 bytes of a string. */
export function b64uText(text: string): string {
  // Node.js: encoded from Buffer's pool, without a fresh ArrayBuffer from TextEncoder.
  return NodeBuffer ? NodeBuffer.from(text, 'utf8').toString('base64url') : b64u(utf8(text));
}

/**
 * Decodes canonical unpadded base64url. Returns `undefined` for anything else, so callers
 * raise their own typed error.
 */
export function fromB64u(text: string): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || (LOOKUP[c] as number) < 0) return undefined;
  }
  const rest = length % 4;
  // Non-canonical: the unused low bits of the last character must be zero.
  if (rest !== 0) {
    const last = LOOKUP[text.charCodeAt(length - 1)] as number;
    if ((rest === 2 && (last & 15) !== 0) || (rest === 3 && (last & 3) !== 0)) return undefined;
  }
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'base64url'));
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const n =
      ((LOOKUP[text.charCodeAt(i)] as number) << 18) |
      ((LOOKUP[text.charCodeAt(i + 1)] as number) << 12) |
      ((LOOKUP[text.charCodeAt(i + 2)] as number) << 6) |
      (LOOKUP[text.charCodeAt(i + 3)] as number);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (rest >= 2) {
    const n =
      ((LOOKUP[text.charCodeAt(i)] as number) << 18) |
      ((LOOKUP[text.charCodeAt(i + 1)] as number) << 12) |
      (rest === 3 ? (LOOKUP[text.charCodeAt(i + 2)] as number) << 6 : 0);
    out[o++] = n >> 16;
    if (rest === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
}

/** Constant-time comparison of two byte arrays (length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
