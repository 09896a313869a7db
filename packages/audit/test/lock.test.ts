import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { missingDependency, waitUntilReady } from '@fluxel/internal/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { lockIdentity } from '../src/dir-lock.ts';
import { AuditError } from '../src/index.ts';
import { FileStore } from '../src/node.ts';
import { tempDir } from './helpers.ts';

const fixture = join(import.meta.dirname, 'fixtures/lock-child.ts');
const me = lockIdentity();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function readLock(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')) as Record<string, unknown>;
}

async function rejection(promise: Promise<unknown>): Promise<AuditError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuditError);
  return error as AuditError;
}

/** A lock-child.ts process (in a new pid namespace with `ns`), and its first JSON line. */
function holder(
  dir: string,
  args: { heartbeatMs: number; staleMs: number; waitMs: number; barrier?: boolean; ns: boolean },
) {
  const node = [
    process.execPath,
    '--import',
    'tsx',
    fixture,
    dir,
    String(args.heartbeatMs),
    String(args.staleMs),
    String(args.waitMs),
    ...(args.barrier ? ['barrier'] : []),
  ];
  const argv = args.ns
    ? ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...node]
    : node;
  const child = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: join(import.meta.dirname, '..'),
  });
  children.push(child);
  const lines: string[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    buffer += text;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const line = (what: string, pick: (l: string) => boolean) =>
    waitUntilReady(`${what} from lock-child.ts`, () => {
      if (child.exitCode !== null && !lines.some(pick)) throw new Error('lock-child.ts exited');
      return lines.find(pick);
    });
  return {
    child,
    exited,
    armed: () => line('"armed"', (l) => l === 'armed'),
    result: async () =>
      JSON.parse(await line('its result', (l) => l.startsWith('{'))) as {
        won: boolean;
        lock?: Record<string, unknown>;
        code?: string;
        message?: string;
      },
  };
}

