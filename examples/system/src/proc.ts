/**
 * One child process of the system: `node --import tsx <entry>` with its own environment, its
 * output appended to `<logDir>/<name>.log` (never to the console unless asked), readiness by a
 * line it prints, and a stop that sends SIGTERM and, after a bound, SIGKILL. Each child holds a
 * lifeline to this process (`lifeline.ts`): when this process is gone — stopped, crashed or
 * killed — the child stops itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { LIFELINE_ENV, LIFELINE_FD } from './lifeline.ts';
import { eachLine } from './lines.ts';

/**
 * How long a wait for a process (a line, an exit) may take before it is a failure: a bound,
 * not a budget — generous, so a busy machine that needs longer still passes (the tests' own
 * READY_BOUND_MS in `@fluxel/internal/testing` is the same 5 minutes).
 */
export const READY_BOUND_MS = 300_000;

/** The repository root. */
export const repoRoot = resolve(import.meta.dirname, '../../..');
/** `--import` target that lets node run the examples' TypeScript entry points. */
export const tsxLoader = import.meta.resolve('tsx');
/** `--import` target that stops a child when its launcher is gone (after `tsxLoader`). */
const lifelineGuard = import.meta.resolve('./lifeline-guard.ts');

export interface ServiceOptions {
  readonly name: string;
  /** Entry file (absolute, or relative to the repository root). */
  readonly entry: string;
  readonly args?: readonly string[];
  /** Working directory; default the entry's package folder. */
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logDir: string;
  /** Called with every output line (e.g. to echo it in the demo). */
  readonly onLine?: (line: string) => void;
}

export class Service {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every line printed so far (stdout and stderr). */
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #waiters = new Set<() => void>();
  /** Resolves when stdout and stderr have ended (every line is in `lines`). */
  readonly #outputDone: Promise<unknown>;
  #outputEnded = false;
  readonly #log: WriteStream;

  constructor(options: ServiceOptions) {
    this.name = options.name;
    const entry = resolve(repoRoot, options.entry);
    mkdirSync(options.logDir, { recursive: true });
    this.#log = createWriteStream(join(options.logDir, `${options.name}.log`), { flags: 'a' });
    this.#log.write(`--- ${new Date().toISOString()} start ${options.name}\n`);
    const args = ['--import', tsxLoader, '--import', lifelineGuard, entry, ...(options.args ?? [])];
    this.child = spawn(process.execPath, args, {
      cwd: options.cwd ?? resolve(entry, '../..'),
      env: {
        ...cleanEnv(),
        ...options.env,
        [LIFELINE_ENV]: String(LIFELINE_FD),
      } as NodeJS.ProcessEnv,
      // stdin, stdout, stderr, the lifeline (index LIFELINE_FD).
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches the launcher, which stops each child
      // once (SIGTERM, then SIGKILL) — not the children directly, where a second signal would
      // cut a graceful shutdown short.
      detached: true,
    });
    const ends: Promise<void>[] = [];
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      ends.push(new Promise((done) => stream.once('close', () => done())));
      eachLine(stream, (line) => {
        this.lines.push(line);
        if (this.lines.length > 5000) this.lines.splice(0, 1000);
        this.#log.write(`${line}\n`);
        options.onLine?.(line);
        for (const wake of this.#waiters) wake();
      });
    }
    this.#outputDone = Promise.all(ends);
    this.exited = new Promise((done) => {
      this.child.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.child.stdio[LIFELINE_FD]?.destroy();
        this.#log.end(`--- exit ${code ?? signal}\n`);
        for (const wake of this.#waiters) wake();
        done({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Waits for a line matching `pattern` (seen before or later); fails when the process exits first or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = READY_BOUND_MS, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let index = from;
    for (;;) {
      for (; index < this.lines.length; index++) {
        const match = (this.lines[index] as string).match(pattern);
        if (match) return match;
      }
      if (this.#exit && !this.#outputEnded) {
        // 'exit' can come before the last output lines: wait (briefly) for the streams' end.
        await Promise.race([this.#outputDone, new Promise((wake) => setTimeout(wake, 1000))]);
        this.#outputEnded = true;
        continue;
      }
      if (this.#exit)
        throw new Error(
          `${this.name} exited (${this.#exit.code ?? this.#exit.signal}) before printing ${pattern}; last lines:\n${this.tail()}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.name}: no ${pattern} within ${timeoutMs} ms; last lines:\n${this.tail()}`,
        );
      await new Promise<void>((wake) => {
        const waker = () => {
          clearTimeout(timer);
          this.#waiters.delete(waker);
          wake();
        };
        const timer = setTimeout(waker, Math.min(left, 1000));
        this.#waiters.add(waker);
      });
    }
  }

  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((l) => `  ${this.name}| ${l}`)
      .join('\n');
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs` to the child's whole process group (what it started
   * goes with it). Resolves when the process is gone.
   */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.#killGroup(), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /** SIGKILL at once (a crash). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  #killGroup(): void {
    if (!this.running) return;
    try {
      // The child leads its own group (`detached`), so -pid is exactly it and its descendants.
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }
}

/** Runs a command to completion (a CLI call). */
export async function runOnce(
  options: ServiceOptions & { timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; lines: string[] }> {
  const service = new Service(options);
  const timer = setTimeout(
    () => service.child.kill('SIGKILL'),
    options.timeoutMs ?? READY_BOUND_MS,
  );
  const { code } = await service.exited;
  clearTimeout(timer);
  return { code, stdout: service.lines.join('\n'), lines: service.lines };
}

/** The parent's environment without variables that would change the children's behaviour unasked. */
function cleanEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if (
      /^(RELAY_|COUNTERPART_|PORTAL_|FLUXEL_AGENT_|DATABASE_|REDIS_URL|AMQP_URL|NATS_URL|VITEST|NODE_OPTIONS)/.test(
        key,
      )
    )
      delete env[key];
  return env;
}
