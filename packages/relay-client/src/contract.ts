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
import { z } from 'zod';

/** Version of the contract (the `/v1` API); changes only with the API, not with the package. */
export const CONTRACT_VERSION = '1.0.0';

// --- building blocks ---------------------------------------------------------------------

/** A connection id: the agent's name for one third-party account, e.g. `shop-1`. */
export const ConnectionId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63');

/** An operation name, e.g. `order.status` or `shipment.create`. */
export const OperationName = z
  .string()
  // eslint-disable-next-line security/detect-unsafe-regex -- at most three parts, each starting with a literal dot it cannot contain: linear time
  .regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*){1,3}$/, 'dotted lower-case name, e.g. order.status');

/** An idempotency key: a UUID (the client mints UUIDv7). */
export const IdempotencyKey = z.uuid();

/** An RFC 3339 timestamp. */
export const Timestamp = z.iso.datetime({ offset: true });

/** The deepest nesting of arrays and objects a JSON payload may have (`[[1]]` is 2). */
export const MAX_JSON_DEPTH = 64;
/** The most values (containers, keys' values, array items and scalars) a JSON payload may hold. */
export const MAX_JSON_VALUES = 1_000_000;

/** Why a value is not accepted as a JSON payload before its types are even looked at. */
export type JsonShapeProblem = 'too-deep' | 'too-large' | 'proto-key';

const JSON_SHAPE_MESSAGES: Record<JsonShapeProblem, string> = {
  'too-deep': `JSON payloads may nest arrays and objects at most ${MAX_JSON_DEPTH} deep; flatten the payload`,
  'too-large': `JSON payloads may hold at most ${MAX_JSON_VALUES} values; split the payload`,
  'proto-key': 'the key "__proto__" is not allowed in JSON payloads',
};

/**
 * Walks `value` without recursion (an explicit stack, so a hostile nesting cannot overflow the
 * call stack) and answers the first reason to refuse it: nested deeper than `maxDepth`, more
 * than `maxValues` values (also ends a cyclic or heavily shared object graph), or an own
 * `__proto__` key anywhere. `undefined` when none applies. Refuses at the limit: nothing
 * below it is left unchecked.
 */
export function jsonShapeProblem(
  value: unknown,
  limits: { readonly maxDepth?: number; readonly maxValues?: number } = {},
): JsonShapeProblem | undefined {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const maxValues = limits.maxValues ?? MAX_JSON_VALUES;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let values = 1;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const current = item.value;
    if (typeof current !== 'object' || current === null) continue;
    if (item.depth >= maxDepth) return 'too-deep';
    if (!Array.isArray(current) && Object.hasOwn(current, '__proto__')) return 'proto-key';
    for (const child of Object.values(current)) {
      values += 1;
      if (values > maxValues) return 'too-large';
      stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return undefined;
}

/**
 * A JSON value. Before the (recursive) type check, an iterative walk refuses a payload nested
 * deeper than {@link MAX_JSON_DEPTH} or holding more than {@link MAX_JSON_VALUES} values — so a
 * hostile payload is a validation error, never a stack overflow — and a `__proto__` key
 * anywhere: parsing would drop it (a guard against prototype pollution), so the data forwarded
 * would silently differ from the data sent.
 */
export const JsonValue = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = jsonShapeProblem(value);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: JSON_SHAPE_MESSAGES[problem],
        params: { reason: problem },
      });
  })
  .pipe(z.json())
  .meta({
    id: 'JsonValue',
    description:
      'Any JSON value, at most 64 levels of arrays and objects deep, at most 1 000 000 values, no key named __proto__.',
  });

/** An RFC 9457 problem document with the relay's extension members. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  retryable: z.boolean().optional(),
  retryAfter: z.number().int().min(0).optional(),
  upstream: z.string().optional(),
  upstreamStatus: z.number().int().optional(),
  traceId: z.string().optional(),
  code: z.string().optional(),
});

/**
 * Every `code` the relay puts into a problem document. The problem schema keeps `code` an open
 * string (a newer relay may add codes, and a client must still read its problems); match codes
 * through {@link relayProblemCode}, whose result is typed by this list, so a misspelt code is a
 * type error on both sides.
 */
