import { describe, expect, it } from 'vitest';
import { isFluxelError, RELAY_CLIENT_ERROR_CODES, RelayError } from '../src/index.ts';

describe('RelayError', () => {
  it('has a closed set of unique, well-formed codes', () => {
    expect(new Set(RELAY_CLIENT_ERROR_CODES).size).toBe(RELAY_CLIENT_ERROR_CODES.length);
    for (const code of RELAY_CLIENT_ERROR_CODES) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it('carries code, name and package, and is recognised by both guards', () => {
    const error = new RelayError('ERR_RELAY_CONNECTION', 'message for people');
    expect(error).toMatchObject({
      code: 'ERR_RELAY_CONNECTION',
      name: 'RelayError',
      package: '@fluxel/relay-client',
    });
    expect(RelayError.isInstance(error)).toBe(true);
    expect(isFluxelError(error)).toBe(true);
    expect(
      RelayError.isInstance(Object.assign(new Error('x'), { code: 'ERR_RELAY_CONNECTION' })),
    ).toBe(false);
  });
});
