import { describe, expect, it } from 'vitest';

describe('runtime', () => {
  it('runs on a supported Node.js line (>= 20.19)', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    expect(major > 20 || (major === 20 && minor >= 19)).toBe(true);
  });

  it('runs on the Node.js line that `pnpm test` was started with', () => {
    // scripts/test.mjs sets FLUXEL_NODE_MAJOR; CI runs the suites on Node 20 and on Node 24.
    const expected = process.env.FLUXEL_NODE_MAJOR;
    if (expected === undefined) return expect(process.env.CI).not.toBe('true');
    expect(process.versions.node.split('.')[0]).toBe(expected);
  });
});
