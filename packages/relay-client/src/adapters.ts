/**
 * Glue between the client and the outbox / mailbox consumer: deliver an outbox message with
 * `send` (its id is the idempotency key, the same on every attempt and after restarts), and
 * read the mailbox through `pickup` / `ack`.
 */
import { invalidArgument, optionalFunctions, optionsRecord, withMethods } from './check-options.js';
import { type CallOptions, type RelayClient, retryAfter, toError } from './client.js';
import { MAX_SEND_BATCH_ITEMS, type SendBatchResultBody } from './contract.js';
import { RelayError } from './errors.js';
import type { MailboxSource } from './mailbox/types.js';
import type { Deliver, OutboxMessage } from './outbox/types.js';

/**
 * An outbox `deliver` function that sends each message through the relay.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, MemoryOutboxStore, Outbox, relayDeliver } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore(), deliver: relayDeliver(client) });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain();
 * assert.equal((await outbox.stats()).depth, 0);
 * await outbox.close();
 * ```
 */
export function relayDeliver(client: Pick<RelayClient, 'send'>): Deliver {
  withMethods(client, ['send'], 'relayDeliver: the client');
  return async (message, { signal }) => {
    const options: CallOptions = { signal };
    await client.send(
      {
        connection: message.connection,
        idempotencyKey: message.id,
        body: { operation: message.operation, payload: message.payload as never },
      },
      options,
    );
  };
}

/**
 * Options of {@link relayDeliverBatch}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, relayDeliverBatch, type RelayDeliverBatchOptions } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const sizes: number[] = [];
 * const options: RelayDeliverBatchOptions = { maxBatch: 50, onRequest: ({ size }) => sizes.push(size) };
 * assert.equal(typeof relayDeliverBatch(client, options), 'function');
 * ```
 */
export interface RelayDeliverBatchOptions {
  /** The most messages per `sendBatch` request (1–100). Default 100; 1 sends each alone. */
  readonly maxBatch?: number;
  /** Called for every request it sends (`size` 1 for a message sent alone by `send`), e.g. for metrics. */
  readonly onRequest?: (request: { readonly size: number }) => void;
}

