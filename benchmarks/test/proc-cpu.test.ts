import { describe, expect, it } from 'vitest';
import { cpuBetween, parseProcStat, processCpuUs } from '../src/proc-cpu.ts';

describe('process CPU from /proc (the relay bench counts only its own PostgreSQL backends)', () => {
  it('reads utime + stime after the command name, even one with spaces and parentheses', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0';
    expect(parseProcStat(`4242 (postgres) ${rest}`)).toEqual({ name: 'postgres', cpuUs: 3e6 });
    expect(parseProcStat(`4242 (post (gres) x) ${rest}`)).toEqual({
      name: 'post (gres) x',
      cpuUs: 3e6,
    });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('counts a backend that appeared in full and one that vanished as lost', () => {
    const before = new Map([
      [1, 100],
      [2, 200],
    ]);
    const after = new Map([
      [1, 150],
      [3, 40],
    ]);
    expect(cpuBetween(before, after)).toEqual({ us: 90, processes: 2, lost: 1 });
  });

  it('reads its own process and nothing for a process that does not exist', () => {
    if (process.platform === 'linux') expect(processCpuUs(process.pid)).toBeGreaterThanOrEqual(0);
    expect(processCpuUs(2 ** 31 - 1)).toBeUndefined();
  });
});
