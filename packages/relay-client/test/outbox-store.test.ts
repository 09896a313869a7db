/**
 * One behaviour suite for every outbox store (memory, file), plus what only the file store
 * promises: state survives reopen, a torn tail is cut off, a corrupt middle is refused, the
 * lock keeps a second opener out and is taken over from a dead process, compaction.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../internal/src/uuid.ts';
import { RelayError } from '../src/errors.ts';
import { Journal } from '../src/node/journal.ts';
import { FileOutboxStore } from '../src/node.ts';
import type { OutboxMessage, OutboxStore } from '../src/outbox.ts';
import { MemoryOutboxStore } from '../src/outbox.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-outbox-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_800_000_000_000;
let seq = 0;
function msg(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  const enqueuedAt = overrides.enqueuedAt ?? T0 - 1_000_000 + seq++;
  return {
    id: uuidv7(enqueuedAt),
    connection: 'shop-1',
    operation: 'order.status',
    payload: { n: seq, body: 'x'.repeat(16) },
    enqueuedAt,
    attempts: 0,
    nextAttemptAt: enqueuedAt,
    ...overrides,
  };
}
const ERR = { code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE', message: 'down' };

interface Factory {
  readonly name: string;
  open(): Promise<OutboxStore>;
}

const factories: Factory[] = [
  { name: 'MemoryOutboxStore', open: async () => new MemoryOutboxStore({ now: () => T0 }) },
  {
    name: 'FileOutboxStore',
    open: () => FileOutboxStore.open(tempDir(), { now: () => T0 }),
  },
];

describe.each(factories)('$name (shared behaviour)', (factory) => {
  it('appends, leases due messages oldest first counting attempts, completes', async () => {
    const store = await factory.open();
    const a = msg();
    const b = msg();
    const later = msg({ nextAttemptAt: T0 + 60_000 });
    await store.append([a, b, later]);
    expect((await store.list()).map((m) => m.id)).toEqual([a.id, b.id, later.id]);
    const leased = await store.lease({ now: T0 + 1000, leaseMs: 5000, limit: 10 });
    expect(leased.map((m) => m.id)).toEqual([a.id, b.id]);
    expect(leased.map((m) => m.attempts)).toEqual([1, 1]);
    expect(await store.lease({ now: T0 + 1000, leaseMs: 5000, limit: 10 })).toEqual([]);
    expect((await store.stats()).inFlight).toBe(2);
    await store.complete(a.id);
    const stats = await store.stats();
    expect(stats).toMatchObject({ depth: 2, dead: 0, oldestEnqueuedAt: b.enqueuedAt });
    expect((await store.list()).map((m) => m.id)).toEqual([b.id, later.id]);
    await store.close();
  });

  it('respects the limit', async () => {
    const store = await factory.open();
    await store.append([msg(), msg(), msg()]);
    expect(await store.lease({ now: T0 + 10, leaseMs: 1000, limit: 2 })).toHaveLength(2);
    expect(await store.lease({ now: T0 + 10, leaseMs: 1000, limit: 2 })).toHaveLength(1);
    await store.close();
  });

  it('makes a message visible again when its lease expires', async () => {
    const store = await factory.open();
    const a = msg();
    await store.append([a]);
    await store.lease({ now: T0, leaseMs: 5000, limit: 1 });
    expect(await store.lease({ now: T0 + 4999, leaseMs: 5000, limit: 1 })).toEqual([]);
    expect(await store.nextWakeAt()).toBe(T0 + 5000);
    const again = await store.lease({ now: T0 + 5000, leaseMs: 5000, limit: 1 });
    expect(again.map((m) => [m.id, m.attempts])).toEqual([[a.id, 2]]);
    // The stale attempt's outcome is ignored; the current one counts.
    await store.reschedule(a.id, 1, T0 + 999_999, ERR);
    expect((await store.list())[0]?.nextAttemptAt).toBe(a.nextAttemptAt);
    await store.reschedule(a.id, 2, T0 + 20_000, ERR);
    expect((await store.list())[0]).toMatchObject({ nextAttemptAt: T0 + 20_000, lastError: ERR });
    await store.close();
  });

  it('reschedules: not due before nextAttemptAt, error kept', async () => {
    const store = await factory.open();
    const a = msg();
    await store.append([a]);
    await store.lease({ now: T0, leaseMs: 5000, limit: 1 });
    await store.reschedule(a.id, 1, T0 + 30_000, ERR);
    expect(await store.lease({ now: T0 + 29_999, leaseMs: 5000, limit: 1 })).toEqual([]);
    expect(await store.nextWakeAt()).toBe(T0 + 30_000);
    const [m] = await store.lease({ now: T0 + 30_000, leaseMs: 5000, limit: 1 });
    expect(m).toMatchObject({ id: a.id, attempts: 2, lastError: ERR });
    await store.close();
  });

  it('release ends a lease without a new schedule', async () => {
    const store = await factory.open();
    const a = msg();
    await store.append([a]);
    await store.lease({ now: T0, leaseMs: 60_000, limit: 1 });
    await store.release(a.id, 1);
    expect(await store.lease({ now: T0 + 1, leaseMs: 60_000, limit: 1 })).toHaveLength(1);
    await store.close();
  });

  it('dead letters: listed apart, revived with attempts reset, dropped', async () => {
    const store = await factory.open();
    const a = msg();
    const b = msg();
    await store.append([a, b]);
    await store.lease({ now: T0, leaseMs: 5000, limit: 2 });
    await store.deadLetter(a.id, 1, T0 + 5, ERR);
    await store.deadLetter(b.id, 1, T0 + 6, ERR);
    expect(await store.stats()).toMatchObject({ depth: 0, dead: 2, inFlight: 0 });
    expect(await store.lease({ now: T0 + 10_000, leaseMs: 5000, limit: 5 })).toEqual([]);
    const dead = await store.deadLetters();
    expect(dead.map((d) => [d.id, d.deadAt, d.lastError?.code])).toEqual([
      [a.id, T0 + 5, ERR.code],
      [b.id, T0 + 6, ERR.code],
    ]);
    expect(await store.revive(a.id, T0 + 100)).toBe(true);
    expect(await store.revive(a.id, T0 + 100)).toBe(false);
    expect(await store.drop(b.id)).toBe(true);
    expect(await store.drop(b.id)).toBe(false);
    expect(await store.drop(a.id)).toBe(false); // only dead letters can be dropped
    const [m] = await store.lease({ now: T0 + 100, leaseMs: 5000, limit: 5 });
    expect(m).toMatchObject({ id: a.id, attempts: 1, revivedAt: T0 + 100 });
    expect(await store.stats()).toMatchObject({ depth: 1, dead: 0 });
    await store.close();
  });

  it('ordering keys: one at a time per key, in enqueue order; others pass', async () => {
    const store = await factory.open();
    const k1a = msg({ orderingKey: 'order-1' });
    const k2a = msg({ orderingKey: 'order-2' });
    const k1b = msg({ orderingKey: 'order-1' });
    const free = msg();
    await store.append([k1a, k2a, k1b, free]);
    let leased = await store.lease({ now: T0 + 10, leaseMs: 5000, limit: 10 });
    expect(leased.map((m) => m.id)).toEqual([k1a.id, k2a.id, free.id]);
    // The head of order-1 fails and waits: the next of order-1 must wait behind it.
    await store.reschedule(k1a.id, 1, T0 + 60_000, ERR);
    await store.complete(k2a.id);
    await store.complete(free.id);
    expect(await store.lease({ now: T0 + 20, leaseMs: 5000, limit: 10 })).toEqual([]);
    leased = await store.lease({ now: T0 + 60_000, leaseMs: 5000, limit: 10 });
    expect(leased.map((m) => m.id)).toEqual([k1a.id]);
    await store.complete(k1a.id);
    leased = await store.lease({ now: T0 + 60_000, leaseMs: 5000, limit: 10 });
    expect(leased.map((m) => m.id)).toEqual([k1b.id]);
    await store.close();
  });

  it('ordering keys: a dead head no longer blocks its key', async () => {
    const store = await factory.open();
    const a = msg({ orderingKey: 'k' });
    const b = msg({ orderingKey: 'k' });
    await store.append([a, b]);
    await store.lease({ now: T0 + 10, leaseMs: 5000, limit: 10 });
    await store.deadLetter(a.id, 1, T0 + 11, ERR);
    const leased = await store.lease({ now: T0 + 12, leaseMs: 5000, limit: 10 });
    expect(leased.map((m) => m.id)).toEqual([b.id]);
    await store.close();
  });

  it('refuses a duplicate id and every call after close', async () => {
    const store = await factory.open();
    const a = msg();
    await store.append([a]);
    await expect(store.append([a])).rejects.toMatchObject({ code: 'ERR_RELAY_INVALID_ARGUMENT' });
    await store.close();
    const error = await store.list().catch((e: unknown) => e);
    expect(RelayError.isInstance(error) && error.code).toBe('ERR_RELAY_OUTBOX_CLOSED');
  });
});

describe('FileOutboxStore (durability)', () => {
  it('group commit: concurrent appends share one write + fdatasync per batch', async () => {
    const dir = tempDir();
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const original = proto.datasync;
    let syncs = 0;
    proto.datasync = function (this: unknown) {
      syncs++;
      return original.call(this);
    };
    try {
      const store = await FileOutboxStore.open(dir);
      const messages = Array.from({ length: 200 }, () => msg());
      await Promise.all(messages.map((m) => store.append([m])));
      // All 200 were appended in one turn of the event loop: one batch, one sync.
      expect(syncs).toBe(1);
      await store.close();
      const reopened = await FileOutboxStore.open(dir);
      expect((await reopened.list()).map((m) => m.id)).toEqual(messages.map((m) => m.id));
      await reopened.close();
    } finally {
      proto.datasync = original;
    }
  });

  it('keeps ids (UUIDv7), attempts, errors, dead letters and ordering across reopen', async () => {
    const dir = tempDir();
    let store = await FileOutboxStore.open(dir);
    const a = msg({ orderingKey: 'o' });
    const b = msg({ orderingKey: 'o' });
    const c = msg();
    const payload = { nested: { ü: 'ß', list: [1, 2, 3] } };
    const d = msg({ payload });
    await store.append([a, b, c, d]);
    await store.lease({ now: T0 + 10, leaseMs: 5000, limit: 10 });
    await store.reschedule(a.id, 1, T0 + 1000, ERR);
    await store.deadLetter(c.id, 1, T0 + 20, ERR);
    await store.complete(d.id);
    await store.close();

    store = await FileOutboxStore.open(dir);
    expect(store.recovery).toMatchObject({ releasedLeases: 0, previousProcessCrashed: false });
    const list = await store.list();
    expect(list.map((m) => m.id)).toEqual([a.id, b.id]);
    for (const m of list) expect(m.id).toMatch(UUID_V7);
    expect(list[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 1000, lastError: ERR });
    expect((await store.deadLetters()).map((m) => m.id)).toEqual([c.id]);
    // b still waits behind a.
    expect(await store.lease({ now: T0 + 500, leaseMs: 5000, limit: 10 })).toEqual([]);
    const [again] = await store.lease({ now: T0 + 1000, leaseMs: 5000, limit: 10 });
    expect(again?.id).toBe(a.id);
    expect(again?.attempts).toBe(2);
    await store.close();
  });

  it('keeps payloads on disk and reads them back whole, across reopen and compaction', async () => {
    const dir = tempDir();
    const payloads: unknown[] = [
      { nested: { ü: 'ß€😀', list: [1, 2.5, null, true] } },
      'x'.repeat(64 * 1024),
      null,
      42,
      ['a', { b: 'c' }],
      { line: 'with\nnewline and "quotes"' },
    ];
    let store = await FileOutboxStore.open(dir, { compactMinRecords: 30, compactRatio: 2 });
    const kept = payloads.map((payload) => msg({ payload }));
    await Promise.all(kept.map((m) => store.append([m])));
    const byId = new Map(kept.map((m) => [m.id, m.payload]));
    const check = (list: readonly OutboxMessage[]) => {
      for (const m of list) expect(m.payload).toEqual(byId.get(m.id));
    };
    check(await store.list());
    // Churn until compaction rewrites the log, reading payloads back while it does.
    const reads: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const m = msg({ payload: { churn: i } });
      byId.set(m.id, m.payload);
      await store.append([m]);
      reads.push(store.list().then(check));
      const leased = await store.lease({ now: T0, leaseMs: 1000, limit: 10 });
      check(leased);
      for (const l of leased) {
        if (l.id === m.id) await store.complete(l.id);
        else await store.release(l.id, l.attempts);
      }
    }
    await Promise.all(reads);
    expect(readFileSync(join(dir, 'outbox.log'), 'utf8').split('\n').length).toBeLessThan(60);
    check(await store.list());
    expect(await store.list()).toHaveLength(payloads.length);
    await store.close();
    store = await FileOutboxStore.open(dir);
    const leased = await store.lease({ now: T0, leaseMs: 1000, limit: 100 });
    expect(leased).toHaveLength(payloads.length);
    check(leased);
    await store.close();
  });

  it('a failing compaction leaves the log as it was and appends go on', async () => {
    const dir = tempDir();
    const path = join(dir, 'test.log');
    const { log } = await Journal.open(path, { onRecord: () => {} });
    let asked = 0;
    log.beforeBatch = async () => {
      asked++;
      throw new Error('cannot read back');
    };
    await log.append('{"n":1}\n', true);
    await log.append('{"n":2}\n', true);
    expect(asked).toBe(1); // not retried on every batch
    await log.close();
    const seen: unknown[] = [];
    const again = await Journal.open(path, { onRecord: (r) => seen.push(r) });
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    await again.log.close();
  });

  it('cuts off a torn last line and keeps appending after it', async () => {
    const dir = tempDir();
    let store = await FileOutboxStore.open(dir);
    const a = msg();
    await store.append([a]);
    await store.close();
    appendFileSync(join(dir, 'outbox.log'), '{"t":"e","m":{"id":"0190');
    store = await FileOutboxStore.open(dir);
    expect(store.recovery.truncatedBytes).toBeGreaterThan(0);
    const b = msg();
    await store.append([b]);
    await store.close();
    store = await FileOutboxStore.open(dir);
    expect(store.recovery.truncatedBytes).toBe(0);
    expect((await store.list()).map((m) => m.id)).toEqual([a.id, b.id]);
    await store.close();
  });

  it('refuses to open a log with a bad record followed by good ones', async () => {
    const dir = tempDir();
    const store = await FileOutboxStore.open(dir);
    await store.append([msg()]);
    await store.close();
    const log = join(dir, 'outbox.log');
    const good = readFileSync(log, 'utf8');
    writeFileSync(log, `${good}{garbage}\n${good}`);
    await expect(FileOutboxStore.open(dir)).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_STORAGE',
    });
    // The failed open left no lock behind.
    writeFileSync(log, good);
    const reopened = await FileOutboxStore.open(dir);
    expect(await reopened.list()).toHaveLength(1);
    await reopened.close();
  });

  it('keeps a second opener out while the first is open', async () => {
    const dir = tempDir();
    const store = await FileOutboxStore.open(dir);
    await expect(FileOutboxStore.open(dir)).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_STORAGE',
    });
    await store.close();
    const again = await FileOutboxStore.open(dir);
    await again.close();
  });

  it('takes over the lock of a dead process and releases its leases at once', async () => {
    const dir = tempDir();
    const store = await FileOutboxStore.open(dir);
    const a = msg();
    const b = msg();
    await store.append([a, b]);
    await store.lease({ now: T0, leaseMs: 3_600_000, limit: 1 });
    // Simulate the crash: the log stays, the lock names a process that no longer exists.
    await store.close();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(
      join(dir, 'outbox.lock'),
      JSON.stringify({ pid: dead, host: hostname(), token: 'x', at: 0 }),
    );
    const reopened = await FileOutboxStore.open(dir);
    expect(reopened.recovery).toMatchObject({ releasedLeases: 1, previousProcessCrashed: true });
    // The hour-long lease is gone: both are due now.
    const leased = await reopened.lease({ now: T0 + 1, leaseMs: 1000, limit: 10 });
    expect(leased.map((m) => [m.id, m.attempts])).toEqual([
      [a.id, 2],
      [b.id, 1],
    ]);
    await reopened.close();
  });

  it('a lock with our own pid that we do not hold is stale (restarted container, pid 1)', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'outbox.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), token: 'earlier-run', at: 0 }),
    );
    const store = await FileOutboxStore.open(dir);
    expect(store.recovery.previousProcessCrashed).toBe(true);
    await expect(FileOutboxStore.open(dir)).rejects.toThrow(/already open in this process/);
    await store.close();
  });

  it('refuses a lock from another host unless told to take it over', async () => {
    const dir = tempDir();
    const lock = JSON.stringify({ pid: 1, host: 'other-host', token: 'w', at: 0 });
    writeFileSync(join(dir, 'outbox.lock'), lock);
    await expect(FileOutboxStore.open(dir)).rejects.toThrow(/on other-host/);
    const store = await FileOutboxStore.open(dir, { takeOverLockFromOtherHost: true });
    expect(store.recovery.previousProcessCrashed).toBe(true);
    await store.close();
  });

  it('refuses a lock held by a live process on this host', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'outbox.lock'),
      JSON.stringify({ pid: process.ppid, host: hostname(), token: 'y', at: 0 }),
    );
    await expect(FileOutboxStore.open(dir)).rejects.toThrow(/locked by running process/);
  });

  it('compacts a log of mostly finished messages and replays the snapshot', async () => {
    const dir = tempDir();
    let store = await FileOutboxStore.open(dir, { compactMinRecords: 50, compactRatio: 4 });
    const keep = msg({ orderingKey: 'k' });
    await store.append([keep]);
    await store.lease({ now: T0 + 1, leaseMs: 1000, limit: 1 });
    await store.reschedule(keep.id, 1, T0 + 5, ERR);
    const deadOne = msg();
    await store.append([deadOne]);
    await store.lease({ now: T0 + 2, leaseMs: 1000, limit: 5 });
    await store.deadLetter(deadOne.id, 1, T0 + 3, ERR);
    for (let i = 0; i < 100; i++) {
      const m = msg({ nextAttemptAt: 0 });
      await store.append([m]);
      const leased = await store.lease({ now: T0 + 4, leaseMs: 1000, limit: 5 });
      for (const l of leased) if (l.id === m.id) await store.complete(m.id);
    }
    await store.append([msg({ orderingKey: 'k' })]); // a batch after the last compaction
    await store.close();
    const lines = readFileSync(join(dir, 'outbox.log'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(60);
    store = await FileOutboxStore.open(dir);
    const list = await store.list();
    expect(list[0]).toMatchObject({
      id: keep.id,
      attempts: 1,
      nextAttemptAt: T0 + 5,
      lastError: ERR,
    });
    expect(list).toHaveLength(2);
    expect((await store.deadLetters()).map((d) => [d.id, d.deadAt])).toEqual([
      [deadOne.id, T0 + 3],
    ]);
    await store.close();
  });
});
