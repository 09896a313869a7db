/**
 * Small process helpers of the load suite: spawn a TypeScript entry file as a real Node
 * process (`node --import tsx`, so the pid is the program itself) or any other program, keep its output in a log
 * file (license keys redacted), wait for a line, stop it, and sample its RSS from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const TSX = import.meta.resolve('tsx');

/** Lines that may carry a secret are cut before they reach a log file. */
function redact(line: string): string {
  return line
    .replace(/(license key[^:]*:\s*)\S+/gi, '$1[redacted]')
    .replace(/whsec_[A-Za-z0-9+/=]+/g, 'whsec_[redacted]');
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  /** Resolves with the exit code / signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Calls `fn` for every stdout/stderr line from now on (unredacted, never logged by us). */
  onLine(fn: (line: string) => void): () => void;
  /** The first line (past or future) matching `re`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  write(line: string): void;
  alive(): boolean;
}

export interface SpawnOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: string;
  readonly stdin?: boolean;
}

export function spawnTs(
  name: string,
  script: string,
  args: readonly string[],
  options: SpawnOptions,
): Child {
  return spawnProgram(name, process.execPath, ['--import', TSX, script, ...args], options);
}

/** Any program as a child (its own pid), with the same log and line helpers. */
export function spawnProgram(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Child {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const log: WriteStream = createWriteStream(options.log, { flags: 'a', mode: 0o600 });
  log.write(`--- ${new Date().toISOString()} ${name} pid ${proc.pid}\n`);
  const seen: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const take = (line: string) => {
    if (seen.length < 2000) seen.push(line);
    log.write(`${redact(line)}\n`);
    for (const fn of listeners) fn(line);
  };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', take);
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', take);
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    proc.once('exit', (code, signal) => {
      ended = true;
      log.write(`--- ${new Date().toISOString()} exit ${code ?? signal}\n`);
      // let the last lines arrive before the log closes
      setTimeout(() => log.end(), 200);
      done({ code, signal });
    });
  });
  proc.stdin?.on('error', () => {});
  return {
    name,
    proc,
    pid: proc.pid as number,
    startedAt: Date.now(),
    exited,
    onLine(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    waitFor(re, timeoutMs) {
      for (const line of seen) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((done, fail) => {
        const off = this.onLine((line) => {
          const m = re.exec(line);
          if (!m) return;
          cleanup();
          done(m);
        });
        const timer = setTimeout(() => {
          cleanup();
          fail(
            new Error(
              `${name}: no line matching ${re} within ${timeoutMs} ms (log: ${options.log})`,
            ),
          );
        }, timeoutMs);
        void exited.then(({ code, signal }) => {
          cleanup();
          fail(new Error(`${name} exited (${code ?? signal}) before ${re} (log: ${options.log})`));
        });
        const cleanup = () => {
          clearTimeout(timer);
          off();
        };
      });
    },
    write(line) {
      proc.stdin?.write(`${line}\n`);
    },
    alive: () => !ended,
  };
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process has exited. */
export async function stop(child: Child, graceMs = 15_000): Promise<'graceful' | 'killed'> {
  if (!child.alive()) return 'graceful';
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  const { signal } = await child.exited;
  clearTimeout(timer);
  return signal === 'SIGKILL' ? 'killed' : 'graceful';
}

/** Resident set size of a live process in bytes (Linux /proc), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface Incarnation {
  readonly process: string;
  readonly pid: number;
  readonly startedAt: number;
  endedAt?: number;
  readonly samples: { t: number; rss: number }[];
}

/** Samples the RSS of every tracked process once per `everyMs`. */
export class RssSampler {
  readonly incarnations: Incarnation[] = [];
  #timer: NodeJS.Timeout | undefined;

  track(processName: string, child: Child): Incarnation {
    const inc: Incarnation = {
      process: processName,
      pid: child.pid,
      startedAt: child.startedAt,
      samples: [],
    };
    this.incarnations.push(inc);
    void child.exited.then(() => {
      inc.endedAt = Date.now();
    });
    return inc;
  }

  start(everyMs = 1000): void {
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
  }

  sample(): void {
    const t = Date.now();
    for (const inc of this.incarnations) {
      if (inc.endedAt !== undefined) continue;
      const rss = rssOf(inc.pid);
      if (rss !== undefined) inc.samples.push({ t, rss });
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
