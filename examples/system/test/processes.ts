/**
 * What `/proc` says about processes, for the tests that check nothing is left behind: a process
 * is identified by its pid and its start time (a reused pid is another process), and a zombie
 * (exited, not yet reaped) counts as gone — it holds no memory, port or file.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  readonly start: string;
  readonly state: string;
  /** The command line, for messages. */
  readonly command: string;
}

/** `/proc/<pid>` now, or undefined when there is no such process. */
export function processEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {}
    return {
      pid,
      ppid: Number(fields[1]),
      start: fields[19] as string,
      state: fields[0] as string,
      command,
    };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = processEntry(Number(name));
    if (entry) out.push(entry);
  }
  return out;
}

/** `root` and every process below it. */
export function processTree(root: number): ProcessEntry[] {
  const all = allProcesses();
  const tree: ProcessEntry[] = [];
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const self = all.find((p) => p.pid === pid);
    if (self) tree.push(self);
    for (const child of all) if (child.ppid === pid) queue.push(child.pid);
  }
  return tree;
}

/** Those of `entries` that still run (same pid and start time, not a zombie). */
export function stillRunning(entries: readonly ProcessEntry[]): ProcessEntry[] {
  return entries.filter((e) => {
    const now = processEntry(e.pid);
    return now !== undefined && now.start === e.start && now.state !== 'Z' && now.state !== 'X';
  });
}

/** Running processes (other than this one) whose environment contains `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const state = processEntry(Number(entry))?.state;
      if (state === 'Z' || state === 'X') continue;
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker))
        out.push(Number(entry));
    } catch {}
  }
  return out;
}
