/**
 * Password hashing (argon2id, OWASP parameters, rehash detection) and the password policy
 * (length in code points, the shipped common list, repeats and sequences, identity parts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  COMMON_PASSWORDS_URL,
  checkPasswordPolicy,
  commonPasswords,
  hashPassword,
  isRepeatedPattern,
  isSequence,
  PASSWORD_PARAMS,
  parseArgon2Hash,
  verifyPassword,
} from '../src/features/auth/password.ts';

const WEAK = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('hashPassword / verifyPassword', () => {
  it('uses argon2id with m=19456, t=2, p=1 by default', async () => {
    expect(PASSWORD_PARAMS).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(parseArgon2Hash(stored)).toMatchObject({ algorithm: 'argon2id', version: 19 });
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple', WEAK);
    expect(await verifyPassword(stored, 'correct horse battery staple', WEAK)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await verifyPassword(stored, 'correct horse battery stapl', WEAK)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('salts: the same password hashes differently each time', async () => {
    const a = await hashPassword('same password here', WEAK);
    const b = await hashPassword('same password here', WEAK);
    expect(a).not.toBe(b);
  });

  it('asks for a rehash when the stored parameters are below the current ones', async () => {
    const stored = await hashPassword('correct horse battery staple', WEAK);
    const result = await verifyPassword(stored, 'correct horse battery staple');
    expect(result).toEqual({ ok: true, needsRehash: true });
    for (const stronger of [
      { ...WEAK, memoryCost: 2048 },
      { ...WEAK, timeCost: 2 },
      { ...WEAK, parallelism: 2 },
    ]) {
      expect(
        (await verifyPassword(stored, 'correct horse battery staple', stronger)).needsRehash,
      ).toBe(true);
    }
    // A wrong password never asks for a rehash.
    expect(await verifyPassword(stored, 'wrong', PASSWORD_PARAMS)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('treats NFKC-equivalent spellings as the same password', async () => {
    const stored = await hashPassword('ﬁnal café password', WEAK); // "ﬁ" ligature, composed é
    expect((await verifyPassword(stored, 'final cafe\u0301 password', WEAK)).ok).toBe(true);
  });

  it('returns ok: false for malformed hashes instead of throwing', async () => {
    for (const stored of [
      '',
      'plain',
      '$argon2id$v=19$m=19456,t=2,p=1$abc',
      '$2b$10$abcdefghijkl',
    ]) {
      expect(await verifyPassword(stored, 'anything')).toEqual({ ok: false, needsRehash: false });
    }
  });
});

describe('checkPasswordPolicy', () => {
  it('reads the shipped list from examples/portal/data', () => {
    expect(fileURLToPath(COMMON_PASSWORDS_URL)).toMatch(
      /examples\/portal\/data\/common-passwords\.txt$/,
    );
    expect(existsSync(COMMON_PASSWORDS_URL)).toBe(true);
    const list = commonPasswords();
    expect(list.size).toBeGreaterThan(10_000);
    expect(commonPasswords()).toBe(list); // loaded once
    const odd = [...list].filter((e) => e !== e.toLowerCase() || [...e].length < 12);
    expect(odd).toEqual([]);
  });

  it('counts code points after NFKC: 12 is enough, 11 is too short', () => {
    expect(checkPasswordPolicy('tnb4 wq7e zx')).toEqual({ ok: true });
    expect(checkPasswordPolicy('tnb4 wq7e z')).toEqual({ ok: false, reason: 'too_short' });
    // 11 astral characters are 22 UTF-16 units but only 11 code points.
    expect(checkPasswordPolicy('🦊🐙🦉🐳🦜🐝🦋🐢🦀🐬🦔')).toEqual({
      ok: false,
      reason: 'too_short',
    });
    expect(checkPasswordPolicy('🦊🐙🦉🐳🦜🐝🦋🐢🦀🐬🦔🐌')).toEqual({ ok: true });
    // Six "ﬃ" ligatures normalise to 18 letters.
    expect(checkPasswordPolicy('ﬃﬃﬃ-ﬃﬃﬃ').ok).toBe(true);
  });

  it('allows up to 128 code points and refuses 129', () => {
    const text =
      'Seven quiet otters drift past the old mill while a heron counts pebbles; ' +
      'nobody in Bremen knows why the clock tower plays jazz at 3:17 on Sundays, 42 times.';
    expect(text.length).toBeGreaterThan(129);
    const of = (n: number) => text.slice(0, n);
    expect(checkPasswordPolicy(of(128))).toEqual({ ok: true });
    expect(checkPasswordPolicy(of(129))).toEqual({ ok: false, reason: 'too_long' });
  });

  it('has no composition rules: long lower-case passphrases and any characters pass', () => {
    expect(checkPasswordPolicy('purple elephants dance quietly').ok).toBe(true);
    expect(checkPasswordPolicy('Grüße aus Köln am Rhein').ok).toBe(true);
    expect(checkPasswordPolicy('пароль для портала').ok).toBe(true);
  });

  it('refuses well-known common passwords, case-insensitively and ignoring spaces', () => {
    for (const pw of [
      'password1234',
      'Password1234',
      'PASSWORD1234!',
      'qwertyuiop123',
      '123456789012',
      'iloveyou1234',
      'passwort1234',
      'Hallo1234567',
      'p@$$w0rd1234',
      'qwertzuiop1234',
      'pass word 1234',
      'Deutschland2024',
      'Willkommen2024!',
    ]) {
      expect(checkPasswordPolicy(pw), pw).toEqual({ ok: false, reason: 'common' });
    }
  });

  it('refuses short patterns repeated and pure sequences', () => {
    for (const pw of [
      'aaaaaaaaaaaa',
      'abcabcabcabc',
      '123412341234',
      'xyzxyzxyzxyzx',
      'abcdefghijklmn',
      'zyxwvutsrqpon',
      '345678901234',
      '987654321098',
      'asdfghjklöä',
      'qwertyuiopasdf'.slice(0, 12),
      'mnbvcxzlkjhg',
    ]) {
      if ([...pw].length < 12) continue;
      expect(checkPasswordPolicy(pw), pw).toEqual({ ok: false, reason: 'common' });
    }
    expect(isRepeatedPattern('abcabcabcab')).toBe(true);
    expect(isRepeatedPattern('abcabcabcabd')).toBe(false);
    expect(isSequence('abcdefghijkl')).toBe(true);
    expect(isSequence('abcdefghijkm')).toBe(false);
  });

  it('refuses passwords containing the e-mail local part or the name (≥ 4 chars)', () => {
    const context = { email: 'Max.Mustermann@example.com', name: 'Erika Musterfrau' };
    expect(checkPasswordPolicy('my max.mustermann key', context)).toEqual({
      ok: false,
      reason: 'contains_identity',
    });
    expect(checkPasswordPolicy('xx MUSTERMANN rocks 7', context).ok).toBe(false);
    expect(checkPasswordPolicy('erika loves green tea', context).ok).toBe(false);
    expect(checkPasswordPolicy('tea with musterfrau 9', context).ok).toBe(false);
    // Short parts ("max") are not identity matches.
    expect(checkPasswordPolicy('max loves green tea 9', context)).toEqual({ ok: true });
    const short = { email: 'abc@example.com', name: 'Bo' };
    expect(checkPasswordPolicy('abc and bo are fine here', short)).toEqual({ ok: true });
    // The domain is not part of the identity check.
    expect(checkPasswordPolicy('example green tea 42', { email: 'jo@example.com' }).ok).toBe(true);
  });

  it('accepts a strong random password', () => {
    expect(checkPasswordPolicy('vT8#qL2!mZ9@', { email: 'x@y.z' })).toEqual({ ok: true });
  });
});
