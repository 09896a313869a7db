/**
 * `@fluxel/relay-client/node`: the client on undici for Node.js, with CA pinning, proxies and
 * per-phase timeouts, and the file-backed outbox and dedupe stores.
 */
import { createRelayClientCore, type RelayClient, type RelayClientCoreOptions } from './client.js';
import {
  createUndiciTransport,
  type UndiciTransport,
  type UndiciTransportOptions,
} from './transport.js';

export * from './index.js';
export { FileDedupeStore, type FileDedupeStoreOptions } from './mailbox-file.js';
export {
  type FileOutboxRecovery,
  FileOutboxStore,
  type FileOutboxStoreOptions,
} from './outbox-file.js';
export { FileTokenStore } from './token-file.js';
export {
  createUndiciTransport,
  spkiPin,
  type Timeouts,
  type UndiciTransport,
  type UndiciTransportOptions,
} from './transport.js';

import { checkClientOptions } from './options.js';

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
