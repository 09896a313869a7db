/**
 * Password hashing and the password policy (OWASP Password Storage Cheat Sheet, ASVS 5.0 V6).
 *
 * Hashing: argon2id via `@node-rs/argon2` with m=19456 KiB, t=2, p=1 (`PASSWORD_PARAMS`, the
 * OWASP minimum). The PHC string it returns carries salt and parameters, so the caller stores
 * just that string. `verifyPassword` reports `needsRehash` when the stored parameters are below
 * the current ones (or not argon2id v19): the caller then re-hashes the password it just
 * verified and stores the new hash. Passwords are NFKC-normalised before hashing, so the same
 * password typed on different keyboards / input methods verifies.
 *
 * Policy (`checkPasswordPolicy`), NIST SP 800-63B style: 12–128 Unicode code points after
 * NFKC, any characters including spaces, no composition rules; refused when it is in the
 * shipped common-password list (`data/common-passwords.txt`, made by
 * `scripts/common-passwords.mjs`), is a short pattern repeated or a plain sequence, or contains
 * the user's e-mail local part or name (parts of at least 4 characters, case-insensitive).
 * Stateless; the list is read once, lazily.
 */
import { readFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';

export interface PasswordParams {
  /** Memory in KiB (`m`). */
  readonly memoryCost: number;
  /** Passes (`t`). */
  readonly timeCost: number;
  /** Lanes (`p`). */
  readonly parallelism: number;
}

/** argon2id parameters per OWASP / ASVS 5.0: m=19456 KiB (19 MiB), t=2, p=1. */
export const PASSWORD_PARAMS: PasswordParams = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
/** Inputs longer than this (UTF-16 units) are not even hashed: a cheap guard against abuse. */
const MAX_INPUT_UNITS = 4096;
/** `Algorithm.Argon2id` (the package's const enum cannot be used under isolatedModules). */
const ARGON2ID = 2;

const normalise = (password: string) => password.normalize('NFKC');

/** Hashes `password` with argon2id; returns the PHC string (`$argon2id$v=19$m=…,t=…,p=…$…`). */
export async function hashPassword(
  password: string,
  params: PasswordParams = PASSWORD_PARAMS,
): Promise<string> {
  if (password.length > MAX_INPUT_UNITS) throw new RangeError('password too long');
  return hash(normalise(password), {
    algorithm: ARGON2ID,
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  });
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Only meaningful when `ok`: the stored hash is weaker than `params`; store a new one. */
  readonly needsRehash: boolean;
}

/** Parameters of a PHC argon2 string, or null when it is not one. */
export function parseArgon2Hash(
  stored: string,
): (PasswordParams & { algorithm: string; version: number }) | null {
  const match =
    /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
      stored,
    );
  if (!match) return null;
  const [, algorithm = '', version, m, t, p] = match;
  return {
    algorithm,
    version: Number(version),
    memoryCost: Number(m),
    timeCost: Number(t),
    parallelism: Number(p),
  };
}

/**
 * Checks `password` against a stored hash. Never throws for a malformed hash (that is just
 * `ok: false`). `needsRehash` is true when the password matched and the stored hash used
 * weaker parameters than `params`, another argon2 variant or an older version.
 */
export async function verifyPassword(
  stored: string,
  password: string,
  params: PasswordParams = PASSWORD_PARAMS,
): Promise<VerifyResult> {
  const parsed = parseArgon2Hash(stored);
  if (!parsed || password.length > MAX_INPUT_UNITS) return { ok: false, needsRehash: false };
  let ok: boolean;
  try {
    ok = await verify(stored, normalise(password));
  } catch {
    return { ok: false, needsRehash: false };
  }
  const needsRehash =
    ok &&
    (parsed.algorithm !== 'argon2id' ||
      parsed.version !== 19 ||
      parsed.memoryCost < params.memoryCost ||
      parsed.timeCost < params.timeCost ||
      parsed.parallelism < params.parallelism);
  return { ok, needsRehash };
}

export type PolicyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'too_short' | 'too_long' | 'common' | 'contains_identity';
    };