export const RELAY_PROBLEM_CODES = [
  // request shape, routing, limits
  'ERR_VALIDATION',
  'ERR_NOT_FOUND',
  'ERR_RATE_LIMITED',
  'ERR_RATE_LIMIT_STORAGE',
  'ERR_MAILBOX_POLLS',
  // forwarder, vault, mailbox, webhooks
  'ERR_IDEMPOTENCY_CONFLICT',
  'ERR_NO_CREDENTIALS',
  'ERR_NO_WEBHOOK_SECRET',
  'ERR_WEBHOOK_SECRET_INVALID',
  'ERR_WEBHOOK_REFUSED',
  'ERR_TENANT_ERASED',
  // the portal API (`/internal/portal/v1/`)
  'ERR_UNAUTHENTICATED',
  'ERR_LICENSE_TENANT_MISMATCH',
  // the license authority and DPoP verification (`@fluxel/license`'s codes, passed through)
  'ERR_LICENSE_INVALID_KEY',
  'ERR_LICENSE_ACTIVATION_FAILED',
  'ERR_LICENSE_NOT_FOUND',
  'ERR_LICENSE_LOCKED',
  'ERR_LICENSE_EXPIRED',
  'ERR_LICENSE_NOT_ACTIVE',
  'ERR_LICENSE_REBIND_FAILED',
  'ERR_LICENSE_CONFLICT',
  'ERR_LICENSE_INVALID_TOKEN',
  'ERR_LICENSE_TOKEN_EXPIRED',
  'ERR_LICENSE_TOKEN_BINDING',
  'ERR_LICENSE_ENTITLEMENT',
  'ERR_DPOP_MISSING',
  'ERR_DPOP_INVALID_PROOF',
  'ERR_DPOP_REPLAY',
  'ERR_DPOP_NONCE_REQUIRED',
  'ERR_DPOP_STALE',
  'ERR_DPOP_BODY_MISMATCH',
  'ERR_KEYSTORE_UNAVAILABLE',
  'ERR_KEYSTORE_CORRUPT',
  'ERR_LICENSE_STORAGE',
  'ERR_LICENSE_INVALID_ARGUMENT',
] as const;

/** A problem code the relay emits (see {@link RELAY_PROBLEM_CODES}). */
export const RelayProblemCode = z.enum(RELAY_PROBLEM_CODES);
/** A problem code the relay emits. */
export type RelayProblemCode = z.output<typeof RelayProblemCode>;

/**
 * The problem's `code` when it is one the relay declares, else `undefined` (no problem, no
 * code, or a code this version of the contract does not know).
 */
export function relayProblemCode(
  problem: { readonly code?: string | undefined } | undefined,
): RelayProblemCode | undefined {
  const parsed = RelayProblemCode.safeParse(problem?.code);
  return parsed.success ? parsed.data : undefined;
}

const PublicJwk = z.looseObject({
  kty: z.string(),
  crv: z.string().optional(),
  x: z.string(),
  y: z.string().optional(),
  kid: z.string(),
  alg: z.string(),
});

/** Tokens returned by activation and refresh. */
export const Tokens = z.strictObject({
  licenseId: z.string(),
  accessToken: z.string(),
  accessTokenExpiresAt: Timestamp,
  licenseToken: z.string(),
  licenseTokenExpiresAt: Timestamp,
  jwks: z.strictObject({ keys: z.array(PublicJwk) }),
});

/** Third-party credentials of one connection (write-only: never returned). */
export const Credentials = z.strictObject({
  kind: z.enum(['api-key', 'basic', 'oauth-client']),
  fields: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/), z.string().min(1).max(4096))
    .refine(
      (fields) => Object.keys(fields).length >= 1 && Object.keys(fields).length <= 16,
      'between 1 and 16 fields',
    )
    // The refinement as JSON Schema, so the OpenAPI document states the limit too.
    .meta({ minProperties: 1, maxProperties: 16 }),
});

/** An inbound event held in the mailbox. */
export const InboundEvent = z.strictObject({
  id: z.string().min(1).max(128),
  connection: ConnectionId,
  type: z.string().min(1).max(128),
  receivedAt: Timestamp,
  expiresAt: Timestamp,
  payload: JsonValue,
});

