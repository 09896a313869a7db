/**
 * `@fluxel/license`: one license, one device. License keys, the activate-once authority,
 * device keys, DPoP-bound requests (RFC 9449) and license tokens.
 *
 * The root entry holds everything that runs on the Web platform; narrower entries exist
 * for each side: `./key`, `./client`, `./token` (offline verification only), `./server`,
 * `./sql`, `./admin` (gRPC), `./node` (OS keychain, encrypted file store).
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './server.js';
