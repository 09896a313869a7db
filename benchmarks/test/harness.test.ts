import { describe, expect, it } from 'vitest';
import { measure, median, percentile, result } from '../src/harness.ts';

describe('benchmark harness', () => {
  it('orients the ratio so that higher is better', () => {
    expect(result('x/rate', 200, 'peer', 100, 'ops/s').ratio).toBe(2);
    expect(result('x/time', 50, 'peer', 100, 'ms').ratio).toBe(2);
    expect(result('x/time', 200, 'peer', 100, 'ms').ratio).toBe(0.5);
    expect(result('x/cpu', 200, 'peer', 100, 'µs').ratio).toBe(0.5);
    expect(result('x/sql', 0.05, 'budget', 0.1, 'statements/send').ratio).toBe(2);
  });

  it('prints the documented field set and nothing else', () => {
    const line = JSON.parse(
      JSON.stringify(result('pkg/case', 1234.5678, 'raw node:crypto', 1000, 'MB/s')),
    );
    expect(Object.keys(line)).toEqual(['bench', 'ours', 'peer', 'theirs', 'unit', 'ratio']);
    expect(line).toEqual({
      bench: 'pkg/case',
      ours: 1235,
      peer: 'raw node:crypto',
      theirs: 1000,
      unit: 'MB/s',
      ratio: 1.235,
    });
  });

  it('refuses figures that would make a meaningless ratio', () => {
    expect(() => result('x', 0, 'p', 1, 'ops/s')).toThrow(/positive/);
    expect(() => result('x', 1, 'p', Number.NaN, 'ops/s')).toThrow(/positive/);
  });

  it('median and percentile', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([5], 99)).toBe(5);
    expect(() => median([])).toThrow();
  });

  it('measures a slower operation as slower', async () => {
    const busy = (n: number) => () => {
      let x = 0;
      for (let i = 0; i < n; i++) x += i;
      return x;
    };
    const options = { warmupMs: 20, samples: 3, sampleMs: 40 };
    const fast = await measure(busy(1_000), options);
    const slow = await measure(busy(100_000), options);
    expect(fast).toBeGreaterThan(slow * 10);
  });
});
