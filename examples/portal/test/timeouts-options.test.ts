/** The HTTP timeout options: defaults, and bad values refused at construction. */
import { describe, expect, it } from 'vitest';
import { createPortal, type PortalOptions } from '../src/server/app.ts';
import { DEFAULT_TIMEOUTS, portalTimeouts } from '../src/server/timeouts.ts';

describe('timeout options', () => {
  it('defaults: 30 s per request, headers within 10 s, checked every second', () => {
    expect(portalTimeouts()).toEqual(DEFAULT_TIMEOUTS);
    expect(DEFAULT_TIMEOUTS.requestMs).toBe(30_000);
  });

  it('bad values are refused at construction, saying which and why', async () => {
    expect(() => portalTimeouts({ requestMs: 0 })).toThrow(/timeouts\.requestMs must be/);
    expect(() => portalTimeouts({ keepAliveMs: 1.5 })).toThrow(/whole number/);
    expect(() => portalTimeouts({ requestMs: 2000, headersMs: 5000 })).toThrow(
      /headersMs must not be longer than timeouts\.requestMs/,
    );
    expect(() => portalTimeouts({ connectionMs: 1000 })).toThrow(/connectionMs/);
    // createPortal checks them before it opens anything.
    await expect(
      createPortal({ timeouts: { requestMs: -1 } } as unknown as PortalOptions),
    ).rejects.toThrow(RangeError);
  });
});
