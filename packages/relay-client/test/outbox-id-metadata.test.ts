/**
 * Caller-chosen ids and metadata (issue 18), on every store: the id is validated and unique in
 * the outbox (the same message again is a no-op, a different one a typed error), the check
 * and the write are one step (N concurrent enqueues of one id → exactly one message), and the
 * metadata travels with the message into events, dead letters and the file log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RelayError } from '../src/errors.ts';
import { FileOutboxStore } from '../src/node.ts';
import {
  MAX_OUTBOX_ID_LENGTH,
  MAX_OUTBOX_METADATA_BYTES,
  MemoryOutboxStore,
  Outbox,
  type OutboxEvent,
  type OutboxStore,
} from '../src/outbox.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-outbox-id-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_800_000_000_000;
const N = 50;
const ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

interface Factory {
  readonly name: string;
  open(dir?: string): Promise<OutboxStore>;
}

const factories: Factory[] = [
  { name: 'MemoryOutboxStore', open: async () => new MemoryOutboxStore({ now: () => T0 }) },
  {
    name: 'FileOutboxStore',
    open: (dir) => FileOutboxStore.open(dir ?? tempDir(), { now: () => T0, sync: false }),
  },
];

function setup(store: OutboxStore) {
  const events: OutboxEvent[] = [];
  const outbox = new Outbox({ store, now: () => T0, onEvent: (e) => events.push(e) });
  return { outbox, events };
}

const input = (overrides: Record<string, unknown> = {}) => ({
  id: ID,
  connection: 'shop-1',
  operation: 'order.status',
  payload: { order: 'A-1', status: 'shipped' },
  metadata: { file: 'a-1.json', operation: 'order.status' },
  ...overrides,
});

function code(error: unknown): string | undefined {
  return RelayError.isInstance(error) ? error.code : undefined;
}

describe.each(factories)('$name: caller id and metadata', (factory) => {
  it('keeps the caller id and the metadata; existing calls without them still mint a UUIDv7', async () => {
    const store = await factory.open();
    const { outbox } = setup(store);
    const m = await outbox.enqueue(input());
    expect(m).toMatchObject({ id: ID, metadata: { file: 'a-1.json', operation: 'order.status' } });
    const plain = await outbox.enqueue({
      connection: 'shop-1',
      operation: 'order.status',
      payload: 1,
    });
    expect(plain.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(plain).not.toHaveProperty('metadata');
    expect((await outbox.pending()).map((x) => [x.id, x.metadata])).toEqual([
      [ID, { file: 'a-1.json', operation: 'order.status' }],
      [plain.id, undefined],
    ]);
    await outbox.close();
  });

  it('the same id enqueued N times at once with the same message: exactly one message, one enqueued event', async () => {
    const store = await factory.open();
    const { outbox, events } = setup(store);
    // Key order differs between callers: the same message all the same.
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        outbox.enqueue(
          input({
            payload:
              i % 2 ? { status: 'shipped', order: 'A-1' } : { order: 'A-1', status: 'shipped' },
          }),
        ),
      ),
    );
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([ID]));
    expect(await outbox.pending()).toHaveLength(1);
    expect(events.filter((e) => e.type === 'enqueued')).toHaveLength(1);
    expect((await outbox.stats()).depth).toBe(1);
    await outbox.close();
  });

  it('the same id enqueued N times at once with different messages: exactly one stored, the others ERR_RELAY_OUTBOX_DUPLICATE_ID', async () => {
    const store = await factory.open();
    const { outbox } = setup(store);
    const settled = await Promise.allSettled(
      Array.from({ length: N }, (_, i) => outbox.enqueue(input({ payload: { n: i } }))),
    );
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(N - 1);
    for (const r of refused) expect(code(r.reason)).toBe('ERR_RELAY_OUTBOX_DUPLICATE_ID');
    const pending = await outbox.pending();
    expect(pending).toHaveLength(1);
    expect(pending[0]?.payload).toEqual(
      (ok[0] as PromiseFulfilledResult<{ payload: unknown }>).value.payload,
    );
    await outbox.close();
  });

  it('different metadata, operation or ordering key under one id is a different message', async () => {
    const store = await factory.open();
    const { outbox } = setup(store);
    await outbox.enqueue(input());
    for (const other of [
      { metadata: { file: 'b.json', operation: 'order.status' } },
      { metadata: undefined },
      { operation: 'order.cancel' },
      { orderingKey: 'A-1' },
      { connection: 'shop-2' },
    ])
      await expect(outbox.enqueue(input(other))).rejects.toMatchObject({
        code: 'ERR_RELAY_OUTBOX_DUPLICATE_ID',
      });
    expect(await outbox.pending()).toHaveLength(1);
    await outbox.close();
  });

  it('delivered and dead events hand the metadata back; a dead letter keeps the relay problem code and detail', async () => {
    const store = await factory.open();
    const { outbox, events } = setup(store);
    await outbox.enqueue(input());
    await outbox.enqueue(input({ id: 'b-2', metadata: { file: 'b-2.json' } }));
    await outbox.drain(async (message) => {
      if (message.id === 'b-2')
        throw new RelayError('ERR_RELAY_NOT_FOUND', 'not found: unknown operation order.teleport', {
          status: 404,
          problem: {
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            code: 'ERR_OPERATION_UNKNOWN',
            detail: 'unknown operation order.teleport',
          },
        });
    });
    const delivered = events.find((e) => e.type === 'delivered');
    expect(delivered?.type === 'delivered' && delivered.message.metadata).toEqual({
      file: 'a-1.json',
      operation: 'order.status',
    });
    const dead = events.find((e) => e.type === 'dead');
    expect(dead).toMatchObject({
      type: 'dead',
      message: { id: 'b-2', metadata: { file: 'b-2.json' } },
      error: {
        code: 'ERR_RELAY_NOT_FOUND',
        status: 404,
        problemCode: 'ERR_OPERATION_UNKNOWN',
        detail: 'unknown operation order.teleport',
      },
    });
    const [letter] = await outbox.deadLetters();
    expect(letter).toMatchObject({
      id: 'b-2',
      metadata: { file: 'b-2.json' },
      lastError: {
        problemCode: 'ERR_OPERATION_UNKNOWN',
        detail: 'unknown operation order.teleport',
      },
    });
    await outbox.close();
  });

  it('a dead letter holds its id: the same message again resolves with it, a different one is refused', async () => {
    const store = await factory.open();
    const { outbox, events } = setup(store);
    await outbox.enqueue(input());
    await outbox.drain(async () => {
      throw new RelayError('ERR_RELAY_NOT_FOUND', 'no', { retryable: false });
    });
    const again = await outbox.enqueue(input());
    expect(again).toMatchObject({ id: ID, deadAt: T0 });
    await expect(outbox.enqueue(input({ payload: 2 }))).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_DUPLICATE_ID',
    });
    expect(await outbox.pending()).toHaveLength(0);
    expect(await outbox.deadLetters()).toHaveLength(1);
    expect(events.filter((e) => e.type === 'enqueued')).toHaveLength(1);
    await outbox.close();
  });

  it('once delivered, the id is free again', async () => {
    const store = await factory.open();
    const { outbox } = setup(store);
    await outbox.enqueue(input());
    await outbox.drain(async () => {});
    await outbox.enqueue(input({ payload: { other: true } }));
    expect((await outbox.pending()).map((m) => m.payload)).toEqual([{ other: true }]);
    await outbox.close();
  });

  it.each([
    ['an empty id', { id: '' }],
    ['an id that is not a string', { id: 42 }],
    ['an id too long', { id: 'a'.repeat(MAX_OUTBOX_ID_LENGTH + 1) }],
    ['an id with a slash', { id: '../etc/passwd' }],
    ['an id with a space', { id: 'a b' }],
    ['an id starting with a dot', { id: '.hidden' }],
    ['metadata that is an array', { metadata: ['x'] }],
    ['metadata that is not flat', { metadata: { nested: { a: 1 } } }],
    ['metadata with a non-finite number', { metadata: { n: Number.NaN } }],
    ['metadata with an empty key', { metadata: { '': 'x' } }],
    ['metadata too large', { metadata: { big: 'x'.repeat(MAX_OUTBOX_METADATA_BYTES) } }],
    [
      'metadata with too many keys',
      { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
    ],
    ['metadata that is a class instance', { metadata: new Date(0) }],
  ])('refuses %s with ERR_RELAY_INVALID_ARGUMENT and stores nothing', async (_name, bad) => {
    const store = await factory.open();
    const { outbox } = setup(store);
    await expect(outbox.enqueue(input(bad) as never)).rejects.toMatchObject({
      code: 'ERR_RELAY_INVALID_ARGUMENT',
    });
    expect(await outbox.pending()).toHaveLength(0);
    await outbox.close();
  });

  it('accepts an id of the longest length and the allowed characters', async () => {
    const store = await factory.open();
    const { outbox } = setup(store);
    const id = `A1._:-${'z'.repeat(MAX_OUTBOX_ID_LENGTH - 6)}`;
    expect((await outbox.enqueue(input({ id }))).id).toBe(id);
    await outbox.close();
  });
});

describe('FileOutboxStore: caller id and metadata on disk', () => {
  it('the id, the metadata and the problem details survive a reopen and a compaction; the same id after reopen is not added twice', async () => {
    const dir = tempDir();
    let store = await FileOutboxStore.open(dir, { now: () => T0, sync: false });
    let outbox = new Outbox({ store, now: () => T0 });
    await outbox.enqueue(input());
    await outbox.enqueue(input({ id: 'dead-1', metadata: { file: 'd.json' } }));
    await outbox.drain(async (m) => {
      if (m.id === 'dead-1')
        throw new RelayError('ERR_RELAY_NOT_FOUND', 'refused', {
          status: 404,
          problem: { type: 'about:blank', title: 'x', status: 404, code: 'ERR_X', detail: 'why' },
        });
      throw new RelayError('ERR_RELAY_CONNECTION', 'down');
    });
    await outbox.close();
    // Reopen with compaction on every batch: the snapshot keeps the metadata.
    store = await FileOutboxStore.open(dir, {
      now: () => T0,
      sync: false,
      compactMinRecords: 1,
      compactRatio: 0,
    });
    outbox = new Outbox({ store, now: () => T0 });
    expect(await outbox.enqueue(input())).toMatchObject({ id: ID, attempts: 1 });
    await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: 1 });
    expect((await outbox.pending()).map((m) => m.id)).toHaveLength(2);
    await outbox.close();
    store = await FileOutboxStore.open(dir, { now: () => T0, sync: false });
    outbox = new Outbox({ store, now: () => T0 });
    const [first] = await outbox.pending();
    expect(first).toMatchObject({
      id: ID,
      payload: { order: 'A-1', status: 'shipped' },
      metadata: { file: 'a-1.json', operation: 'order.status' },
    });
    expect(await outbox.deadLetters()).toMatchObject([
      {
        id: 'dead-1',
        metadata: { file: 'd.json' },
        lastError: {
          code: 'ERR_RELAY_NOT_FOUND',
          status: 404,
          problemCode: 'ERR_X',
          detail: 'why',
        },
      },
    ]);
    await outbox.close();
  });

  it('a failed write frees the id for the next caller', async () => {
    const store = await FileOutboxStore.open(tempDir(), { now: () => T0, sync: false });
    const outbox = new Outbox({ store, now: () => T0 });
    const original = store.append.bind(store);
    let failures = 1;
    store.append = async (messages) => {
      if (failures-- > 0) throw new Error('disk full');
      return original(messages);
    };
    const [a, b] = await Promise.allSettled([outbox.enqueue(input()), outbox.enqueue(input())]);
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 'ERR_RELAY_OUTBOX_STORAGE' } });
    expect(b).toMatchObject({ status: 'fulfilled', value: { id: ID } });
    expect(await outbox.pending()).toHaveLength(1);
    await outbox.close();
  });
});

describe('a custom store without appendIfAbsent', () => {
  it('refuses caller ids with ERR_RELAY_INVALID_ARGUMENT and still takes messages without one', async () => {
    const memory = new MemoryOutboxStore({ now: () => T0 });
    const store: OutboxStore = {
      append: (m) => memory.append(m),
      lease: (o) => memory.lease(o),
      complete: (id) => memory.complete(id),
      reschedule: (...a) => memory.reschedule(...a),
      release: (...a) => memory.release(...a),
      deadLetter: (...a) => memory.deadLetter(...a),
      revive: (...a) => memory.revive(...a),
      drop: (id) => memory.drop(id),
      list: () => memory.list(),
      deadLetters: () => memory.deadLetters(),
      nextWakeAt: () => memory.nextWakeAt(),
      stats: () => memory.stats(),
      close: () => memory.close(),
    };
    const outbox = new Outbox({ store, now: () => T0 });
    await expect(outbox.enqueue(input())).rejects.toMatchObject({
      code: 'ERR_RELAY_INVALID_ARGUMENT',
      message: expect.stringMatching(/appendIfAbsent/),
    });
    await outbox.enqueue(input({ id: undefined }));
    expect(await outbox.pending()).toHaveLength(1);
    await outbox.close();
  });
});