export interface PolicyContext {
  readonly email?: string | undefined;
  readonly name?: string | undefined;
}

/** Where the list lives: examples/portal/data, three levels up from src/features/auth. */
export const COMMON_PASSWORDS_URL = new URL('../../../data/common-passwords.txt', import.meta.url);

let common: Set<string> | undefined;

/** The common-password list as a Set (lowercase entries), read on first use. */
export function commonPasswords(): ReadonlySet<string> {
  if (!common) {
    const lines = readFileSync(COMMON_PASSWORDS_URL, 'utf8').split('\n');
    common = new Set(lines.map((line) => line.trim().toLowerCase()).filter(Boolean));
  }
  return common;
}

/**
 * True when `value` (as code points) is one short unit repeated ("abcabcabcabc",
 * "123412341234"; the last repetition may be partial), with the unit at most half as long.
 */
export function isRepeatedPattern(value: string): boolean {
  const chars = [...value];
  for (let period = 1; period <= chars.length / 2; period++) {
    if (chars.every((c, i) => c === chars[i % period])) return true;
  }
  return false;
}

const KEYBOARD_ROWS = [
  '`1234567890-=',
  'qwertyuiop[]',
  "asdfghjkl;'",
  'zxcvbnm,./',
  'qwertzuiopü',
  'asdfghjklöä',
  'yxcvbnm,.-',
  'azertyuiop',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890123456789',
];

/**
 * True when `value` runs in steps of +1 or -1 code points (letters "abcdefghijkl", or digits
 * "123456789012" which wrap 9→0), or is a stretch of one keyboard row, forwards or backwards.
 */
export function isSequence(value: string): boolean {
  const chars = [...value];
  if (chars.length < 3) return false;
  const digits = chars.every((c) => c >= '0' && c <= '9');
  for (const direction of [1, -1]) {
    const stepOk = chars.every((c, i) => {
      if (i === 0) return true;
      const prev = chars[i - 1] as string;
      if (digits) return (Number(prev) + direction + 10) % 10 === Number(c);
      return (prev.codePointAt(0) ?? 0) + direction === c.codePointAt(0);
    });
    if (stepOk) return true;
  }
  const reversed = chars.slice().reverse().join('');
  return KEYBOARD_ROWS.some((row) => {
    const twice = row + row;
    return twice.includes(value) || twice.includes(reversed);
  });
}

/** Identity parts to refuse: the whole value and its parts split at separators, ≥ 4 chars. */
function identityParts(context: PolicyContext): string[] {
  const parts: string[] = [];
  const take = (value: string | undefined, split: RegExp) => {
    if (!value) return;
    const whole = normalise(value).toLowerCase().trim();
    for (const part of [whole, ...whole.split(split)]) {
      if ([...part].length >= 4) parts.push(part);
    }
  };
  const email = context.email;
  take(
    email === undefined ? undefined : email.slice(0, Math.max(0, email.lastIndexOf('@'))),
    /[._+-]/,
  );
  take(context.name, /[\s._-]+/);
  return parts;
}

/**
 * Applies the password policy. Order of checks: length, identity, common list and patterns.
 * The password is NFKC-normalised and compared lowercase; whitespace is also ignored when
 * matching the common list ("pass word 1234" counts as "password1234").
 */
export function checkPasswordPolicy(password: string, context: PolicyContext = {}): PolicyResult {
  const value = normalise(password);
  const length = [...value].length;
  if (length < PASSWORD_MIN_LENGTH) return { ok: false, reason: 'too_short' };
  if (length > PASSWORD_MAX_LENGTH) return { ok: false, reason: 'too_long' };
  const lower = value.toLowerCase();
  if (identityParts(context).some((part) => lower.includes(part))) {
    return { ok: false, reason: 'contains_identity' };
  }
  const compact = lower.replace(/\s+/g, '');
  const list = commonPasswords();
  if (list.has(lower) || list.has(compact) || isRepeatedPattern(compact) || isSequence(compact)) {
    return { ok: false, reason: 'common' };
  }
  return { ok: true };
}
