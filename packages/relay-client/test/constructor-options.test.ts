/**
 * Regression (issue 20, "options are validated when objects are constructed"): the outbox,
 * the mailbox consumer, their stores and the delivery adapters took wrong options silently and
 * failed later with a raw TypeError ("x is not a function"), or (relayDeliverBatch) threw a
 * plain RangeError.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileDedupeStore,
  FileOutboxStore,
  MailboxConsumer,
  MemoryDedupeStore,
  MemoryOutboxStore,
  Outbox,
  RelayError,
  relayDeliver,
  relayDeliverBatch,
  relayMailboxSource,
} from '../src/node.ts';

function refused(build: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    build();
  } catch (thrown) {
    error = thrown;
  }
  expect(RelayError.isInstance(error), String(error)).toBe(true);
  expect((error as RelayError).code).toBe('ERR_RELAY_INVALID_ARGUMENT');
  expect((error as RelayError).message).toMatch(message);
}

const source = { pickup: async () => [], ack: async () => {} };
const consumer = (extra: Record<string, unknown>) =>
  new MailboxConsumer({
    source,
    handler: async () => {},
    dedupe: new MemoryDedupeStore(),
    ...extra,
  } as never);
const client = { send: async () => ({}), sendBatch: async () => ({}) } as never;

describe('regression: constructors took wrong options silently', () => {
  it('Outbox checks its store and hooks', () => {
    const store = new MemoryOutboxStore();
    refused(
      () => new Outbox({ store: {} as never }),
      /store \(an OutboxStore\) must have append.*missing: append/,
    );
    refused(() => new Outbox({ store, now: 5 as never }), /^Outbox: now must be a function/);
    refused(
      () => new Outbox({ store, onEvent: 'log' as never }),
      /^Outbox: onEvent must be a function/,
    );
    refused(
      () => new Outbox({ store, deliver: 5 as never }),
      /^Outbox: deliver must be a function/,
    );
    refused(
      () => new Outbox({ store, timers: {} as never }),
      /^Outbox: timers must have setTimeout and clearTimeout/,
    );
  });

  it('MailboxConsumer and the memory stores check their hooks', () => {
    refused(() => consumer({ now: 5 }), /^MailboxConsumer: now must be a function/);
    refused(() => consumer({ onEvent: 5 }), /^MailboxConsumer: onEvent must be a function/);
    refused(() => consumer({ timers: {} }), /^MailboxConsumer: timers must have/);
    refused(
      () => new MemoryOutboxStore({ now: 5 as never }),
      /^MemoryOutboxStore: now must be a function/,
    );
    refused(
      () => new MemoryDedupeStore({ now: 5 as never }),
      /^MemoryDedupeStore: now must be a function/,
    );
  });

  it('the adapters check the client and their options, with the typed error', () => {
    refused(
      () => relayDeliverBatch(client, { maxBatch: 0 }),
      /^maxBatch must be an integer from 1 to 100/,
    );
    refused(
      () => relayDeliverBatch(client, { onRequest: 5 as never }),
      /^relayDeliverBatch: onRequest must be a function/,
    );
    refused(
      () => relayDeliverBatch({} as never),
      /^relayDeliverBatch: the client must have send, sendBatch/,
    );
    refused(() => relayDeliver({} as never), /^relayDeliver: the client must have send/);
    refused(
      () => relayMailboxSource({} as never),
      /^relayMailboxSource: the client must have pickup, ack/,
    );
  });

  it('the file stores check their options before touching the folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'relay-options-'));
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => FileOutboxStore.open(join(root, 'a'), null as never),
        /^the options of FileOutboxStore\.open must be an object/,
      ],
      [
        () => FileOutboxStore.open(join(root, 'b'), { compactRatio: 'x' as never }),
        /^FileOutboxStore\.open: compactRatio must be a number ≥ 0/,
      ],
      [
        () => FileOutboxStore.open(join(root, 'c'), { sync: 'no' as never }),
        /^FileOutboxStore\.open: sync must be true or false/,
      ],
      [
        () => FileDedupeStore.open(join(root, 'd'), { now: 5 as never }),
        /^FileDedupeStore\.open: now must be a function/,
      ],
      [
        () => FileDedupeStore.open(join(root, 'e'), { compactMinRecords: 0 }),
        /^FileDedupeStore\.open: compactMinRecords must be an integer ≥ 1/,
      ],
    ];
    for (const [open, message] of cases) {
      const error = await open().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect((error as RelayError | undefined)?.code, String(error)).toBe(
        'ERR_RELAY_INVALID_ARGUMENT',
      );
      expect((error as Error).message).toMatch(message);
    }
    for (const dir of ['a', 'b', 'c', 'd', 'e']) expect(existsSync(join(root, dir))).toBe(false);
  });
});
