/** Compact JWS (RFC 7515) encoding and strict decoding. No verification here. */
import { b64u, b64uText, fromB64u, fromUtf8, utf8 } from '../../internal/src/base64url.js';

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
  const signature = fromB64u(token.slice(second + 1));
  if (!header || !payload || !signature) return undefined;
  return { headerSegment, header, payload, signingInput: utf8(token.slice(0, second)), signature };
}

/** Parses one segment as a JSON object, or `undefined`. */
export function parseObject(segment: string): Record<string, unknown> | undefined {
  const bytes = fromB64u(segment);
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
