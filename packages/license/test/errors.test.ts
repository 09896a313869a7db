import { describe, expect, it } from 'vitest';
import { isFluxelError, LICENSE_ERROR_CODES, LicenseError } from '../src/index.ts';

describe('LicenseError', () => {
  it('has a closed set of unique, well-formed codes', () => {
    expect(new Set(LICENSE_ERROR_CODES).size).toBe(LICENSE_ERROR_CODES.length);
    for (const code of LICENSE_ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('carries code, name and package, and is recognised by both guards', () => {
    const error = new LicenseError('ERR_LICENSE_INVALID_KEY', 'message for people');
    expect(error).toMatchObject({
      code: 'ERR_LICENSE_INVALID_KEY',
      name: 'LicenseError',
      package: '@fluxel/license',
    });
    expect(LicenseError.isInstance(error)).toBe(true);
    expect(isFluxelError(error)).toBe(true);
    expect(
      LicenseError.isInstance(Object.assign(new Error('x'), { code: 'ERR_LICENSE_INVALID_KEY' })),
    ).toBe(false);
  });
});
