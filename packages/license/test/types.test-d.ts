import { describe, expectTypeOf, it } from 'vitest';
import { LicenseError, type LicenseErrorCode, type LicenseInfo } from '../src/index.ts';

describe('types', () => {
  it('error codes are a closed union and narrow', () => {
    const error = new LicenseError('ERR_DPOP_REPLAY', 'x');
    expectTypeOf(error.code).toEqualTypeOf<LicenseErrorCode>();
    // @ts-expect-error: not a code of this package
    new LicenseError('ERR_NOT_A_CODE', 'x');
  });

  it('a license status is one of four', () => {
    expectTypeOf<LicenseInfo['status']>().toEqualTypeOf<
      'issued' | 'active' | 'rebinding' | 'locked'
    >();
  });
});