describe('the directory lock of FileStore', () => {
  it("a restarted container whose writer has the dead writer's pid cannot open its log", async () => {
    // The LOCK an earlier version left: the plain pid. In a container the next run has the
    // same pid (1, or 7 behind an init), so "our own pid" in LOCK is a previous incarnation.
    const plain = tempDir();
    writeFileSync(join(plain, 'LOCK'), String(process.pid));
    const first = new FileStore(plain, { lockWaitMs: 0 });
    await first.open();
    expect(readLock(plain)).toMatchObject({ pid: process.pid, token: expect.any(String) });
    await first.close();

    // The same with the new record: same pid, pid namespace and boot, another start time.
    const recorded = tempDir();
    writeFileSync(
      join(recorded, 'LOCK'),
      JSON.stringify({ ...me, start: String(Number(me.start ?? 0) + 1), token: 'dead-writer' }),
    );
    const second = new FileStore(recorded, { lockWaitMs: 0 });
    await second.open();
    expect(readLock(recorded)).toMatchObject({ pid: process.pid, start: me.start });
    await second.close();
  });

  it('records pid, pid namespace, boot id, start time and host', async () => {
    const dir = tempDir();
    const store = new FileStore(dir);
    await store.open();
    const lock = readLock(dir);
    await store.close();
    expect(lock).toMatchObject({
      pid: process.pid,
      pidNs: readlinkSync('/proc/self/ns/pid'),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      host: hostname(),
    });
    // Field 22 of /proc/self/stat (after the command in parentheses).
    const stat = readFileSync('/proc/self/stat', 'utf8');
    expect(lock.start).toBe(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    expect(() => statSync(join(dir, 'LOCK'))).toThrow(/ENOENT/);
  });

  it('a second FileStore of the directory in this process is refused at once, and opens after close', async () => {
    const dir = tempDir();
    const first = new FileStore(dir);
    await first.open();
    const started = performance.now();
    const error = await rejection(new FileStore(dir, { lockWaitMs: 60_000 }).open());
    expect(performance.now() - started).toBeLessThan(60_000); // no wait for a heartbeat
    expect(error.code).toBe('ERR_AUDIT_STORAGE');
    expect(error.message).toContain(`open in process ${process.pid} on ${hostname()}`);
    expect(error.message).toContain('this process');
    await first.close();
    const second = new FileStore(dir);
    await second.open();
    await second.close();
  });

  it('the lock of a killed writer in this pid namespace is taken over at once', async () => {
    const dir = tempDir();
    const h = holder(dir, { heartbeatMs: 2000, staleMs: 10_000, waitMs: 0, ns: false });
    expect((await h.result()).won).toBe(true);
    // While it runs it is refused without waiting for any heartbeat.
    expect((await rejection(new FileStore(dir, { lockWaitMs: 0 }).open())).message).toContain(
      'running in this pid namespace',
    );
    h.child.kill('SIGKILL');
    await h.exited;
    const started = performance.now();
    const store = new FileStore(dir, { lockWaitMs: 0 });
    await store.open();
    const ms = performance.now() - started;
    await store.close();
    console.log(`takeover after kill -9 in the same pid namespace: ${ms.toFixed(1)} ms`);
  });

  it('competing opens on a stale lock: exactly one wins', async () => {
    for (let round = 0; round < 20; round++) {
      const dir = tempDir();
      // A writer of another container on this boot whose heartbeat stopped an hour ago.
      writeFileSync(
        join(dir, 'LOCK'),
        JSON.stringify({ ...me, pid: 1, pidNs: 'pid:[1]', host: 'gone', token: `t${round}` }),
      );
      const hourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(join(dir, 'LOCK'), hourAgo, hourAgo);
      const stores = Array.from({ length: 12 }, () => new FileStore(dir, { lockWaitMs: 0 }));
      const results = await Promise.allSettled(stores.map((s) => s.open()));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected')
          expect((r.reason as AuditError).code).toBe('ERR_AUDIT_STORAGE');
      await stores[results.findIndex((r) => r.status === 'fulfilled')]?.close();
    }
  });

  it('a writer whose lock was taken over stops writing and leaves the new lock in place', async () => {
    const dir = tempDir();
    const store = new FileStore(dir, { lockHeartbeatMs: 20 });
    await store.open();
    const other = JSON.stringify({ ...me, pid: 1, pidNs: 'pid:[1]', host: 'other', token: 'new' });
    writeFileSync(join(dir, 'LOCK.new'), other);
    renameSync(join(dir, 'LOCK.new'), join(dir, 'LOCK'));
    const error = await waitUntilReady('the heartbeat to notice', async () =>
      store.append([]).then(
        () => undefined,
        (e: unknown) => e as AuditError,
      ),
    );
    expect(error.code).toBe('ERR_AUDIT_STORAGE');
    expect(error.message).toContain('taken over');
    await store.close();
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(other);
  });

  it('validates the lock options when the store is built', () => {
    const bad: [object, RegExp][] = [
      [{ lockHeartbeatMs: 0 }, /lockHeartbeatMs must be an integer of at least 10/],
      [{ lockHeartbeatMs: 1.5 }, /lockHeartbeatMs/],
      [
        { lockHeartbeatMs: 1000, lockStaleMs: 2000 },
        /lockStaleMs must be an integer of at least 3000/,
      ],
      [{ lockStaleMs: 5000 }, /at least 6000 \(ms\): 3 heartbeats/],
      [{ lockWaitMs: -1 }, /lockWaitMs must be an integer of at least 0/],
      [{ lockWaitMs: Number.NaN }, /lockWaitMs.*got NaN/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        new FileStore(tempDir(), options);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(AuditError);
      expect((error as AuditError).code).toBe('ERR_AUDIT_INVALID_ARGUMENT');
      expect((error as AuditError).message).toMatch(message);
    }
    expect(
      () => new FileStore(tempDir(), { lockHeartbeatMs: 10, lockStaleMs: 30, lockWaitMs: 0 }),
    ).not.toThrow();
  });
});

const unshareSkip = (() => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'true']);
  if (probe.error === undefined && probe.status === 0) return false;
  return missingDependency(
    'unshare --pid --fork --mount-proc (a new pid namespace)',
    `run as root with util-linux installed; ${probe.error?.message ?? probe.stderr?.toString().trim()}`,
  );
})();

