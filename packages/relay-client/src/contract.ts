/**
 * `@fluxel/relay-client/contract`: the relay's REST contract as data. Every route names its
 * method, path, who may call it, its request schemas, a schema per declared response status,
 * and whether it is idempotent and may be retried. The relay server (examples/relay) imports
 * the same object, so server and client cannot drift; `pnpm --filter @fluxel/relay-client
 * openapi` emits it as OpenAPI 3.1 (`openapi.json`, committed and checked for drift).
 *
 * Requests are strict (unknown fields are rejected); problem documents (RFC 9457) are open
 * to extension members, as the RFC asks.
 */

export {
  type Json,
  type OpenApiOptions,
  openApiDocument,
} from './contract/openapi.js';
export {
  type CredentialsBody,
  type In,
  type InboundEventBody,
  type Out,
  type ProblemDocument,
  type RelayContract,
  type RouteAuth,
  type RouteDefinition,
  type RouteInput,
  type RouteName,
  type RouteOutput,
  type RouteReply,
  type RouteRequest,
  relayContract,
  routePath,
  type SendBatchItemBody,
  type SendBatchResultBody,
  type SuccessStatus,
  type TokensBody,
} from './contract/routes.js';
export {
  CONTRACT_VERSION,
  ConnectionId,
  Credentials,
  IdempotencyKey,
  InboundEvent,
  type JsonShapeProblem,
  JsonValue,
  jsonShapeProblem,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  MAX_SEND_BATCH_ITEMS,
  OperationName,
  Problem,
  RELAY_PROBLEM_CODES,
  RelayProblemCode,
  relayProblemCode,
  SendBatchBody,
  SendBatchItem,
  SendBatchResult,
  SendBody,
  SendDelivered,
  Timestamp,
  Tokens,
} from './contract/schemas.js';