/** The most items one `sendBatch` request may carry. */
export const MAX_SEND_BATCH_ITEMS = 100;

/** The `send` route's body: an operation and its payload. */
export const SendBody = z.strictObject({ operation: OperationName, payload: JsonValue });

/** A successful `send` (also a batch item's `delivered` result). */
export const SendDelivered = z.strictObject({
  status: z.literal('delivered'),
  upstreamStatus: z.number().int(),
  result: JsonValue.optional(),
  deliveredAt: Timestamp,
  replayed: z.boolean(),
});

/** One item of a `sendBatch` request: a `send` with its own connection and idempotency key. */
export const SendBatchItem = z.strictObject({
  idempotencyKey: IdempotencyKey,
  connection: ConnectionId,
  operation: OperationName,
  payload: JsonValue,
});

/**
 * A `sendBatch` request: 1 to {@link MAX_SEND_BATCH_ITEMS} items, each idempotency key at most
 * once (the whole batch is refused otherwise: nothing is forwarded).
 */
export const SendBatchBody = z
  .strictObject({ items: z.array(SendBatchItem).min(1).max(MAX_SEND_BATCH_ITEMS) })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((item, index) => {
      if (seen.has(item.idempotencyKey))
        ctx.addIssue({
          code: 'custom',
          message: 'each idempotency key may appear once per batch; send the duplicate later',
          path: ['items', index, 'idempotencyKey'],
        });
      seen.add(item.idempotencyKey);
    });
  });

/**
 * The outcome of one batch item, as the single `send` would have answered it: `delivered`
 * (with the same fields as `send`'s 200), `rejected` (final: refused by the third party, not
 * supported, idempotency conflict, no credentials — do not retry) or `unavailable` (retry
 * later, after `problem.retryAfter` seconds). `httpStatus` is the status `send` would have
 * answered, `problem` its problem document.
 */
export const SendBatchResult = z.strictObject({
  idempotencyKey: IdempotencyKey,
  status: z.enum(['delivered', 'rejected', 'unavailable']),
  httpStatus: z.number().int().min(200).max(599),
  upstreamStatus: z.number().int().optional(),
  result: JsonValue.optional(),
  deliveredAt: Timestamp.optional(),
  replayed: z.boolean().optional(),
  problem: Problem.optional(),
});

// --- routes ------------------------------------------------------------------------------

/** Who may call a route: `proof` = any device key with a DPoP proof; `device` = an activated device (access token + proof). */
export type RouteAuth = 'proof' | 'device';

/** One route of the contract. */
export interface RouteDefinition {
  readonly name: string;
  readonly summary: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with `{param}` placeholders. */
  readonly path: string;
  readonly auth: RouteAuth;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Whether an `Idempotency-Key` header is required. */
  readonly idempotencyKey: boolean;
  /** Safe to repeat as is (GET, PUT, DELETE, acks). */
  readonly idempotent: boolean;
  /** Statuses and their body schemas; `null` for an empty body. */
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
}

const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Problem])) as Record<number, typeof Problem>;
const common = problems(400, 401, 413, 415, 429, 500, 503);

function route<const R extends RouteDefinition>(definition: R): R {
  return definition;
}