describe.skipIf(unshareSkip)('across pid namespaces (unshare)', () => {
  const heartbeatMs = 100;
  const staleMs = 600;

  it('a writer in another pid namespace holds the log by its heartbeat; after kill -9 its lock is taken over once stale', async () => {
    const dir = tempDir();
    const h = holder(dir, { heartbeatMs, staleMs, waitMs: 0, ns: true });
    const result = await h.result();
    expect(result.won).toBe(true);
    // Its pid is 1 in its namespace; kill(1, 0) would find our init alive, and a pid of its
    // namespace that is free here would look dead. Neither may decide.
    expect(result.lock).toMatchObject({ pid: 1, bootId: me.bootId });
    expect(result.lock?.pidNs).not.toBe(me.pidNs);

    // Refused while its heartbeat is fresh, even after waiting 3 stale bounds.
    const mtimeBefore = statSync(join(dir, 'LOCK')).mtimeMs;
    const started = performance.now();
    const error = await rejection(new FileStore(dir, { lockWaitMs: 3 * staleMs }).open());
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * staleMs);
    expect(error.code).toBe('ERR_AUDIT_STORAGE');
    expect(error.message).toMatch(
      new RegExp(`open in process 1 on ${hostname()}: its heartbeat was last seen \\d+ ms ago`),
    );
    expect(statSync(join(dir, 'LOCK')).mtimeMs).toBeGreaterThan(mtimeBefore);

    h.child.kill('SIGKILL'); // unshare --kill-child: its node gets SIGKILL too
    await h.exited;
    const killed = performance.now();
    const lastBeat = statSync(join(dir, 'LOCK')).mtimeMs;
    const store = new FileStore(dir, { lockWaitMs: 10 * staleMs });
    await store.open();
    const takeoverMs = performance.now() - killed;
    expect(readLock(dir)).toMatchObject({ pid: process.pid, pidNs: me.pidNs });
    await store.close();
    // Not before its heartbeat was staleMs old.
    expect(Date.now() - lastBeat).toBeGreaterThan(staleMs);
    console.log(
      `takeover after kill -9 in another pid namespace: ${takeoverMs.toFixed(0)} ms (heartbeat ${heartbeatMs} ms, stale after ${staleMs} ms)`,
    );
  });

  it('competing opens from several pid namespaces on a stale lock: exactly one wins', async () => {
    const dir = tempDir();
    const first = holder(dir, { heartbeatMs, staleMs, waitMs: 0, ns: true });
    expect((await first.result()).won).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    const dead = readFileSync(join(dir, 'LOCK'), 'utf8');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'LOCK'), past, past); // its heartbeat stopped a minute ago

    const contenders = Array.from({ length: 6 }, () =>
      holder(dir, { heartbeatMs, staleMs, waitMs: 0, barrier: true, ns: true }),
    );
    await Promise.all(contenders.map((c) => c.armed()));
    for (const c of contenders) c.child.stdin?.write('go\n');
    const results = await Promise.all(contenders.map((c) => c.result()));
    const winners = results.filter((r) => r.won);
    expect(winners).toHaveLength(1);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).not.toBe(dead);
    expect(readLock(dir).token).toBe(winners[0]?.lock?.token);
    for (const r of results)
      if (!r.won) {
        expect(r.code).toBe('ERR_AUDIT_STORAGE');
        expect(r.message).toContain('open in process 1');
      }
    for (const c of contenders) c.child.kill('SIGKILL');
    await Promise.all(contenders.map((c) => c.exited));
  });
});
