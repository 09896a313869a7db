/** One problem class for every realm: the realm is part of the problem's `type` URI. */
import { describe, expect, it } from 'vitest';
import { Problem, problemType } from '../src/problem.ts';

describe('Problem', () => {
  it('names its realm in the type URI of its code', () => {
    const portal = new Problem('portal', 403, 'cross-site request refused', { code: 'csrf' });
    expect(portal.type).toBe('https://fluxel.example/problems/portal/csrf');
    const partner = new Problem('partner-api', 429, 'slow down', { code: 'rate_limited' });
    expect(partner.type).toBe('https://fluxel.example/problems/partner-api/rate_limited');
    expect(problemType('relay', 'license-not-found')).toBe(
      'https://relay.fluxel.dev/problems/license-not-found',
    );
  });

  it('is an Error whose document carries type, title, status and the extension members', () => {
    const problem = new Problem('partner-api', 429, 'slow down', {
      code: 'rate_limited',
      retryAfter: 3,
    });
    expect(problem).toBeInstanceOf(Error);
    expect(problem.message).toBe('slow down');
    expect(problem.document()).toEqual({
      type: 'https://fluxel.example/problems/partner-api/rate_limited',
      title: 'slow down',
      status: 429,
      code: 'rate_limited',
      retryAfter: 3,
    });
  });

  it('keeps a type it is given, and is about:blank without code or type', () => {
    const named = new Problem('relay', 404, 'no such license', {
      type: problemType('relay', 'license-not-found'),
      code: 'ERR_LICENSE_NOT_FOUND',
    });
    expect(named.type).toBe('https://relay.fluxel.dev/problems/license-not-found');
    expect(new Problem('relay', 500, 'internal error').type).toBe('about:blank');
  });
});
