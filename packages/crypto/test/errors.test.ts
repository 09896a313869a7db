import { describe, expect, it } from 'vitest';
import { CRYPTO_ERROR_CODES, CryptoError, isFluxelError } from '../src/index.ts';

describe('CryptoError', () => {
  it('has a closed set of unique, well-formed codes', () => {
    expect(new Set(CRYPTO_ERROR_CODES).size).toBe(CRYPTO_ERROR_CODES.length);
    for (const code of CRYPTO_ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('carries code, name and package, and is recognised by both guards', () => {
    const error = new CryptoError('ERR_CRYPTO_DECRYPTION_FAILED', 'message for people');
    expect(error).toMatchObject({
      code: 'ERR_CRYPTO_DECRYPTION_FAILED',
      name: 'CryptoError',
      package: '@fluxel/crypto',
    });
    expect(CryptoError.isInstance(error)).toBe(true);
    expect(isFluxelError(error)).toBe(true);
    expect(
      CryptoError.isInstance(
        Object.assign(new Error('x'), { code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
      ),
    ).toBe(false);
  });
});
