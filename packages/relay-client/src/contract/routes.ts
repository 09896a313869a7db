/** The relay's routes as data, and the types derived from them. */
import { z } from 'zod';
import {
  ConnectionId,
  Credentials,
  InboundEvent,
  Problem,
  SendBatchBody,
  type SendBatchItem,
  SendBatchResult,
  SendBody,
  SendDelivered,
  Timestamp,
  Tokens,
} from './schemas.js';

// --- routes ------------------------------------------------------------------------------

/**
 * Who may call a route: `proof` = any device key with a DPoP proof; `device` = an activated device (access token + proof).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayContract, type RouteAuth } from '@fluxel/relay-client/contract';
 *
 * const auth: RouteAuth = relayContract.activate.auth;
 * assert.equal(auth, 'proof'); // activation has no access token yet
 * ```
 */
export type RouteAuth = 'proof' | 'device';

/**
 * One route of the contract.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayContract, type RouteDefinition } from '@fluxel/relay-client/contract';
 *
 * const routes: RouteDefinition[] = Object.values(relayContract);
 * assert.ok(routes.every((route) => route.path.startsWith('/v1/')));
 * ```
 */
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

/**
 * The relay's routes.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayContract } from '@fluxel/relay-client/contract';
 *
 * assert.equal(relayContract.send.method, 'POST');
 * assert.equal(relayContract.send.path, '/v1/connections/{connection}/send');
 * assert.equal(relayContract.send.idempotencyKey, true);
 * ```
 */
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

/**
 * The contract's type.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RelayContract, relayContract } from '@fluxel/relay-client/contract';
 *
 * const contract: RelayContract = relayContract;
 * assert.equal(contract.status.method, 'GET');
 * ```
 */
export type RelayContract = typeof relayContract;
/**
 * A route name.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayContract, type RouteName } from '@fluxel/relay-client/contract';
 *
 * const names = Object.keys(relayContract) as RouteName[];
 * assert.ok(names.includes('sendBatch'));
 * ```
 */
export type RouteName = keyof RelayContract;

/**
 * The output type of a schema, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Out, Problem } from '@fluxel/relay-client/contract';
 *
 * const problem: Out<typeof Problem> = { type: 'about:blank', title: 'gone', status: 410 };
 * assert.equal(problem.status, 410);
 * ```
 */
export type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
/**
 * The input type of a schema, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type In, SendBody } from '@fluxel/relay-client/contract';
 *
 * const body: In<typeof SendBody> = { operation: 'order.status', payload: null };
 * assert.equal(SendBody.safeParse(body).success, true);
 * ```
 */
export type In<T> = T extends z.ZodType ? z.input<T> : undefined;

/**
 * What a caller passes for a route: params, query and body merged, as the client takes them.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RouteInput } from '@fluxel/relay-client/contract';
 *
 * const input: RouteInput<'send'> = { connection: 'shop-1', idempotencyKey: crypto.randomUUID(), body: { operation: 'order.status', payload: 1 } };
 * assert.equal(input.connection, 'shop-1');
 * ```
 */
export type RouteInput<N extends RouteName> = (RelayContract[N] extends { params: infer P }
  ? In<P>
  : unknown) &
  (RelayContract[N] extends { query: infer Q } ? Partial<In<Q>> : unknown) &
  (RelayContract[N] extends { body: infer B } ? { body: In<B> } : unknown) &
  (RelayContract[N]['idempotencyKey'] extends true ? { idempotencyKey: string } : unknown);

/**
 * The success body of a route.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RouteOutput } from '@fluxel/relay-client/contract';
 *
 * const output: RouteOutput<'ack'> = { acked: 2 };
 * assert.equal(output.acked, 2);
 * ```
 */
export type RouteOutput<N extends RouteName> = {
  [S in keyof RelayContract[N]['responses']]: S extends 200 | 201 | 202 | 204
    ? Out<RelayContract[N]['responses'][S]>
    : never;
}[keyof RelayContract[N]['responses']];

