/**
 * `@fluxel/relay-client`: the relay's typed contract and a client that never loses a
 * message. The root entry runs on the Web platform (bring a transport): contract, client core,
 * outbox and mailbox consumer. The undici client with CA pinning and the file-backed stores
 * are in `@fluxel/relay-client/node`.
 *
 * @packageDocumentation
 */

export {
  type RelayDeliverBatchOptions,
  relayDeliver,
  relayDeliverBatch,
  relayMailboxSource,
} from './adapters.js';
export {
  type Args,
  type CallOptions,
  createRelayClientCore,
  type HttpRequest,
  type HttpResponse,
  type RelayClient,
  type RelayClientCoreOptions,
  type Result,
  type RetryOptions,
  type RouteMethod,
  retryAfter,
  type StoredTokens,
  type TokenStore,
  type Transport,
} from './client.js';
export * from './contract.js';
export * from './errors.js';
export * from './outbox.js';
export type { ProofRequest, ProofSigner } from './proof-signer.js';
