/**
 * MailboxConsumer against an in-memory relay mailbox that redelivers unacknowledged events:
 * ack only after the handler, dedupe on event id (also across a restart with the file
 * store), backoff on failures honouring retryAfterMs, stop waits for the handler.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RelayError, UpstreamUnavailableError } from '../src/errors.ts';
import { FileDedupeStore } from '../src/node.ts';
import {
  type MailboxInboundEvent as InboundEvent,
  MailboxConsumer,
  type MailboxConsumerOptions,
  type MailboxEvent,
  type MailboxSource,
  MemoryDedupeStore,
  MIN_DEDUPE_RETENTION_MS,
} from '../src/outbox.ts';
import { FakeClock } from './fixtures/outbox-clock.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-mailbox-'));
  dirs.push(dir);
  return dir;
}

const DAY = 86_400_000;
const T0 = Date.parse('2027-01-01T00:00:00Z');

function event(id: string, payload: unknown = { id }): InboundEvent {
  return {
    id,
    connection: 'payments',
    type: 'payment.received',
    receivedAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 7 * DAY).toISOString(),
    payload,
  };
}

/** The relay's mailbox: holds events until acknowledged; every pickup returns the unacked ones. */
class FakeMailbox implements MailboxSource {
  readonly held = new Map<string, InboundEvent>();
  readonly acked: string[] = [];
  pickups = 0;
  /** Extra copies returned by the next pickup (a duplicate delivery). */
  duplicates: InboundEvent[] = [];
  failPickups: unknown[] = [];
  failAcks = 0;

  put(...events: InboundEvent[]): void {
    for (const e of events) this.held.set(e.id, e);
  }

