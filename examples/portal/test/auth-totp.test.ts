/**
 * TOTP: the RFC 6238 Appendix B test vectors, base32 (RFC 4648) round trips, verification
 * windows, the per-step replay guard, malformed input, the otpauth URL and the QR SVG.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  hotp,
  otpauthUrl,
  qrSvg,
  type TotpAlgorithm,
  totpCode,
  totpStep,
  verifyTotp,
} from '../src/features/auth/totp.ts';

// RFC 6238 Appendix B: the published test vectors. The seeds are the ASCII strings below
// (20, 32 and 64 bytes for HMAC-SHA-1, -256 and -512); codes are 8 digits, X = 30 s, T0 = 0.
const SEEDS: Record<TotpAlgorithm, string> = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
};
const VECTORS: [number, Record<TotpAlgorithm, string>][] = [
  [59, { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' }],
  [1111111109, { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' }],
  [1111111111, { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' }],
  [1234567890, { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' }],
  [2000000000, { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' }],
  [20000000000, { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' }],
];

const secretOf = (ascii: string) => base32Encode(Buffer.from(ascii, 'ascii'));

describe('RFC 6238 Appendix B', () => {
  for (const [seconds, expected] of VECTORS) {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      it(`T=${seconds} ${algorithm} → ${expected[algorithm]}`, () => {
        const secret = secretOf(SEEDS[algorithm]);
        expect(totpCode(secret, seconds * 1000, { algorithm, digits: 8 })).toBe(
          expected[algorithm],
        );
        // The same code verifies at that time.
        expect(
          verifyTotp(secret, expected[algorithm], { now: seconds * 1000, algorithm, digits: 8 }),
        ).toEqual({
          ok: true,
          step: Math.floor(seconds / 30),
        });
      });
    }
  }

  it('6-digit codes are the last 6 digits of the 8-digit ones (HOTP truncation)', () => {
    const secret = secretOf(SEEDS.SHA1);
    expect(totpCode(secret, 59_000)).toBe('287082');
    expect(totpCode(secret, 1111111109_000)).toBe('081804');
  });

  it('HOTP matches RFC 4226 Appendix D for counters 0..2', () => {
    const key = Buffer.from(SEEDS.SHA1, 'ascii');
    expect([0, 1, 2].map((c) => hotp(key, c))).toEqual(['755224', '287082', '359152']);
  });
});

describe('base32 (RFC 4648)', () => {
  it('matches the RFC 4648 §10 test vectors (without padding)', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(Buffer.from(base32Decode(encoded)).toString()).toBe(plain);
    }
    expect(Buffer.from(base32Decode('mzxw6ytboi======')).toString()).toBe('foobar');
    expect(Buffer.from(base32Decode('MZXW 6YTB-OI')).toString()).toBe('foobar');
  });

  it('round-trips random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const encoded = base32Encode(bytes);
        expect(encoded).toMatch(/^[A-Z2-7]*$/);
        expect(encoded.length).toBe(Math.ceil((bytes.length * 8) / 5));
        expect(Buffer.from(base32Decode(encoded))).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses invalid characters and impossible lengths', () => {
    expect(() => base32Decode('MZXW1')).toThrow(RangeError); // 1 is not in the alphabet
    expect(() => base32Decode('MZXW0')).toThrow(RangeError);
    expect(() => base32Decode('M')).toThrow(RangeError);
    expect(() => base32Decode('MZX')).toThrow(RangeError);
  });

  it('generates 160-bit secrets', () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a).length).toBe(20);
    expect(generateTotpSecret()).not.toBe(a);
  });
});

describe('verifyTotp', () => {
  const secret = base32Encode(randomBytes(20));
  const now = 1_700_000_000_000 + 12_345; // somewhere inside a step
  const step = totpStep(now);
  const at = (s: number) => totpCode(secret, s * 30_000);

  it('accepts the current step and returns it', () => {
    expect(verifyTotp(secret, at(step), { now })).toEqual({ ok: true, step });
  });

  it('accepts ±window steps and refuses the next ones out', () => {
    expect(verifyTotp(secret, at(step - 1), { now })).toEqual({ ok: true, step: step - 1 });
    expect(verifyTotp(secret, at(step + 1), { now })).toEqual({ ok: true, step: step + 1 });
    expect(verifyTotp(secret, at(step - 2), { now })).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyTotp(secret, at(step + 2), { now })).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyTotp(secret, at(step - 2), { now, window: 2 })).toEqual({
      ok: true,
      step: step - 2,
    });
    expect(verifyTotp(secret, at(step - 1), { now, window: 0 })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(verifyTotp(secret, at(step), { now, window: 0 })).toEqual({ ok: true, step });
  });

  it('window edges follow step boundaries, not "now ± 30 s"', () => {
    const start = step * 30_000; // first millisecond of the step
    expect(verifyTotp(secret, at(step - 1), { now: start, window: 0 }).ok).toBe(false);
    expect(verifyTotp(secret, at(step), { now: start, window: 0 }).ok).toBe(true);
    expect(verifyTotp(secret, at(step), { now: start + 29_999, window: 0 }).ok).toBe(true);
    expect(verifyTotp(secret, at(step), { now: start + 30_000, window: 0 }).ok).toBe(false);
  });

  it('refuses a code whose step is ≤ lastUsedStep (replay)', () => {
    const first = verifyTotp(secret, at(step), { now });
    expect(first.ok).toBe(true);
    const lastUsedStep = first.ok ? first.step : -1;
    expect(verifyTotp(secret, at(step), { now, lastUsedStep })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    // An older, still in-window code is refused too…
    expect(verifyTotp(secret, at(step - 1), { now, lastUsedStep })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    // …the next step's code is fine, and a wrong code is just invalid.
    expect(verifyTotp(secret, at(step + 1), { now, lastUsedStep })).toEqual({
      ok: true,
      step: step + 1,
    });
    const wrong = String((Number(at(step)) + 1) % 1_000_000).padStart(6, '0');
    const others = [at(step - 1), at(step), at(step + 1)];
    if (!others.includes(wrong)) {
      expect(verifyTotp(secret, wrong, { now, lastUsedStep })).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
  });

  it('refuses wrong lengths and non-digits; ignores spaces', () => {
    const code = at(step);
    expect(verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, { now }).ok).toBe(true);
    for (const bad of [
      code.slice(0, 5),
      `${code}0`,
      `0${code}`,
      '',
      'abcdef',
      `${code.slice(0, 5)}x`,
      '１２３４５６',
      '-12345',
      '+12345',
      '12345.',
    ]) {
      expect(verifyTotp(secret, bad, { now }), bad).toEqual({ ok: false, reason: 'invalid' });
    }
    // An 8-digit configuration refuses the 6-digit code.
    expect(verifyTotp(secret, code, { now, digits: 8 }).ok).toBe(false);
    expect(verifyTotp(secret, totpCode(secret, now, { digits: 8 }), { now, digits: 8 }).ok).toBe(
      true,
    );
  });

  it('refuses codes for another secret and rejects silly windows', () => {
    const other = generateTotpSecret();
    const code = totpCode(other, now);
    const mine = [step - 1, step, step + 1].map(at);
    if (!mine.includes(code)) expect(verifyTotp(secret, code, { now }).ok).toBe(false);
    expect(() => verifyTotp(secret, at(step), { now, window: 11 })).toThrow(RangeError);
    expect(() => verifyTotp(secret, at(step), { now, window: -1 })).toThrow(RangeError);
  });
});

describe('otpauthUrl and qrSvg', () => {
  it('builds a Key Uri Format URL with label prefix and issuer parameter, URL-encoded', () => {
    const url = otpauthUrl({
      secret: 'JBSWY3DPEHPK3PXP',
      account: 'jürgen+2fa@example.com',
      issuer: 'Fluxel Portal',
    });
    expect(url).toBe(
      'otpauth://totp/Fluxel%20Portal:j%C3%BCrgen%2B2fa%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Fluxel%20Portal',
    );
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('otpauth:');
    expect(parsed.searchParams.get('issuer')).toBe('Fluxel Portal');
    expect(parsed.host).toBe('totp');
    expect(decodeURIComponent(parsed.pathname)).toBe('/Fluxel Portal:jürgen+2fa@example.com');
  });

  it('adds non-default parameters and refuses colons', () => {
    const url = otpauthUrl({
      secret: 'jbswy3dpehpk3pxp',
      account: 'a@b.c',
      issuer: 'X',
      algorithm: 'SHA256',
      digits: 8,
    });
    expect(url).toContain('secret=JBSWY3DPEHPK3PXP');
    expect(url).toContain('&algorithm=SHA256&digits=8');
    expect(url).not.toContain('period=');
    expect(() => otpauthUrl({ secret: 'JBSWY3DP', account: 'a:b', issuer: 'X' })).toThrow(
      RangeError,
    );
    expect(() => otpauthUrl({ secret: 'JBSWY3DP', account: 'a', issuer: 'X:Y' })).toThrow(
      RangeError,
    );
  });

  it('renders an SVG QR code', async () => {
    const svg = await qrSvg('otpauth://totp/X:a?secret=JBSWY3DPEHPK3PXP&issuer=X');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg).toMatch(/<path[^>]+d="M/);
    expect(await qrSvg('something else')).not.toBe(svg);
  });
});
