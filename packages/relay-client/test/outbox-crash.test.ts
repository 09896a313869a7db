/**
 * kill -9 tests with a real child process on the file store:
 * (a) enqueue, killed mid-way: every id the child saw acknowledged is in the reopened outbox;
 * (b) delivery, killed repeatedly after the effect and before `complete` (and while other
 *     leases are held): after restarts every message reached the effect log, exactly once
 *     after deduplication by idempotency key; raw duplicates are counted (at-least-once).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { missingDependency, repoRoot } from '../../internal/src/testing.ts';
import { FileOutboxStore } from '../src/node.ts';
import { Outbox } from '../src/outbox.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'outbox-child.ts');

/** The tsx loader: from this package if it declares tsx, else from the workspace. */
function tsxLoader(): string | undefined {
  const from = [
    join(import.meta.dirname, '..', 'package.json'),
    join(repoRoot, 'package.json'),
    join(repoRoot, 'benchmarks', 'package.json'),
    join(repoRoot, 'packages', 'license', 'package.json'),
  ];
  for (const file of from) {
    try {
      return pathToFileURL(createRequire(file).resolve('tsx')).href;
    } catch {
      // next
    }
  }
  return undefined;
}
const loader = tsxLoader();
const skip = loader ? false : missingDependency('tsx', 'pnpm install');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-outbox-crash-'));
  dirs.push(dir);
  return dir;
}

interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', loader as string, CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) console.error(stderr);
      resolve({ code, signal });
    }),
  );
  return { proc, lines, exited };
}

async function until(check: () => boolean, timeoutMs = READY_BOUND_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the child');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function effectLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe.skipIf(skip)('outbox under kill -9', () => {
  it('every id acknowledged to the enqueuer survives SIGKILL mid-way', async () => {
    const dir = tempDir();
    const child = run(['enqueue', dir, '100000']);
    const acked = () => child.lines.filter((l) => l.startsWith('acked ')).length;
    await until(() => acked() >= 1500);
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');
    const ids = child.lines.filter((l) => l.startsWith('acked ')).map((l) => l.slice(6));
    expect(ids.length).toBeGreaterThanOrEqual(1500);
    expect(child.lines).not.toContain('done');

    const store = await FileOutboxStore.open(dir);
    expect(store.recovery.previousProcessCrashed).toBe(true);
    const present = new Set((await store.list()).map((m) => m.id));
    const missing = ids.filter((id) => !present.has(id));
    expect(missing).toEqual([]);
    // Every message is whole (a torn tail was cut off, not half-read).
    for (const m of await store.list())
      expect((m.payload as { body: string }).body).toHaveLength(1000);
    console.log(
      `[kill -9 during enqueue] acknowledged ${ids.length}, recovered ${present.size}, cut ${store.recovery.truncatedBytes} torn bytes`,
    );
    await store.close();
  });

  it('every message reaches the effect log once per key after crashes during leases', async () => {
    const dir = tempDir();
    const effects = join(dir, 'effects.log');
    const N = 300;
    const seeded = new Outbox({ store: await FileOutboxStore.open(join(dir, 'outbox')) });
    const ids: string[] = [];
    for (let i = 0; i < N; i++)
      ids.push((await seeded.enqueue({ connection: 'c', operation: 'o.x', payload: { i } })).id);
    await seeded.close();

    let released = 0;
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      const before = effectLines(effects).length;
      const child = run(['deliver', join(dir, 'outbox'), effects, '4']);
      // Kill once a few more effects happened: inside the effect → complete window.
      await until(() => effectLines(effects).length >= before + 40 || child.lines.includes('done'));
      child.proc.kill('SIGKILL');
      const exit = await child.exited;
      if (exit.signal === 'SIGKILL') kills++;
      const rec = child.lines.find((l) => l.startsWith('recovery '));
      if (rec) released += (JSON.parse(rec.slice(9)) as { releasedLeases: number }).releasedLeases;
    }
    const last = run(['deliver', join(dir, 'outbox'), effects, '0']);
    const exit = await last.exited;
    expect(exit.code).toBe(0);
    expect(last.lines).toContain('done');
    const rec = last.lines.find((l) => l.startsWith('recovery '));
    if (rec) released += (JSON.parse(rec.slice(9)) as { releasedLeases: number }).releasedLeases;

    const raw = effectLines(effects);
    const unique = new Set(raw);
    expect(kills).toBe(3);
    expect([...unique].sort()).toEqual([...ids].sort());
    // Leases of the killed processes were released on reopen (the lock told us they died).
    expect(released).toBeGreaterThan(0);
    const store = await FileOutboxStore.open(join(dir, 'outbox'));
    expect(await store.stats()).toMatchObject({ depth: 0, dead: 0 });
    await store.close();
    console.log(
      `[kill -9 during delivery] ${N} messages, ${kills} kills, ${raw.length} effects, ${raw.length - unique.size} raw duplicates (deduplicated by idempotency key), ${released} leases released on reopen`,
    );
  });
});