interface Waiting {
  readonly message: OutboxMessage;
  readonly signal: AbortSignal;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * An outbox `deliver` function like {@link relayDeliver} that gathers the deliveries the
 * outbox starts together (in the same turn of the event loop) into `sendBatch` requests of up
 * to `maxBatch` messages: one request and one proof for many messages. Each message still
 * gets its own outcome — delivered resolves; a refusal rejects with the same
 * {@link RelayError} a single `send` would have thrown (its problem code and detail), so the
 * outbox dead-letters or reschedules each message on its own. A message alone is sent with
 * `send`. Give the outbox a `concurrency` of at least `maxBatch` so it leases that many at once.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, MemoryOutboxStore, Outbox, relayDeliverBatch } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const outbox = new Outbox({ store: new MemoryOutboxStore(), deliver: relayDeliverBatch(client), concurrency: 100 });
 * await outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } });
 * await outbox.drain();
 * assert.equal((await outbox.stats()).depth, 0);
 * await outbox.close();
 * ```
 */
export function relayDeliverBatch(
  client: Pick<RelayClient, 'send' | 'sendBatch'>,
  options: RelayDeliverBatchOptions = {},
): Deliver {
  withMethods(client, ['send', 'sendBatch'], 'relayDeliverBatch: the client');
  const record = optionsRecord(options, 'relayDeliverBatch');
  optionalFunctions(record, ['onRequest'], 'relayDeliverBatch');
  const maxBatch = options.maxBatch ?? MAX_SEND_BATCH_ITEMS;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_SEND_BATCH_ITEMS)
    throw invalidArgument(`maxBatch must be an integer from 1 to ${MAX_SEND_BATCH_ITEMS}`);
  const single = relayDeliver(client);
  let waiting: Waiting[] = [];
  let scheduled = false;

  const sendOne = (w: Waiting) =>
    single(w.message, { attempt: w.message.attempts, signal: w.signal }).then(w.resolve, w.reject);

  async function sendMany(all: Waiting[]): Promise<void> {
    let group = all;
    for (let round = 1; ; round++) {
      const later = await sendRound(group, round < SHORT_WAIT_ROUNDS);
      if (later.length === 0) return;
      // Items the relay asks to send again in a second (another attempt with the key is
      // still under way there): sent again shortly, as `send` retries them by itself.
      const signal = AbortSignal.any(later.map((w) => w.signal));
      const slept = await sleep(SHORT_WAIT_MS, signal).then(
        () => true,
        () => false,
      );
      if (!slept) {
        for (const w of later) w.reject(signal.reason);
        return;
      }
      group = later;
    }
  }

  /** Sends one batch; answers the items to send again shortly (when `again`). */
  async function sendRound(group: Waiting[], again: boolean): Promise<Waiting[]> {
    const signal = AbortSignal.any(group.map((w) => w.signal));
    let results: SendBatchResultBody[];
    try {
      ({ results } = await client.sendBatch(
        {
          body: {
            items: group.map(({ message }) => ({
              idempotencyKey: message.id,
              connection: message.connection,
              operation: message.operation,
              payload: message.payload as never,
            })),
          },
        },
        { signal },
      ));
    } catch (error) {
      // One record's signal (its lease ran out) aborts the request of the whole batch: for
      // the others that abort is not their refusal, so it stays retryable (the transport calls
      // every abort ERR_RELAY_ABORTED, not retryable — they became dead letters).
      for (const w of group)
        w.reject(
          signal.aborted && !w.signal.aborted
            ? new RelayError(
                'ERR_RELAY_ABORTED',
                'the batch request was aborted for another record in it',
                { cause: error, retryable: true },
              )
            : error,
        );
      return [];
    }
    const byKey = new Map(results.map((r) => [r.idempotencyKey, r]));
    const later: Waiting[] = [];
    for (const w of group) {
      const result = byKey.get(w.message.id);
      if (result?.status === 'delivered') w.resolve();
      else if (
        again &&
        result?.status === 'unavailable' &&
        (result.problem?.retryAfter ?? Number.POSITIVE_INFINITY) <= SHORT_WAIT_MS / 1000
      )
        later.push(w);
      else w.reject(itemError(result));
    }
    return later;
  }

  const counted = (size: number) => {
    try {
      options.onRequest?.({ size });
    } catch {
      // a metrics callback does not stop deliveries
    }
  };

  function flush(): void {
    scheduled = false;
    const all = waiting;
    waiting = [];
    for (let i = 0; i < all.length; i += maxBatch) {
      const group = all.slice(i, i + maxBatch);
      const [first] = group;
      counted(group.length);
      if (group.length === 1 && first) void sendOne(first);
      else void sendMany(group);
    }
  }

  return (message, { signal }) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ message, signal, resolve, reject });
      if (scheduled) return;
      scheduled = true;
      // The outbox starts the deliveries of one lease in one turn: send them together.
      setTimeout(flush, 0);
    });
}

/** Rounds of a batch for items the relay asks to send again at once ("in progress", "try again"). */
const SHORT_WAIT_ROUNDS = 4;
/** The wait before such a round, and the longest `retryAfter` that counts as "at once". */
const SHORT_WAIT_MS = 1000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error a single `send` would have thrown for a batch item's outcome. */
function itemError(result: SendBatchResultBody | undefined): RelayError {
  if (!result)
    return toError(
      502,
      { type: 'about:blank', title: 'no result for this item', status: 502, retryable: true },
      undefined,
    );
  const problem = result.problem ?? {
    type: 'about:blank',
    title: `the relay answered ${result.status}`,
    status: result.httpStatus,
    retryable: result.status === 'unavailable',
  };
  return toError(result.httpStatus, problem, retryAfter(undefined, problem.retryAfter, Date.now));
}

/**
 * A mailbox source that long-polls the relay and acknowledges through it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, relayMailboxSource } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const source = relayMailboxSource(client);
 * assert.deepEqual(await source.pickup({ waitSeconds: 0, limit: 10, signal: new AbortController().signal }), []);
 * await source.ack(['evt-1']);
 * ```
 */
export function relayMailboxSource(client: Pick<RelayClient, 'pickup' | 'ack'>): MailboxSource {
  withMethods(client, ['pickup', 'ack'], 'relayMailboxSource: the client');
  return {
    async pickup({ waitSeconds, limit, signal }) {
      return (await client.pickup({ wait: waitSeconds, limit }, { signal })).events;
    },
    async ack(ids) {
      if (ids.length > 0) await client.ack({ body: { ids: [...ids] } });
    },
  };
}
