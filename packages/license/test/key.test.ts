import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LicenseError } from '../src/lib/errors.ts';
import { generateLicenseKey, isLicenseKey, parseLicenseKey } from '../src/lib/key.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const FORMAT = /^FLX(-[0-9A-HJKMNP-TV-Z]{4}){7}$/;

describe('license keys', () => {
  it('are generated in the documented format and parse back to themselves', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateLicenseKey();
      expect(key).toMatch(FORMAT);
      expect(parseLicenseKey(key)).toEqual({ prefix: 'FLX', canonical: key });
    }
  });

  it('carry at least 128 bits of entropy (26 random base32 symbols, no repeats in 10 000)', () => {
    const keys = new Set(Array.from({ length: 10_000 }, () => generateLicenseKey()));
    expect(keys.size).toBe(10_000);
    // every symbol position is used across many keys: no fixed characters besides the checks
    const positions = Array.from({ length: 26 }, () => new Set<string>());
    for (const key of [...keys].slice(0, 2000)) {
      const body = key.slice(4).replaceAll('-', '');
      for (let i = 0; i < 26; i++) positions[i]?.add(body[i] as string);
    }
    for (const seen of positions) expect(seen.size).toBe(32);
  });

  it('normalise case, spaces, dashes and the confusables O, I and L', () => {
    const key = generateLicenseKey();
    const sloppy = ` ${key.toLowerCase().replaceAll('-', ' ').replaceAll('0', 'o').replaceAll('1', 'l')} `;
    expect(parseLicenseKey(sloppy).canonical).toBe(key);
    expect(parseLicenseKey(key.replaceAll('-', '')).canonical).toBe(key);
  });

  it('support other product prefixes, and a key of another product is refused', () => {
    const key = generateLicenseKey({ prefix: 'SHOP' });
    expect(parseLicenseKey(key).prefix).toBe('SHOP');
    expect(() => parseLicenseKey(key, { prefix: 'FLX' })).toThrow(/another product/);
    // Same body under another prefix fails the checksum: the prefix is part of it.
    expect(isLicenseKey(`FLX${key.slice(4)}`)).toBe(false);
    expect(() => generateLicenseKey({ prefix: 'x1' })).toThrow(LicenseError);
  });

  it('catch any single substitution, anywhere (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 31 }), (seed, pos, delta) => {
        const key = generateLicenseKey();
        const body = key.slice(4).replaceAll('-', '');
        const i = pos % body.length;
        const replaced = ALPHABET[(ALPHABET.indexOf(body[i] as string) + delta) % 32] as string;
        const typo = body.slice(0, i) + replaced + body.slice(i + 1);
        expect(isLicenseKey(`FLX-${typo}`), `seed ${seed}`).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('catch every swap of two different neighbouring characters (exhaustive on 300 keys)', () => {
    for (let n = 0; n < 300; n++) {
      const key = generateLicenseKey();
      const body = key.slice(4).replaceAll('-', '');
      for (let i = 0; i + 1 < body.length; i++) {
        if (body[i] === body[i + 1]) continue;
        const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
        expect(isLicenseKey(`FLX-${swapped}`)).toBe(false);
      }
    }
  });

  it('catch a dropped or an added character when the product prefix is known (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 31 }), (pos, symbol) => {
        const body = generateLicenseKey().slice(4).replaceAll('-', '');
        const i = pos % body.length;
        const dropped = body.slice(0, i) + body.slice(i + 1);
        const added = body.slice(0, i) + ALPHABET[symbol] + body.slice(i);
        expect(isLicenseKey(`FLX-${dropped}`, { prefix: 'FLX' })).toBe(false);
        expect(isLicenseKey(`FLX-${added}`, { prefix: 'FLX' })).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuse garbage with a typed error that never echoes the key', () => {
    const key = generateLicenseKey();
    const typo = `${key.slice(0, -1)}${key.endsWith('Z') ? 'Y' : 'Z'}`;
    for (const bad of [
      '',
      'FLX',
      'hello world',
      `${key}-0000`,
      typo,
      `FLX-${'U'.repeat(28)}`,
      'x'.repeat(500),
    ]) {
      try {
        parseLicenseKey(bad);
        expect.unreachable(`accepted ${bad}`);
      } catch (error) {
        expect(LicenseError.isInstance(error) && error.code).toBe('ERR_LICENSE_INVALID_KEY');
        expect((error as Error).message).not.toContain(key.slice(4, 12));
      }
    }
    expect(() => parseLicenseKey(42 as unknown as string)).toThrow(LicenseError);
  });
});