/** The relay's routes. */
export const relayContract = {
  activate: route({
    name: 'activate',
    summary: 'Activate a license for the device whose key signs the request (once per key, ever).',
    method: 'POST',
    path: '/v1/activate',
    auth: 'proof',
    body: z.strictObject({
      licenseKey: z.string().min(10).max(100),
      device: z
        .strictObject({
          name: z.string().max(100).optional(),
          agentVersion: z.string().max(50).optional(),
        })
        .optional(),
    }),
    idempotencyKey: false,
    idempotent: false,
    responses: { 201: Tokens, ...common, ...problems(403) },
  }),
  refreshToken: route({
    name: 'refreshToken',
    summary: 'New tokens for the bound device; the device key is the credential.',
    method: 'POST',
    path: '/v1/token',
    auth: 'proof',
    body: z.strictObject({}),
    idempotencyKey: false,
    idempotent: true,
    responses: { 200: Tokens, ...common, ...problems(403) },
  }),
  putCredentials: route({
    name: 'putCredentials',
    summary: "Store (replace) a connection's third-party credentials, encrypted. Write-only.",
    method: 'PUT',
    path: '/v1/connections/{connection}/credentials',
    auth: 'device',
    params: z.strictObject({ connection: ConnectionId }),
    body: Credentials,
    idempotencyKey: false,
    idempotent: true,
    responses: { 204: null, ...common, ...problems(403, 404) },
  }),
  deleteCredentials: route({
    name: 'deleteCredentials',
    summary: "Delete a connection's credentials.",
    method: 'DELETE',
    path: '/v1/connections/{connection}/credentials',
    auth: 'device',
    params: z.strictObject({ connection: ConnectionId }),
    idempotencyKey: false,
    idempotent: true,
    responses: { 204: null, ...common, ...problems(403, 404) },
  }),
  send: route({
    name: 'send',
    summary:
      'Forward an operation to the third party at once; nothing is kept. 503 when the third party is unavailable.',
    method: 'POST',
    path: '/v1/connections/{connection}/send',
    auth: 'device',
    params: z.strictObject({ connection: ConnectionId }),
    body: SendBody,
    idempotencyKey: true,
    idempotent: false,
    responses: {
      200: SendDelivered,
      ...common,
      ...problems(403, 404, 409, 422, 502, 503),
    },
  }),
  sendBatch: route({
    name: 'sendBatch',
    summary:
      'Forward up to 100 operations at once, each with its own idempotency key and its own outcome (as `send` would answer it); one proof for the request.',
    method: 'POST',
    path: '/v1/send-batch',
    auth: 'device',
    body: SendBatchBody,
    idempotencyKey: false,
    // Each item carries its own key: the same batch again replays every item's outcome.
    idempotent: true,
    responses: {
      200: z.strictObject({ results: z.array(SendBatchResult) }),
      ...common,
      ...problems(403),
    },
  }),
  pickup: route({
    name: 'pickup',
    summary: 'Long-poll the mailbox for inbound events (held at most 7 days).',
    method: 'GET',
    path: '/v1/mailbox',
    auth: 'device',
    query: z.strictObject({
      wait: z.coerce.number().int().min(0).max(30).default(0),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
    idempotencyKey: false,
    idempotent: true,
    responses: {
      200: z.strictObject({ events: z.array(InboundEvent) }),
      ...common,
      ...problems(403),
    },
  }),
  ack: route({
    name: 'ack',
    summary: 'Acknowledge picked-up events; the relay deletes them.',
    method: 'POST',
    path: '/v1/mailbox/ack',
    auth: 'device',
    body: z.strictObject({ ids: z.array(z.string().min(1).max(128)).min(1).max(100) }),
    idempotencyKey: false,
    idempotent: true,
    responses: {
      200: z.strictObject({ acked: z.number().int().min(0) }),
      ...common,
      ...problems(403),
    },
  }),
  reRequest: route({
    name: 'reRequest',
    summary:
      'Ask the third party again for events that expired from the mailbox (only on the merchant’s instruction).',
    method: 'POST',
    path: '/v1/connections/{connection}/re-request',
    auth: 'device',
    params: z.strictObject({ connection: ConnectionId }),
    body: z.strictObject({
      type: z.string().min(1).max(128),
      from: Timestamp,
      to: Timestamp,
      reference: z.string().max(200).optional(),
    }),
    idempotencyKey: true,
    idempotent: false,
    responses: {
      202: z.strictObject({ requestId: z.string(), status: z.literal('requested') }),
      ...common,
      ...problems(403, 404, 409, 502, 503),
    },
  }),
  status: route({
    name: 'status',
    summary: 'License, device, mailbox and connection state as the relay sees it.',
    method: 'GET',
    path: '/v1/status',
    auth: 'device',
    idempotencyKey: false,
    idempotent: true,
    responses: {
      200: z.strictObject({
        license: z.strictObject({
          id: z.string(),
          status: z.enum(['issued', 'active', 'rebinding', 'locked']),
          product: z.string(),
          entitlements: z.array(z.string()),
          expiresAt: Timestamp.nullable(),
        }),
        device: z.strictObject({ jkt: z.string() }),
        mailbox: z.strictObject({ pending: z.number().int().min(0) }),
        connections: z.array(
          z.strictObject({ id: ConnectionId, credentialsSetAt: Timestamp.nullable() }),
        ),
        relay: z.strictObject({ version: z.string(), time: Timestamp }),
      }),
      ...common,
      ...problems(403),
    },
  }),
  webhookEndpoint: route({
    name: 'webhookEndpoint',
    summary:
      "The connection's own inbound webhook URL, for the third party's settings (exists once its credentials hold a webhookSecret).",
    method: 'GET',
    path: '/v1/connections/{connection}/webhook',
    auth: 'device',
    params: z.strictObject({ connection: ConnectionId }),
    idempotencyKey: false,
    idempotent: true,
    responses: {
      200: z.strictObject({
        connection: ConnectionId,
        /** `…/v1/hooks/{connection}/{hookId}`: the relay looks up exactly this connection's secret. */
        url: z.url(),
        /** The deprecated shared `…/v1/hooks/{connection}` while it still reaches this connection, else null. */
        legacyUrl: z.url().nullable(),
      }),
      ...common,
      ...problems(403, 404),
    },
  }),
} as const;

/** The contract's type. */
export type RelayContract = typeof relayContract;
/** A route name. */
export type RouteName = keyof RelayContract;

/** The output type of a schema, or `undefined`. */
export type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
/** The input type of a schema, or `undefined`. */
export type In<T> = T extends z.ZodType ? z.input<T> : undefined;

/** What a caller passes for a route: params, query and body merged, as the client takes them. */
export type RouteInput<N extends RouteName> = (RelayContract[N] extends { params: infer P }
  ? In<P>
  : unknown) &
  (RelayContract[N] extends { query: infer Q } ? Partial<In<Q>> : unknown) &
  (RelayContract[N] extends { body: infer B } ? { body: In<B> } : unknown) &
  (RelayContract[N]['idempotencyKey'] extends true ? { idempotencyKey: string } : unknown);

/** The success body of a route. */
export type RouteOutput<N extends RouteName> = {
  [S in keyof RelayContract[N]['responses']]: S extends 200 | 201 | 202 | 204
    ? Out<RelayContract[N]['responses'][S]>
    : never;
}[keyof RelayContract[N]['responses']];

/** The success statuses a route may declare. */
export type SuccessStatus = 200 | 201 | 202 | 204;

/**
 * What the relay hands a route's handler once the request matched the contract: params,
 * query and body as parsed (defaults applied; `undefined` where the route has none), and the
 * `Idempotency-Key` where the route requires one.
 */
export type RouteRequest<N extends RouteName> = {
  readonly params: RelayContract[N] extends { params: infer P } ? Out<P> : undefined;
  readonly query: RelayContract[N] extends { query: infer Q } ? Out<Q> : undefined;
  readonly body: RelayContract[N] extends { body: infer B } ? Out<B> : undefined;
} & (RelayContract[N]['idempotencyKey'] extends true
  ? { readonly idempotencyKey: string }
  : unknown);

/**
 * A success answer of a route as the relay sends it: one of the route's declared success
 * statuses with that status's body (`undefined` for an empty one, e.g. 204).
 */
export type RouteReply<N extends RouteName> = {
  [S in keyof RelayContract[N]['responses']]: S extends SuccessStatus
    ? { readonly status: S; readonly body: Out<RelayContract[N]['responses'][S]> }
    : never;
}[keyof RelayContract[N]['responses']];

/** The JSON body of a problem response. */
export type ProblemDocument = z.output<typeof Problem>;
/** One item of a `sendBatch` request as sent. */
export type SendBatchItemBody = z.input<typeof SendBatchItem>;
/** The outcome of one `sendBatch` item. */
export type SendBatchResultBody = z.output<typeof SendBatchResult>;
/** An inbound mailbox event. */
export type InboundEventBody = z.output<typeof InboundEvent>;
/** Credentials as sent. */
export type CredentialsBody = z.input<typeof Credentials>;
/** Tokens as returned. */
export type TokensBody = z.output<typeof Tokens>;

/** Fills a route's path with URL-encoded params. */
export function routePath(
  definition: RouteDefinition,
  params: Readonly<Record<string, string>> = {},
): string {
  return definition.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

export { type Json, type OpenApiOptions, openApiDocument } from './openapi.js';
