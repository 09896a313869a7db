/** `createRelayClient`: the client core on the undici transport, for Node.js. */
import { createRelayClientCore, type RelayClient, type RelayClientCoreOptions } from '../client.js';
import { checkClientOptions } from '../options.js';
import {
  createUndiciTransport,
  type UndiciTransport,
  type UndiciTransportOptions,
} from './transport.js';

/** Options of {@link createRelayClient}. */
export type RelayClientOptions = Omit<RelayClientCoreOptions, 'transport'> & UndiciTransportOptions;

/** A relay client that owns its connection pool. */
export type NodeRelayClient = RelayClient & {
  /** Closes the connection pool. */
  close(): Promise<void>;
  readonly transport: UndiciTransport;
};

/** Creates a relay client on undici. */
export function createRelayClient(options: RelayClientOptions): NodeRelayClient {
  // Checked before the transport exists, so a wrong option leaves no connection pool behind.
  checkClientOptions(options);
  const transport = createUndiciTransport(options);
  const client = createRelayClientCore({ ...options, transport });
  return Object.assign(client, { close: () => transport.close(), transport });
}
