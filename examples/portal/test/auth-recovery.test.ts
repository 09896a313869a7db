/** Recovery codes: format and entropy, forgiving normalisation, hashing and lookup. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  findRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  isRecoveryCodeShape,
  normaliseRecoveryCode,
  RECOVERY_ALPHABET,
} from '../src/server/auth/recovery.ts';

describe('recovery codes', () => {
  it('makes 10 distinct xxxx-xxxx-xxxx codes from the unambiguous alphabet by default', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      expect(isRecoveryCodeShape(code)).toBe(true);
    }
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(() => generateRecoveryCodes(0)).toThrow(RangeError);
  });

  it('has at least 60 bits per code and uses every symbol', () => {
    expect(RECOVERY_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_ALPHABET).size).toBe(32);
    for (const c of 'ilou') expect(RECOVERY_ALPHABET).not.toContain(c);
    const symbols = normaliseRecoveryCode(generateRecoveryCodes(1)[0] ?? '').length;
    expect(symbols * Math.log2(RECOVERY_ALPHABET.length)).toBeGreaterThanOrEqual(60);
    // Roughly uniform: 100 codes = 1200 symbols, each of 32 symbols expected ~37 times.
    const counts = new Map<string, number>();
    for (const code of generateRecoveryCodes(100)) {
      for (const c of normaliseRecoveryCode(code)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    for (const n of counts.values()) expect(n).toBeLessThan(90);
  });

  it('normalises case, spaces, dashes and look-alikes', () => {
    expect(normaliseRecoveryCode(' 7KQ2-M9XD-0PTH ')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('7kq2 m9xd 0pth')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('7kq2m9xdOpth')).toBe('7kq2m9xd0pth');
    expect(normaliseRecoveryCode('abIL-0000-0000')).toBe('ab1100000000');
    expect(isRecoveryCodeShape('7kq2-m9xd-0pt')).toBe(false);
    expect(isRecoveryCodeShape('7kq2-m9xd-0ptu')).toBe(false);
  });

  it('hashes the normalised code with SHA-256', () => {
    const expected = createHash('sha256').update('7kq2m9xd0pth').digest('hex');
    expect(hashRecoveryCode('7kq2-m9xd-0pth')).toBe(expected);
    expect(hashRecoveryCode('7KQ2 M9XD OPTH')).toBe(expected);
    expect(hashRecoveryCode('7kq2-m9xd-0ptj')).not.toBe(expected);
  });

  it('finds which stored hash a typed code matches', () => {
    const codes = generateRecoveryCodes(5);
    const stored = codes.map(hashRecoveryCode);
    expect(findRecoveryCode(stored, (codes[3] ?? '').toUpperCase().replace(/-/g, ' '))).toBe(3);
    expect(findRecoveryCode(stored, 'zzzz-zzzz-zzzz')).toBe(-1);
    expect(findRecoveryCode(['not hex', ...stored], codes[0] ?? '')).toBe(1);
    expect(findRecoveryCode([], codes[0] ?? '')).toBe(-1);
  });
});
