import { describe, expect, it } from 'vitest';
import { ACME_LITE_ERROR_CODES, AcmeError, isFluxelError } from '../src/index.ts';

describe('AcmeError', () => {
  it('has a closed set of unique, well-formed codes', () => {
    expect(new Set(ACME_LITE_ERROR_CODES).size).toBe(ACME_LITE_ERROR_CODES.length);
    for (const code of ACME_LITE_ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('carries code, name and package, and is recognised by both guards', () => {
    const error = new AcmeError('ERR_ACME_PROBLEM', 'message for people');
    expect(error).toMatchObject({
      code: 'ERR_ACME_PROBLEM',
      name: 'AcmeError',
      package: '@fluxel/acme-lite',
    });
    expect(AcmeError.isInstance(error)).toBe(true);
    expect(isFluxelError(error)).toBe(true);
    expect(AcmeError.isInstance(Object.assign(new Error('x'), { code: 'ERR_ACME_PROBLEM' }))).toBe(
      false,
    );
  });
});
