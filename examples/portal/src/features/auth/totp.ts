/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), with RFC 4648 base32, written from the RFCs.
 *
 * HMAC-SHA-1 by default (what authenticator apps expect), SHA-256 and SHA-512 allowed; 6 or 8
 * digits; 30-second steps from the Unix epoch. `verifyTotp` accepts the current step ± `window`
 * and is single-use: a code whose step is ≤ `lastUsedStep` is refused as `replayed`, and on
 * success the matched step is returned for the caller to store as the new `lastUsedStep`.
 * Codes are compared in constant time, and every step in the window is computed and compared
 * whatever the input, so timing does not tell which step matched. Stateless.
 *
 * `otpauthUrl` follows Google Authenticator's Key Uri Format
 * (`otpauth://totp/Issuer:account?secret=…&issuer=Issuer`); `qrSvg` renders any text as an
 * SVG QR code with the `qrcode` package.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { toString as qrToString } from 'qrcode';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpOptions {
  /** HMAC hash; default SHA1. */
  readonly algorithm?: TotpAlgorithm;
  /** Code length, 6 (default) or 8. */
  readonly digits?: 6 | 8;
  /** Step length in seconds (X in RFC 6238); default 30. */
  readonly period?: number;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without `=` padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes RFC 4648 base32. Case-insensitive; spaces, dashes and trailing `=` padding are
 * ignored (secrets are often shown in groups). Throws on other characters or an impossible
 * length.
 */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if ([1, 3, 6].includes(clean.length % 8)) throw new RangeError('invalid base32 length');
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new RangeError('invalid base32 character');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/** A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** HOTP (RFC 4226 §5.3): HMAC of the 8-byte big-endian counter, dynamic truncation, mod 10^d. */
export function hotp(
  key: Uint8Array,
  counter: number | bigint,
  digits: number = 6,
  algorithm: TotpAlgorithm = 'SHA1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.replace('SHA', 'sha'), key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step T = floor(unixSeconds / period) for a time in milliseconds. */
export function totpStep(timeMs: number, period = 30): number {
  return Math.floor(timeMs / 1000 / period);
}

/** The TOTP code for `timeMs` (milliseconds since the epoch). */
export function totpCode(secretBase32: string, timeMs: number, options: TotpOptions = {}): string {
  return hotp(
    base32Decode(secretBase32),
    totpStep(timeMs, options.period ?? 30),
    options.digits ?? 6,
    options.algorithm ?? 'SHA1',
  );
}

export interface VerifyTotpOptions extends TotpOptions {
  /** Current time in milliseconds. */
  readonly now: number;
  /** The step of the last accepted code, if any; this and every earlier step are refused. */
  readonly lastUsedStep?: number | null | undefined;
  /** Steps accepted on either side of the current one (clock drift); default 1, max 10. */
  readonly window?: number;
}

export type VerifyTotpResult =
  | { readonly ok: true; readonly step: number }
  | { readonly ok: false; readonly reason: 'invalid' | 'replayed' };

/**
 * Verifies a user-typed code. Spaces in the input are ignored; anything that is not exactly
 * `digits` digits is `invalid`. Steps current−window … current+window are tried; a match at a
 * step ≤ `lastUsedStep` is `replayed`. On success store `step` as the new `lastUsedStep`.
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  options: VerifyTotpOptions,
): VerifyTotpResult {
  const digits = options.digits ?? 6;
  const window = options.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > 10) {
    throw new RangeError('window must be an integer 0..10');
  }
  const input = code.replace(/\s+/g, '');
  const wellFormed = input.length === digits && /^[0-9]+$/.test(input);
  // Compare fixed-size buffers even for malformed input, so it takes the same time.
  const presented = Buffer.from(wellFormed ? input : '0'.repeat(digits), 'utf8');
  const key = base32Decode(secretBase32);
  const algorithm = options.algorithm ?? 'SHA1';
  const current = totpStep(options.now, options.period ?? 30);
  const last = options.lastUsedStep ?? -1;
  let fresh: number | undefined;
  let replayed = false;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(key, step, digits, algorithm), 'utf8');
    const match = timingSafeEqual(expected, presented);
    if (match && step > last && fresh === undefined) fresh = step;
    if (match && step <= last) replayed = true;
  }
  if (!wellFormed) return { ok: false, reason: 'invalid' };
  if (fresh !== undefined) return { ok: true, step: fresh };
  return { ok: false, reason: replayed ? 'replayed' : 'invalid' };
}

export interface OtpauthUrlOptions extends TotpOptions {
  /** Base32 secret. */
  readonly secret: string;
  /** The account, e.g. the user's e-mail address. */
  readonly account: string;
  /** The service name shown in the authenticator app. */
  readonly issuer: string;
}

/**
 * `otpauth://totp/<Issuer>:<account>?secret=…&issuer=<Issuer>` per the Key Uri Format: label
 * and parameters URL-encoded, issuer both as label prefix and parameter. `algorithm`, `digits`
 * and `period` are added only when not the defaults (some apps ignore them). Neither issuer nor
 * account may contain a colon.
 */
export function otpauthUrl(options: OtpauthUrlOptions): string {
  const { secret, account, issuer } = options;
  if (issuer.includes(':') || account.includes(':')) {
    throw new RangeError('issuer and account must not contain ":"');
  }
  if (!issuer || !account) throw new RangeError('issuer and account are required');
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = [
    `secret=${base32Encode(base32Decode(secret))}`,
    `issuer=${encodeURIComponent(issuer)}`,
  ];
  if (options.algorithm && options.algorithm !== 'SHA1')
    params.push(`algorithm=${options.algorithm}`);
  if (options.digits && options.digits !== 6) params.push(`digits=${options.digits}`);
  if (options.period && options.period !== 30) params.push(`period=${options.period}`);
  return `otpauth://totp/${label}?${params.join('&')}`;
}

/** `text` as an SVG QR code (a complete `<svg …>` document string). */
export function qrSvg(text: string): Promise<string> {
  return qrToString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
