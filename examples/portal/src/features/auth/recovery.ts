/**
 * Recovery codes: the fallback second factor, shown once, each usable once.
 *
 * A code is 12 symbols from Crockford's base32 alphabet (`0-9a-z` without i, l, o, u), shown
 * as `xxxx-xxxx-xxxx`: 12 × 5 = 60 bits of entropy, drawn without bias (32 is a power of two).
 * Input is forgiving: case, spaces and dashes are ignored, and the look-alikes o→0 and i/l→1
 * are mapped as Crockford specifies.
 *
 * Storage: `hashRecoveryCode` is plain SHA-256 of the normalised code. A slow password hash is
 * not needed here — with 60 random bits an offline guess costs ~2^59 hashes per code on
 * average, far beyond any stolen-database attack — and a fast, unsalted hash lets the caller
 * find a code by its hash. The caller deletes (or marks used) a hash once it has been used.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Crockford base32 symbols, lower case. */
export const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const SYMBOLS = 12;
const GROUP = 4;

/** One code, e.g. `7kq2-m9xd-0pth`. */
export function generateRecoveryCode(): string {
  const bytes = randomBytes(SYMBOLS);
  let code = '';
  for (let i = 0; i < SYMBOLS; i++) {
    if (i > 0 && i % GROUP === 0) code += '-';
    code += RECOVERY_ALPHABET[(bytes[i] as number) & 31];
  }
  return code;
}

/** `n` distinct codes (default 10). */
export function generateRecoveryCodes(n = 10): string[] {
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new RangeError('n must be 1..100');
  const codes = new Set<string>();
  while (codes.size < n) codes.add(generateRecoveryCode());
  return [...codes];
}

/**
 * The canonical form of a typed code: lower case, without whitespace and dashes, o→0, i/l→1.
 * Returns what it gets for anything else; a wrong code simply will not match.
 */
export function normaliseRecoveryCode(input: string): string {
  return input
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\-‐‑‒–—]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
}

/** True when `input` normalises to 12 symbols of the alphabet. */
export function isRecoveryCodeShape(input: string): boolean {
  const value = normaliseRecoveryCode(input);
  return value.length === SYMBOLS && [...value].every((c) => RECOVERY_ALPHABET.includes(c));
}

/** SHA-256 (hex) of the normalised code; what the caller stores. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normaliseRecoveryCode(code), 'utf8').digest('hex');
}

/**
 * Index of the stored hash that `input` matches, or -1. Every stored hash is compared in
 * constant time, so timing does not tell which one (or whether any) matched.
 */
export function findRecoveryCode(storedHashes: readonly string[], input: string): number {
  const presented = Buffer.from(hashRecoveryCode(input), 'hex');
  let found = -1;
  storedHashes.forEach((stored, index) => {
    const candidate = Buffer.from(stored, 'hex');
    if (candidate.length !== presented.length) return;
    if (timingSafeEqual(candidate, presented) && found < 0) found = index;
  });
  return found;
}
