/**
 * Glue between the client and the outbox / mailbox consumer: deliver an outbox message with
 * `send` (its id is the idempotency key, the same on every attempt and after restarts), and
 * read the mailbox through `pickup` / `ack`.
 */
import type { CallOptions, RelayClient } from './client.js';
import type { MailboxSource } from './mailbox.js';
import type { Deliver } from './outbox-core.js';

/** An outbox `deliver` function that sends each message through the relay. */
export function relayDeliver(client: Pick<RelayClient, 'send'>): Deliver {
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

/** A mailbox source that long-polls the relay and acknowledges through it. */
export function relayMailboxSource(client: Pick<RelayClient, 'pickup' | 'ack'>): MailboxSource {
  return {
    async pickup({ waitSeconds, limit, signal }) {
      return (await client.pickup({ wait: waitSeconds, limit }, { signal })).events;
    },
    async ack(ids) {
      if (ids.length > 0) await client.ack({ body: { ids: [...ids] } });
    },
  };
}
