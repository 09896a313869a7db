/**
 * Compact JWS (RFC 7515) encoding and strict decoding. No verification here.
 *
 * Decoding is on every request's path (the DPoP proof), so it allocates as little as it can.
 * On Node.js a segment is decoded by `Buffer` after the same strict check, and what is only
 * read synchronously (a JSON segment on its way to `JSON.parse`, the signing input and the
 * signature of a proof checked by the synchronous native path) is written into memory this
 * module reuses, not into a new buffer per request: on a busy server those short-lived
 * buffers cost more than the copies themselves (allocation, and the CPU cache they push the
 * signature code's tables out of). The signing input, ASCII once its segments are checked, is
 * encoded without a `TextEncoder`. Elsewhere the Web-platform helpers are used.
 */
import { b64u, b64uText, fromB64u, fromUtf8, utf8 } from '../../../internal/src/base64url.js';

/** A decoded compact JWS. */
export interface DecodedJws {
  readonly headerSegment: string;
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The ASCII bytes of `header.payload`, which the signature covers. */
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
}

/** Upper bound on a token or proof we even look at. */
export const MAX_JWS_LENGTH = 8192;

interface ScratchBuffer extends Uint8Array {
  write(text: string, offset: number, encoding: 'base64url' | 'latin1'): number;
}
type NodeBuffer = {
  from(text: string, encoding: 'base64url' | 'latin1'): Uint8Array;
  allocUnsafeSlow(size: number): ScratchBuffer;
};
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * Reused memory for bytes read synchronously and dropped before the next call (Node.js only):
 * one for a decoded segment or a signing input, one for a signature. A segment decodes to at
 * most ¾ of its length, so every JWS this module looks at fits.
 */
const reusable = typeof NodeBuffer?.allocUnsafeSlow === 'function';
const scratch = reusable ? NodeBuffer?.allocUnsafeSlow(MAX_JWS_LENGTH) : undefined;
const signatureScratch = reusable ? NodeBuffer?.allocUnsafeSlow(128) : undefined;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** True for canonical unpadded base64url (no other characters, zero trailing bits). */
export function isCanonicalSegment(text: string): boolean {
  const rest = text.length % 4;
  if (rest === 1 || !BASE64URL.test(text)) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(text.charAt(text.length - 1));
  return rest === 2 ? (last & 15) === 0 : (last & 3) === 0;
}

/**
 * Decodes one canonical base64url segment, or `undefined`. On Node.js the bytes are a view
 * into `Buffer`'s pool: read them, never write them or use their `.buffer`.
 */
export function segmentBytes(text: string): Uint8Array | undefined {
  if (!NodeBuffer) return fromB64u(text);
  return isCanonicalSegment(text) ? NodeBuffer.from(text, 'base64url') : undefined;
}

/** The bytes of a signing input whose segments were checked (ASCII only). */
export function signingBytes(ascii: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(ascii, 'latin1') : utf8(ascii);
}

/**
 * The ASCII signing input `jws[0, end)` (its segments checked) in reused memory, or
 * `undefined` off Node.js. Valid until the next call into this module: hand it to a
 * synchronous check, never keep it.
 */
export function scratchSigningInput(jws: string, end: number): Uint8Array | undefined {
  if (!scratch || end > MAX_JWS_LENGTH) return undefined;
  return scratch.subarray(0, scratch.write(jws.slice(0, end), 0, 'latin1'));
}

/**
 * A canonical base64url signature segment decoded into reused memory, or `undefined` (off
 * Node.js, or not canonical). Valid until the next call of this function: hand it to a
 * synchronous check, never keep it.
 */
export function scratchSignature(text: string): Uint8Array | undefined {
  if (!signatureScratch || text.length > 168 || !isCanonicalSegment(text)) return undefined;
  return signatureScratch.subarray(0, signatureScratch.write(text, 0, 'base64url'));
}

/**
 * Splits and decodes a compact JWS. Returns `undefined` unless it is exactly three canonical
 * base64url segments whose first two are JSON objects.
 */
export function decodeJws(token: string): DecodedJws | undefined {
  if (typeof token !== 'string' || token.length > MAX_JWS_LENGTH) return undefined;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  const headerSegment = token.slice(0, first);
  const header = parseObject(headerSegment);
  const payload = parseObject(token.slice(first + 1, second));
  const signature = segmentBytes(token.slice(second + 1));
  if (!header || !payload || !signature) return undefined;
  return {
    headerSegment,
    header,
    payload,
    signingInput: signingBytes(token.slice(0, second)),
    signature,
  };
}

/** Parses one segment as a JSON object, or `undefined`. */
export function parseObject(segment: string): Record<string, unknown> | undefined {
  // The bytes only live until they are text: decoded into reused memory where there is some.
  const bytes =
    scratch && segment.length <= MAX_JWS_LENGTH
      ? isCanonicalSegment(segment)
        ? scratch.subarray(0, scratch.write(segment, 0, 'base64url'))
        : undefined
      : segmentBytes(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(fromUtf8(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Encodes a JSON value as a base64url segment. */
export function segment(value: unknown): string {
  return b64uText(JSON.stringify(value));
}

/** Joins a signing input and its signature into a compact JWS. */
export function compact(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${b64u(signature)}`;
}
