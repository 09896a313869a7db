/**
 * CPU time of other processes on this machine (Linux `/proc/<pid>/stat`), for benchmarks that
 * must count the work a server hands to PostgreSQL: only the backends serving that server's
 * connections, never every `postgres` process (autovacuum, the checkpointer and other clients'
 * backends are someone else's cost).
 */
import { readFileSync } from 'node:fs';

/** Microseconds per clock tick: USER_HZ is 100 on Linux. */
const TICK_US = 1e6 / 100;

/**
 * User + system CPU (µs) out of a `/proc/<pid>/stat` line, whose command name may itself hold
 * spaces and parentheses (fields are counted after its last `)`).
 */
export function parseProcStat(stat: string): { name: string; cpuUs: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // After ") ": state(3) ppid(4) … utime(14) stime(15) → indexes 11 and 12 here.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { name: stat.slice(open + 1, close), cpuUs: (utime + stime) * TICK_US };
}

/** CPU µs of one process so far, or undefined when it is gone (or not on Linux). */
export function processCpuUs(pid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.cpuUs;
  } catch {
    return undefined;
  }
}

/** CPU µs per process id at one moment. */
export type CpuSnapshot = ReadonlyMap<number, number>;

/** Reads the CPU of the given processes; ones that are gone are left out. */
export function snapshot(pids: Iterable<number>): CpuSnapshot {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const cpu = processCpuUs(pid);
    if (cpu !== undefined) out.set(pid, cpu);
  }
  return out;
}

/**
 * CPU spent between two snapshots by a set of processes that may change in between: a process
 * that appeared counts in full (it started inside the window), one that vanished is counted in
 * `lost` (its last slice is unknown, so the figure is then a lower bound).
 */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { us: number; processes: number; lost: number } {
  let us = 0;
  for (const [pid, cpu] of after) us += cpu - (before.get(pid) ?? 0);
  let lost = 0;
  for (const pid of before.keys()) if (!after.has(pid)) lost++;
  return { us, processes: after.size, lost };
}
