/** `createRelayClient`: the client core on the undici transport, for Node.js. */
import { createRelayClientCore, type RelayClient, type RelayClientCoreOptions } from '../client.js';
import { checkClientOptions } from '../options.js';
import {
  createUndiciTransport,
  type UndiciTransport,
  type UndiciTransportOptions,
} from './transport.js';

/**
 * Options of {@link createRelayClient}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClient, type RelayClientOptions } from '@fluxel/relay-client/node';
 *
 * const options: RelayClientOptions = {
 *   baseUrl: 'https://relay.example.com',
 *   device: { proof: async () => 'proof' },
 *   timeouts: { connectMs: 5_000 },
 *   proxy: false,
 * };
 * await createRelayClient(options).close();
 * ```
 */
export type RelayClientOptions = Omit<RelayClientCoreOptions, 'transport'> & UndiciTransportOptions;

/**
 * A relay client that owns its connection pool.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClient, type NodeRelayClient } from '@fluxel/relay-client/node';
 *
 * const client: NodeRelayClient = createRelayClient({ baseUrl: 'https://relay.example.com', device: { proof: async () => 'proof' }, proxy: false });
 * assert.ok(client.transport.dispatcher);
 * await client.close();
 * ```
 */
export type NodeRelayClient = RelayClient & {
  /** Closes the connection pool. */
  close(): Promise<void>;
  readonly transport: UndiciTransport;
};

/**
 * Creates a relay client on undici.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClient } from '@fluxel/relay-client/node';
 *
 * const client = createRelayClient({
 *   baseUrl: 'https://relay.example.com',
 *   device: { proof: async () => 'proof' }, // createDpopSigner(privateJwk) from @fluxel/license
 *   proxy: false,
 * });
 * assert.equal(typeof client.send, 'function');
 * await client.close(); // no request was made: nothing to wait for
 * ```
 */
export function createRelayClient(options: RelayClientOptions): NodeRelayClient {
  // Checked before the transport exists, so a wrong option leaves no connection pool behind.
  checkClientOptions(options);
  const transport = createUndiciTransport(options);
  const client = createRelayClientCore({ ...options, transport });
  return Object.assign(client, { close: () => transport.close(), transport });
}