/**
 * The success statuses a route may declare.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type SuccessStatus } from '@fluxel/relay-client/contract';
 *
 * const statuses: SuccessStatus[] = [200, 201, 202, 204];
 * assert.equal(statuses.length, 4);
 * ```
 */
export type SuccessStatus = 200 | 201 | 202 | 204;

/**
 * What the relay hands a route's handler once the request matched the contract: params,
 * query and body as parsed (defaults applied; `undefined` where the route has none), and the
 * `Idempotency-Key` where the route requires one.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RouteRequest } from '@fluxel/relay-client/contract';
 *
 * const request: RouteRequest<'ack'> = { params: undefined, query: undefined, body: { ids: ['evt-1'] } };
 * assert.deepEqual(request.body.ids, ['evt-1']);
 * ```
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type RouteReply } from '@fluxel/relay-client/contract';
 *
 * const reply: RouteReply<'ack'> = { status: 200, body: { acked: 1 } };
 * assert.equal(reply.status, 200);
 * ```
 */
export type RouteReply<N extends RouteName> = {
  [S in keyof RelayContract[N]['responses']]: S extends SuccessStatus
    ? { readonly status: S; readonly body: Out<RelayContract[N]['responses'][S]> }
    : never;
}[keyof RelayContract[N]['responses']];

/**
 * The JSON body of a problem response.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ProblemDocument, Problem } from '@fluxel/relay-client/contract';
 *
 * const problem: ProblemDocument = Problem.parse({ type: 'about:blank', title: 'rate limited', status: 429, retryAfter: 30 });
 * assert.equal(problem.retryAfter, 30);
 * ```
 */
export type ProblemDocument = z.output<typeof Problem>;
/**
 * One item of a `sendBatch` request as sent.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type SendBatchItemBody, SendBatchItem } from '@fluxel/relay-client/contract';
 *
 * const item: SendBatchItemBody = { idempotencyKey: crypto.randomUUID(), connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } };
 * assert.equal(SendBatchItem.safeParse(item).success, true);
 * ```
 */
export type SendBatchItemBody = z.input<typeof SendBatchItem>;
/**
 * The outcome of one `sendBatch` item.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type SendBatchResultBody, SendBatchResult } from '@fluxel/relay-client/contract';
 *
 * const result: SendBatchResultBody = SendBatchResult.parse({ idempotencyKey: crypto.randomUUID(), status: 'unavailable', httpStatus: 503, problem: { type: 'about:blank', title: 'down', status: 503 } });
 * assert.equal(result.status, 'unavailable');
 * ```
 */
export type SendBatchResultBody = z.output<typeof SendBatchResult>;
/**
 * An inbound mailbox event.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type InboundEventBody, InboundEvent } from '@fluxel/relay-client/contract';
 *
 * const event: InboundEventBody = InboundEvent.parse({ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } });
 * assert.equal(event.type, 'order.created');
 * ```
 */
export type InboundEventBody = z.output<typeof InboundEvent>;
/**
 * Credentials as sent.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CredentialsBody, Credentials } from '@fluxel/relay-client/contract';
 *
 * const body: CredentialsBody = { kind: 'basic', fields: { user: 'u', password: 'p' } };
 * assert.equal(Credentials.safeParse(body).success, true);
 * ```
 */
export type CredentialsBody = z.input<typeof Credentials>;
/**
 * Tokens as returned.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type TokensBody, Tokens } from '@fluxel/relay-client/contract';
 *
 * const tokens: TokensBody = Tokens.parse({ licenseId: 'lic-1', accessToken: 'a', accessTokenExpiresAt: '2030-01-01T00:00:00Z', licenseToken: 'l', licenseTokenExpiresAt: '2030-01-02T00:00:00Z', jwks: { keys: [] } });
 * assert.equal(tokens.licenseId, 'lic-1');
 * ```
 */
export type TokensBody = z.output<typeof Tokens>;

/**
 * Fills a route's path with URL-encoded params.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayContract, routePath } from '@fluxel/relay-client/contract';
 *
 * assert.equal(routePath(relayContract.send, { connection: 'shop-1' }), '/v1/connections/shop-1/send');
 * ```
 */
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
