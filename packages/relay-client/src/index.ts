/**
 * `@fluxel/relay-client`: The Fluxel relay's typed REST contract and a client that never loses a message: CA pinning, DPoP per attempt, retries, a durable outbox and acknowledged mailbox pickup.
 *
 * @packageDocumentation
 */
export {
  FluxelError,
  type FluxelErrorOptions,
  isFluxelError,
  RELAY_CLIENT_ERROR_CODES,
  RelayError,
  type RelayErrorCode,
} from './errors.js';
