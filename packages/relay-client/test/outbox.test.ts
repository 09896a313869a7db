/**
 * The Outbox worker on a fake clock: the long schedule with full jitter, Retry-After, dead
 * letters (not retryable, or past the horizon) with their events, per-key ordering, leases
 * that abort a slow delivery, stop and close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RelayError, UpstreamUnavailableError } from '../src/errors.ts';
import { FileOutboxStore } from '../src/node.ts';
import {
  DEFAULT_OUTBOX_SCHEDULE,
  type Deliver,
  MemoryOutboxStore,
  Outbox,
  type OutboxEvent,
  type OutboxMessage,
  type OutboxOptions,
} from '../src/outbox.ts';
import { FakeClock } from './fixtures/outbox-clock.ts';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setup(options: Partial<OutboxOptions> = {}) {
  const clock = new FakeClock(T0);
  const events: OutboxEvent[] = [];
  const store = new MemoryOutboxStore({ now: clock.clock });
  const outbox = new Outbox({
    store,
    now: clock.clock,
    timers: clock.timers,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, events, store, outbox };
}

const input = (n = 1, orderingKey?: string) => ({
  connection: 'shop-1',
  operation: 'order.status',
  payload: { order: n },
  ...(orderingKey ? { orderingKey } : {}),
});

describe('Outbox.enqueue', () => {
  it('mints a UUIDv7 id once, stores the message and reports it', async () => {
    const { outbox, events, store } = setup();
    const m = await outbox.enqueue(input(1, 'order-1'));
    expect(m.id).toMatch(UUID_V7);
    expect(m).toMatchObject({
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: 1 },
      orderingKey: 'order-1',
      enqueuedAt: T0,
      attempts: 0,
      nextAttemptAt: T0,
    });
    expect((await store.list()).map((x) => x.id)).toEqual([m.id]);
    expect(events).toEqual([{ type: 'enqueued', message: m }]);
    expect(await outbox.stats()).toEqual({
      depth: 1,
      oldestEnqueuedAt: T0,
      dead: 0,
      inFlight: 0,
    });
  });

  it.each([
    ['no connection', { operation: 'x', payload: 1 }],
    ['empty operation', { connection: 'c', operation: '', payload: 1 }],
    ['payload not JSON', { connection: 'c', operation: 'o.x', payload: 10n }],
    ['payload undefined', { connection: 'c', operation: 'o.x', payload: undefined }],
    ['empty ordering key', { connection: 'c', operation: 'o.x', payload: 1, orderingKey: '' }],
    // Regression: the relay refuses these, yet the outbox stored them (to die as dead letters).
    [
      'a connection the relay refuses',
      { connection: 'Shop 1!', operation: 'order.status', payload: 1 },
    ],
    [
      'an operation the relay refuses',
      { connection: 'shop-1', operation: 'Order Status', payload: 1 },
    ],
    [
      'a payload nested too deep',
      { connection: 'shop-1', operation: 'order.status', payload: deep(70) },
    ],
    [
      'a payload with __proto__',
      {
        connection: 'shop-1',
        operation: 'order.status',
        payload: JSON.parse('{"__proto__":{"x":1}}'),
      },
    ],
  ])('refuses %s with ERR_RELAY_INVALID_ARGUMENT', async (_name, bad) => {
    const { outbox, store } = setup();
    const error = await outbox.enqueue(bad as never).catch((e: unknown) => e);
    expect(RelayError.isInstance(error) && error.code).toBe('ERR_RELAY_INVALID_ARGUMENT');
    expect(await store.list()).toEqual([]);
  });

  it('wraps a store failure as ERR_RELAY_OUTBOX_STORAGE', async () => {
    const { outbox, store } = setup();
    store.append = async () => {
      throw new Error('disk full');
    };
    await expect(outbox.enqueue(input())).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_STORAGE',
    });
  });
});

describe('Outbox delivery', () => {
  it('drain delivers everything due with attempt 1 and a live signal', async () => {
    const { outbox, events } = setup();
    const a = await outbox.enqueue(input(1));
    const b = await outbox.enqueue(input(2));
    const seen: [string, number, boolean][] = [];
    await outbox.drain(async (m, ctx) => {
      seen.push([m.id, ctx.attempt, ctx.signal.aborted]);
    });
    expect(seen).toEqual([
      [a.id, 1, false],
      [b.id, 1, false],
    ]);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(2);
    expect((await outbox.stats()).depth).toBe(0);
  });

  it('a retryable failure is rescheduled with full jitter on the schedule', async () => {
    const { outbox, events } = setup();
    await outbox.enqueue(input());
    await outbox.drain(async () => {
      throw new UpstreamUnavailableError('marketplace down');
    });
    const retry = events.find((e) => e.type === 'retry');
    // random() = 0.5 → half of the first entry (1 s).
    expect(retry).toMatchObject({
      attempt: 1,
      nextAttemptAt: T0 + (DEFAULT_OUTBOX_SCHEDULE[0] as number) / 2,
      error: { code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE', message: 'marketplace down' },
    });
    const [pending] = await outbox.pending();
    expect(pending).toMatchObject({
      attempts: 1,
      lastError: { code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE' },
    });
  });

  it("honours the relay's retryAfterMs instead of the schedule", async () => {
    const { outbox, events } = setup();
    await outbox.enqueue(input());
    await outbox.drain(async () => {
      throw new UpstreamUnavailableError('later', { retryAfterMs: 42_000 });
    });
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ nextAttemptAt: T0 + 42_000 });
  });

  it('any other thrown value counts as retryable', async () => {
    const { outbox, events } = setup();
    await outbox.enqueue(input());
    await outbox.drain(async () => {
      throw 'boom';
    });
    expect(events.find((e) => e.type === 'retry')).toMatchObject({
      error: { code: 'ERR_DELIVER', message: 'boom' },
    });
  });

  it('a non-retryable error dead-letters at once; retryDead and dropDead', async () => {
    const { outbox, events } = setup();
    const a = await outbox.enqueue(input(1));
    const b = await outbox.enqueue(input(2));
    await outbox.drain(async () => {
      throw new RelayError('ERR_RELAY_REQUEST_VALIDATION', 'bad body');
    });
    const dead = events.filter((e) => e.type === 'dead');
    expect(dead.map((e) => e.type === 'dead' && [e.message.id, e.reason])).toEqual([
      [a.id, 'not-retryable'],
      [b.id, 'not-retryable'],
    ]);
    expect(await outbox.stats()).toMatchObject({ depth: 0, dead: 2 });
    expect((await outbox.deadLetters()).map((d) => d.lastError?.code)).toEqual([
      'ERR_RELAY_REQUEST_VALIDATION',
      'ERR_RELAY_REQUEST_VALIDATION',
    ]);
    expect(await outbox.retryDead(a.id)).toBe(true);
    expect(await outbox.dropDead(b.id)).toBe(true);
    expect(await outbox.retryDead('nope')).toBe(false);
    const delivered: string[] = [];
    await outbox.drain(async (m) => {
      delivered.push(m.id);
    });
    expect(delivered).toEqual([a.id]);
    expect(await outbox.stats()).toMatchObject({ depth: 0, dead: 0 });
  });

  it('target down for hours: retries on the long schedule, delivered once after recovery', async () => {
    const { outbox, clock, events } = setup();
    const recoversAt = T0 + 5 * HOUR;
    const attempts: number[] = [];
    const deliveredIds: string[] = [];
    outbox.start(async (m) => {
      attempts.push(clock.now);
      if (clock.now < recoversAt) throw new UpstreamUnavailableError('marketplace down');
      deliveredIds.push(m.id);
    });
    const m = await outbox.enqueue(input());
    for (let t = 0; t < 8 * HOUR; t += 60_000) await clock.advance(60_000);
    expect(deliveredIds).toEqual([m.id]);
    // Long schedule: a handful of attempts in five hours, not a retry storm.
    const failures = attempts.filter((t) => t < recoversAt);
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(failures.length).toBeLessThanOrEqual(9);
    // Each wait is half the schedule entry (random = 0.5).
    const gaps = failures.slice(1).map((t, i) => t - (failures[i] as number));
    expect(gaps.slice(0, 5)).toEqual(DEFAULT_OUTBOX_SCHEDULE.slice(0, 5).map((ms) => ms / 2));
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'dead')).toHaveLength(0);
    await outbox.stop();
    expect(await outbox.stats()).toMatchObject({ depth: 0, dead: 0, inFlight: 0 });
  });

  it('dead-letters after the horizon with an event, and not before', async () => {
    const horizon = 24 * HOUR;
    const { outbox, clock, events } = setup({ deadLetterAfterMs: horizon });
    let last = 0;
    outbox.start(async () => {
      last = clock.now;
      throw new UpstreamUnavailableError('still down');
    });
    const m = await outbox.enqueue(input());
    await clock.advance(horizon - 60_000);
    expect(events.filter((e) => e.type === 'dead')).toHaveLength(0);
    await clock.advance(2 * HOUR);
    const dead = events.filter((e) => e.type === 'dead');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'horizon', message: { id: m.id } });
    // The last attempt happened at the horizon, not later.
    expect(last).toBe(T0 + horizon);
    expect(await outbox.stats()).toMatchObject({ depth: 0, dead: 1 });
    await outbox.stop();
  });

  it('per-key ordering: a failing head holds back the rest of its key only', async () => {
    const { outbox, clock } = setup({ concurrency: 4 });
    const order: string[] = [];
    let failFirst = true;
    const a1 = await outbox.enqueue({ ...input(1, 'A'), payload: 'a1' });
    const a2 = await outbox.enqueue({ ...input(2, 'A'), payload: 'a2' });
    const b1 = await outbox.enqueue({ ...input(3, 'B'), payload: 'b1' });
    const a3 = await outbox.enqueue({ ...input(4, 'A'), payload: 'a3' });
    outbox.start(async (m) => {
      if (m.id === a1.id && failFirst) {
        failFirst = false;
        throw new UpstreamUnavailableError('once', { retryAfterMs: 10_000 });
      }
      order.push(m.payload as string);
    });
    await clock.advance(1000);
    expect(order).toEqual(['b1']);
    await clock.advance(10_000);
    expect(order).toEqual(['b1', 'a1', 'a2', 'a3']);
    await outbox.stop();
    expect([a1, a2, a3].map((m) => m.orderingKey)).toEqual(['A', 'A', 'A']);
    expect(b1.orderingKey).toBe('B');
  });

  it('a delivery that outlives its lease is aborted and retried', async () => {
    const { outbox, clock, events } = setup({ leaseMs: 30_000 });
    const signals: AbortSignal[] = [];
    let calls = 0;
    let active = 0;
    let maxActive = 0;
    outbox.start(async (_m, ctx) => {
      calls++;
      active++;
      maxActive = Math.max(maxActive, active);
      signals.push(ctx.signal);
      try {
        if (calls > 1) return;
        await new Promise<void>((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      } finally {
        active--;
      }
    });
    await outbox.enqueue(input());
    await clock.advance(30_000);
    expect(signals[0]?.aborted).toBe(true);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({
      error: { code: 'ERR_RELAY_TIMEOUT' },
    });
    await clock.advance(60_000);
    expect(calls).toBe(2);
    expect(maxActive).toBe(1); // never the same message twice at once
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(1);
    await outbox.stop();
  });

  // Found by the load suite (examples/system/load, 71 dead letters at 200 records/s): the
  // transport turns an aborted request into ERR_RELAY_ABORTED (not retryable), so a send that
  // outlived its lease while the relay was slow became a dead letter instead of a retry.
  it('a send that outlived its lease was dead-lettered as ERR_RELAY_ABORTED: it is retried', async () => {
    const { outbox, clock, events } = setup({ leaseMs: 30_000 });
    let calls = 0;
    outbox.start(async (_m, ctx) => {
      calls++;
      if (calls > 1) return;
      // what the Node transport throws when the request's signal aborts
      await new Promise<void>((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () =>
          reject(
            new RelayError('ERR_RELAY_ABORTED', 'the request was aborted', {
              cause: ctx.signal.reason,
              retryable: false,
            }),
          ),
        ),
      );
    });
    await outbox.enqueue(input());
    await clock.advance(30_000);
    expect(events.filter((e) => e.type === 'dead')).toEqual([]);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({
      error: { code: 'ERR_RELAY_TIMEOUT' },
    });
    await clock.advance(60_000);
    expect(calls).toBe(2);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(1);
    await outbox.stop();
  });

  it('start picks up what was enqueued before and wakes for new messages', async () => {
    const { outbox, clock } = setup();
    const delivered: unknown[] = [];
    await outbox.enqueue(input(1));
    outbox.start(async (m) => {
      delivered.push(m.payload);
    });
    await clock.settle();
    expect(delivered).toEqual([{ order: 1 }]);
    await outbox.enqueue(input(2));
    await clock.settle();
    expect(delivered).toEqual([{ order: 1 }, { order: 2 }]);
    await outbox.stop();
  });
});

describe('Outbox stop and close', () => {
  it('stop waits for an in-flight delivery to finish', async () => {
    const { outbox, clock, store } = setup();
    let finish!: () => void;
    outbox.start(() => new Promise<void>((r) => (finish = r)));
    await outbox.enqueue(input());
    await clock.settle();
    expect((await outbox.stats()).inFlight).toBe(1);
    let stopped = false;
    const stopping = outbox.stop().then(() => (stopped = true));
    await clock.settle();
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(await store.list()).toEqual([]);
  });

  it('after the grace period stop aborts and releases the lease (no failure counted)', async () => {
    const { outbox, clock, store, events } = setup({ stopGraceMs: 5_000 });
    outbox.start(
      (_m, ctx) =>
        new Promise<void>((_r, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
    );
    const m = await outbox.enqueue(input());
    await clock.settle();
    const stopping = outbox.stop();
    await clock.advance(5_000);
    await stopping;
    const [left] = await store.list();
    expect(left).toMatchObject({ id: m.id, attempts: 1, nextAttemptAt: T0 });
    expect(left?.lastError).toBeUndefined();
    expect((await outbox.stats()).inFlight).toBe(0);
    expect(events.filter((e) => e.type === 'retry' || e.type === 'dead')).toEqual([]);
    // Leased again at once by the next run.
    const again: OutboxMessage[] = [];
    await outbox.drain(async (x) => {
      again.push(x);
    });
    expect(again.map((x) => [x.id, x.attempts])).toEqual([[m.id, 2]]);
  });

  it('stop returns after a second grace period when a delivery ignores its signal', async () => {
    const { outbox, clock } = setup({ stopGraceMs: 1_000 });
    outbox.start(() => new Promise<void>(() => {}));
    await outbox.enqueue(input());
    await clock.settle();
    let stopped = false;
    const stopping = outbox.stop().then(() => (stopped = true));
    await clock.advance(1_000);
    expect(stopped).toBe(false);
    await clock.advance(1_000);
    await stopping;
    expect(stopped).toBe(true);
  });

  it('drain tries each message once even when it is due again at once', async () => {
    const { outbox } = setup();
    await outbox.enqueue(input());
    let calls = 0;
    await outbox.drain(async () => {
      calls++;
      throw new UpstreamUnavailableError('again', { retryAfterMs: 0 });
    });
    expect(calls).toBe(1);
    expect(await outbox.stats()).toMatchObject({ depth: 1, inFlight: 0 });
  });

  it('close closes the store; later calls fail with ERR_RELAY_OUTBOX_CLOSED', async () => {
    const { outbox } = setup();
    const deliver: Deliver = async () => {};
    outbox.start(deliver);
    await outbox.close();
    await expect(outbox.enqueue(input())).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_CLOSED',
    });
    expect(() => outbox.start(deliver)).toThrow(RelayError);
    await expect(outbox.stats()).rejects.toMatchObject({ code: 'ERR_RELAY_OUTBOX_CLOSED' });
  });

  it('refuses bad options', () => {
    const store = new MemoryOutboxStore();
    expect(() => new Outbox({ store, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new Outbox({ store, schedule: [] })).toThrow(/schedule/);
    expect(() => new Outbox({ store, leaseMs: -1 })).toThrow(/leaseMs/);
    expect(() => new Outbox({} as never)).toThrow(/store/);
    expect(() => new Outbox({ store }).start()).toThrow(/deliver/);
  });
});

describe('Outbox on the file store across a restart', () => {
  it('keeps the id, attempts and next attempt time; delivers once when due', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-outbox-restart-'));
    try {
      const clock = new FakeClock(T0);
      const open = async () =>
        new Outbox({
          store: await FileOutboxStore.open(dir, { now: clock.clock }),
          now: clock.clock,
          timers: clock.timers,
          random: () => 0.5,
        });
      let outbox = await open();
      const m = await outbox.enqueue(input(7, 'order-7'));
      await outbox.drain(async () => {
        throw new UpstreamUnavailableError('down', { retryAfterMs: HOUR });
      });
      await outbox.close();

      outbox = await open();
      const [kept] = await outbox.pending();
      expect(kept).toMatchObject({
        id: m.id,
        attempts: 1,
        nextAttemptAt: T0 + HOUR,
        orderingKey: 'order-7',
        lastError: { code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE' },
      });
      const delivered: [string, number][] = [];
      outbox.start(async (x, ctx) => {
        delivered.push([x.id, ctx.attempt]);
      });
      await clock.advance(HOUR - 1_000);
      expect(delivered).toEqual([]);
      await clock.advance(1_000);
      // The file store does real I/O: give it real time, and keep firing timers that came due
      // meanwhile (the worker may re-arm one for "now" after advance() returned).
      for (let i = 0; i < 500 && delivered.length === 0; i++) {
        await clock.advance(0);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(delivered).toEqual([[m.id, 2]]);
      await outbox.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `[[[…1…]]]`, `depth` arrays deep. */
function deep(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