  async pickup(options: {
    waitSeconds: number;
    limit: number;
    signal: AbortSignal;
  }): Promise<readonly InboundEvent[]> {
    this.pickups++;
    const failure = this.failPickups.shift();
    if (failure !== undefined) throw failure;
    const events = [...this.held.values(), ...this.duplicates].slice(0, options.limit);
    this.duplicates = [];
    if (events.length > 0) return events;
    // Long poll: wait a little (real time) or until aborted.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5);
      options.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return [];
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (this.failAcks > 0) {
      this.failAcks--;
      throw new RelayError('ERR_RELAY_CONNECTION', 'connection reset during ack');
    }
    for (const id of ids) {
      this.held.delete(id);
      this.acked.push(id);
    }
  }
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

function consumer(
  options: Partial<MailboxConsumerOptions> & Pick<MailboxConsumerOptions, 'source' | 'handler'>,
) {
  const events: MailboxEvent[] = [];
  const c = new MailboxConsumer({
    dedupe: new MemoryDedupeStore(),
    waitSeconds: 1,
    backoff: [1, 2],
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { consumer: c, events };
}

describe('MailboxConsumer', () => {
  it('hands each event to the handler in order, then records and acknowledges it', async () => {
    const source = new FakeMailbox();
    source.put(event('e1'), event('e2'));
    const dedupe = new MemoryDedupeStore();
    const handled: string[] = [];
    let ackedWhenHandled = -1;
    const { consumer: c } = consumer({
      source,
      dedupe,
      handler: async (e) => {
        handled.push(e.id);
        if (e.id === 'e2') ackedWhenHandled = source.acked.length;
      },
    });
    c.start();
    await until(() => source.acked.length === 2);
    await c.stop();
    expect(handled).toEqual(['e1', 'e2']);
    expect(ackedWhenHandled).toBe(0); // nothing acknowledged before its handler ran
    expect(await dedupe.has('e1')).toBe(true);
    expect(await dedupe.has('e2')).toBe(true);
    expect(c.running).toBe(false);
  });

  it('a failed handler is not acknowledged; the redelivered event is handled later', async () => {
    const source = new FakeMailbox();
    source.put(event('e1'), event('e2'));
    const calls: string[] = [];
    let failures = 0;
    const { consumer: c, events } = consumer({
      source,
      handler: async (e) => {
        calls.push(e.id);
        if (e.id === 'e1' && failures++ < 2) throw new Error('erp offline');
      },
    });
    c.start();
    await until(() => source.held.size === 0);
    await c.stop();
    expect(calls).toEqual(['e1', 'e2', 'e1', 'e1']);
    expect(source.acked).toEqual(['e2', 'e1']);
    expect(events.filter((e) => e.type === 'handler-error')).toHaveLength(2);
  });

  it('the same event delivered twice (same batch and later) reaches the handler once', async () => {
    const source = new FakeMailbox();
    source.put(event('e1'));
    source.duplicates = [event('e1')];
    const calls: string[] = [];
    const { consumer: c, events } = consumer({
      source,
      handler: async (e) => {
        calls.push(e.id);
      },
    });
    await c.pollOnce();
    // The relay delivers it once more (its ack crossed with a redelivery).
    source.put(event('e1'));
    await c.pollOnce();
    expect(calls).toEqual(['e1']);
    expect(events.filter((e) => e.type === 'duplicate')).toHaveLength(1);
    expect(source.held.size).toBe(0);
  });

  it('handler done, ack lost, process restarted: no second handler call (file dedupe)', async () => {
    const dir = tempDir();
    const source = new FakeMailbox();
    source.put(event('pay-1'), event('pay-2'));
    source.failAcks = 1;
    const calls: string[] = [];
    const handler = async (e: InboundEvent) => {
      calls.push(e.id);
    };
    let dedupe = await FileDedupeStore.open(dir);
    const first = consumer({ source, handler, dedupe });
    await first.consumer.pollOnce();
    expect(first.events.some((e) => e.type === 'ack-error')).toBe(true);
    expect(source.held.size).toBe(2); // the relay still holds both
    await dedupe.close(); // the process goes away

    dedupe = await FileDedupeStore.open(dir);
    const second = consumer({ source, handler, dedupe });
    await second.consumer.pollOnce();
    expect(calls).toEqual(['pay-1', 'pay-2']);
    expect(source.held.size).toBe(0);
    expect(second.events.filter((e) => e.type === 'duplicate')).toHaveLength(2);
    await dedupe.close();
  });

  it('stop waits for the handler in flight and acknowledges its event', async () => {
    const source = new FakeMailbox();
    source.put(event('slow'), event('next'));
    let release!: () => void;
    const started: string[] = [];
    const { consumer: c } = consumer({
      source,
      handler: (e) => {
        started.push(e.id);
        return new Promise<void>((r) => (release = r));
      },
    });
    c.start();
    await until(() => started.length === 1);
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(started).toEqual(['slow']); // the next event is left for the next run
    expect(source.acked).toEqual(['slow']);
    expect([...source.held.keys()]).toEqual(['next']);
  });

  it('resumes after stop and start', async () => {
    const source = new FakeMailbox();
    source.put(event('e1'));
    const handled: string[] = [];
    const { consumer: c } = consumer({
      source,
      handler: async (e) => {
        handled.push(e.id);
      },
    });
    c.start();
    await until(() => source.acked.length === 1);
    await c.stop();
    source.put(event('e2'));
    await new Promise((r) => setTimeout(r, 10));
    expect(handled).toEqual(['e1']);
    c.start();
    await until(() => source.acked.length === 2);
    await c.stop();
    expect(handled).toEqual(['e1', 'e2']);
  });

  it('backs off after source errors, honouring retryAfterMs, then resumes', async () => {
    const clock = new FakeClock(T0);
    const source = new FakeMailbox();
    source.failPickups = [
      new UpstreamUnavailableError('relay busy', { retryAfterMs: 30_000 }),
      new Error('socket hang up'),
    ];
    source.put(event('e1'));
    const handled: string[] = [];
    const { consumer: c, events } = consumer({
      source,
      now: clock.clock,
      timers: clock.timers,
      random: () => 0.5,
      backoff: [1_000, 5_000],
      handler: async (e) => {
        handled.push(e.id);
      },
    });
    c.start();
    await clock.settle();
    const errors = () => events.filter((e) => e.type === 'source-error');
    expect(errors().map((e) => e.type === 'source-error' && e.retryInMs)).toEqual([30_000]);
    await clock.advance(29_999);
    expect(source.pickups).toBe(1);
    await clock.advance(1);
    // Second failure: full jitter over the second backoff entry (random 0.5 → 2.5 s).
    expect(errors().map((e) => e.type === 'source-error' && e.retryInMs)).toEqual([30_000, 2_500]);
    await clock.advance(2_500);
    await until(() => handled.length === 1);
    await c.stop();
    expect(source.acked).toEqual(['e1']);
  });

  it('remembers ids past the event expiry and at least eight days', async () => {
    const clock = new FakeClock(T0);
    const dedupe = new MemoryDedupeStore({ now: clock.clock });
    const source = new FakeMailbox();
    source.put(event('e1'));
    const { consumer: c } = consumer({ source, dedupe, now: clock.clock, handler: async () => {} });
    await c.pollOnce();
    clock.now = T0 + 8 * DAY - 1;
    expect(await dedupe.has('e1')).toBe(true);
    clock.now = T0 + 8 * DAY + 1;
    expect(await dedupe.has('e1')).toBe(false);
  });

  it('refuses bad options', () => {
    const source = new FakeMailbox();
    const handler = async () => {};
    const dedupe = new MemoryDedupeStore();
    expect(() => new MailboxConsumer({ source, handler, dedupe, waitSeconds: 31 })).toThrow(
      /waitSeconds/,
    );
    expect(() => new MailboxConsumer({ source, handler, dedupe, limit: 0 })).toThrow(/limit/);
    expect(
      () =>
        new MailboxConsumer({ source, handler, dedupe, retentionMs: MIN_DEDUPE_RETENTION_MS - 1 }),
    ).toThrow(/retentionMs/);
    expect(() => new MailboxConsumer({ source, handler } as never)).toThrow(/dedupe/);
  });
});

describe('FileDedupeStore', () => {
  it('keeps ids across reopen until they expire', async () => {
    const dir = tempDir();
    let now = T0;
    let store = await FileDedupeStore.open(dir, { now: () => now });
    await store.add('a', T0 + DAY);
    await store.add('b', T0 + 10 * DAY);
    await store.close();
    now = T0 + 2 * DAY;
    store = await FileDedupeStore.open(dir, { now: () => now });
    expect(await store.has('a')).toBe(false);
    expect(await store.has('b')).toBe(true);
    expect(await store.has('c')).toBe(false);
    expect(store.size).toBe(1);
    await store.close();
  });

  it('tolerates a torn last line; refuses a second opener', async () => {
    const dir = tempDir();
    let store = await FileDedupeStore.open(dir);
    await store.add('a', Date.now() + DAY);
    await expect(FileDedupeStore.open(dir)).rejects.toMatchObject({
      code: 'ERR_RELAY_OUTBOX_STORAGE',
    });
    await store.close();
    const log = join(dir, 'mailbox-dedupe.log');
    writeFileSync(log, `${readFileSync(log, 'utf8')}{"i":"b","x":`);
    store = await FileDedupeStore.open(dir);
    expect(await store.has('a')).toBe(true);
    expect(await store.has('b')).toBe(false);
    await store.close();
  });

  it('compacts away expired ids', async () => {
    const dir = tempDir();
    let now = T0;
    const store = await FileDedupeStore.open(dir, { now: () => now, compactMinRecords: 20 });
    for (let i = 0; i < 50; i++) await store.add(`old-${i}`, T0 + DAY);
    now = T0 + 2 * DAY;
    for (let i = 0; i < 5; i++) await store.add(`new-${i}`, now + DAY);
    await store.close();
    const lines = readFileSync(join(dir, 'mailbox-dedupe.log'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(20);
    const reopened = await FileDedupeStore.open(dir, { now: () => now });
    for (let i = 0; i < 5; i++) expect(await reopened.has(`new-${i}`)).toBe(true);
    expect(await reopened.has('old-1')).toBe(false);
    await reopened.close();
  });
});
