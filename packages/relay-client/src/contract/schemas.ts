/** The building blocks of the relay contract: ids, bounded JSON, problem documents, bodies. */
import { z } from 'zod';

/**
 * Version of the contract (the `/v1` API); changes only with the API, not with the package.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CONTRACT_VERSION } from '@fluxel/relay-client/contract';
 *
 * assert.match(CONTRACT_VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
export const CONTRACT_VERSION = '1.0.0';

// --- building blocks ---------------------------------------------------------------------

/**
 * A connection id: the agent's name for one third-party account, e.g. `shop-1`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ConnectionId } from '@fluxel/relay-client/contract';
 *
 * assert.equal(ConnectionId.safeParse('shop-1').success, true);
 * assert.equal(ConnectionId.safeParse('Shop 1!').success, false);
 * ```
 */
export const ConnectionId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63');

/**
 * An operation name, e.g. `order.status` or `shipment.create`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { OperationName } from '@fluxel/relay-client/contract';
 *
 * assert.equal(OperationName.safeParse('order.status').success, true);
 * assert.equal(OperationName.safeParse('Order Status').success, false);
 * ```
 */
export const OperationName = z
  .string()
  // eslint-disable-next-line security/detect-unsafe-regex -- at most three parts, each starting with a literal dot it cannot contain: linear time
  .regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*){1,3}$/, 'dotted lower-case name, e.g. order.status');

/**
 * An idempotency key: a UUID (the client mints UUIDv7).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { IdempotencyKey } from '@fluxel/relay-client/contract';
 *
 * assert.equal(IdempotencyKey.safeParse(crypto.randomUUID()).success, true);
 * assert.equal(IdempotencyKey.safeParse('order-1').success, false);
 * ```
 */
export const IdempotencyKey = z.uuid();

/**
 * An RFC 3339 timestamp.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Timestamp } from '@fluxel/relay-client/contract';
 *
 * assert.equal(Timestamp.safeParse('2026-01-31T12:00:00Z').success, true);
 * assert.equal(Timestamp.safeParse('31.01.2026').success, false);
 * ```
 */
export const Timestamp = z.iso.datetime({ offset: true });

/**
 * The deepest nesting of arrays and objects a JSON payload may have (`[[1]]` is 2).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { JsonValue, MAX_JSON_DEPTH } from '@fluxel/relay-client/contract';
 *
 * let deep: unknown = 1;
 * for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = [deep];
 * assert.equal(JsonValue.safeParse(deep).success, false);
 * ```
 */
export const MAX_JSON_DEPTH = 64;
/**
 * The most values (containers, keys' values, array items and scalars) a JSON payload may hold.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { jsonShapeProblem, MAX_JSON_VALUES } from '@fluxel/relay-client/contract';
 *
 * assert.equal(jsonShapeProblem(new Array(MAX_JSON_VALUES).fill(0)), 'too-large');
 * ```
 */
export const MAX_JSON_VALUES = 1_000_000;

/**
 * Why a value is not accepted as a JSON payload before its types are even looked at.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type JsonShapeProblem, jsonShapeProblem } from '@fluxel/relay-client/contract';
 *
 * const problem: JsonShapeProblem | undefined = jsonShapeProblem(JSON.parse('{"__proto__":1}'));
 * assert.equal(problem, 'proto-key');
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { jsonShapeProblem } from '@fluxel/relay-client/contract';
 *
 * assert.equal(jsonShapeProblem({ order: 'A-1' }), undefined);
 * assert.equal(jsonShapeProblem(JSON.parse('{"__proto__":{}}')), 'proto-key');
 * ```
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { JsonValue } from '@fluxel/relay-client/contract';
 *
 * assert.equal(JsonValue.safeParse({ order: 'A-1', lines: [1, 2] }).success, true);
 * assert.equal(JsonValue.safeParse({ at: new Date() }).success, false);
 * ```
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

/**
 * An RFC 9457 problem document with the relay's extension members.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Problem } from '@fluxel/relay-client/contract';
 *
 * const problem = Problem.parse({ type: 'about:blank', title: 'marketplace unavailable', status: 503, retryable: true, vendor: 'x' });
 * assert.equal(problem.status, 503);
 * assert.equal(problem.vendor, 'x'); // extension members are kept
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RELAY_PROBLEM_CODES } from '@fluxel/relay-client/contract';
 *
 * assert.ok(RELAY_PROBLEM_CODES.includes('ERR_DPOP_BODY_MISMATCH'));
 * ```
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

/**
 * A problem code the relay emits (see {@link RELAY_PROBLEM_CODES}).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { RelayProblemCode } from '@fluxel/relay-client/contract';
 *
 * assert.equal(RelayProblemCode.safeParse('ERR_DPOP_NONCE_REQUIRED').success, true);
 * assert.equal(RelayProblemCode.safeParse('ERR_MADE_UP').success, false);
 * ```
 */
export const RelayProblemCode = z.enum(RELAY_PROBLEM_CODES);
/** A problem code the relay emits. */
export type RelayProblemCode = z.output<typeof RelayProblemCode>;

/**
 * The problem's `code` when it is one the relay declares, else `undefined` (no problem, no
 * code, or a code this version of the contract does not know).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { relayProblemCode } from '@fluxel/relay-client/contract';
 *
 * assert.equal(relayProblemCode({ code: 'ERR_DPOP_NONCE_REQUIRED' }), 'ERR_DPOP_NONCE_REQUIRED');
 * assert.equal(relayProblemCode({ code: 'ERR_FROM_A_NEWER_RELAY' }), undefined);
 * ```
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

/**
 * Tokens returned by activation and refresh.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Tokens } from '@fluxel/relay-client/contract';
 *
 * assert.equal(Tokens.safeParse({ licenseId: 'lic-1', accessToken: 'a', accessTokenExpiresAt: '2030-01-01T00:00:00Z', licenseToken: 'l', licenseTokenExpiresAt: '2030-01-02T00:00:00Z', jwks: { keys: [] } }).success, true);
 * ```
 */
export const Tokens = z.strictObject({
  licenseId: z.string(),
  accessToken: z.string(),
  accessTokenExpiresAt: Timestamp,
  licenseToken: z.string(),
  licenseTokenExpiresAt: Timestamp,
  jwks: z.strictObject({ keys: z.array(PublicJwk) }),
});

/**
 * Third-party credentials of one connection (write-only: never returned).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Credentials } from '@fluxel/relay-client/contract';
 *
 * assert.equal(Credentials.safeParse({ kind: 'api-key', fields: { apiKey: 'k' } }).success, true);
 * assert.equal(Credentials.safeParse({ kind: 'api-key', fields: {} }).success, false); // 1–16 fields
 * ```
 */
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

/**
 * An inbound event held in the mailbox.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { InboundEvent } from '@fluxel/relay-client/contract';
 *
 * assert.equal(InboundEvent.safeParse({ id: 'evt-1', connection: 'shop-1', type: 'order.created', receivedAt: '2026-01-31T12:00:00Z', expiresAt: '2026-02-07T12:00:00Z', payload: { order: 'A-1' } }).success, true);
 * ```
 */
export const InboundEvent = z.strictObject({
  id: z.string().min(1).max(128),
  connection: ConnectionId,
  type: z.string().min(1).max(128),
  receivedAt: Timestamp,
  expiresAt: Timestamp,
  payload: JsonValue,
});

/**
 * The most items one `sendBatch` request may carry.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MAX_SEND_BATCH_ITEMS, SendBatchBody } from '@fluxel/relay-client/contract';
 *
 * const item = () => ({ idempotencyKey: crypto.randomUUID(), connection: 'shop-1', operation: 'order.status', payload: 1 });
 * const items = Array.from({ length: MAX_SEND_BATCH_ITEMS + 1 }, item);
 * assert.equal(SendBatchBody.safeParse({ items }).success, false);
 * ```
 */
export const MAX_SEND_BATCH_ITEMS = 100;

/**
 * The `send` route's body: an operation and its payload.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { SendBody } from '@fluxel/relay-client/contract';
 *
 * assert.equal(SendBody.safeParse({ operation: 'order.status', payload: { order: 'A-1' } }).success, true);
 * ```
 */
export const SendBody = z.strictObject({ operation: OperationName, payload: JsonValue });

/**
 * A successful `send` (also a batch item's `delivered` result).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { SendDelivered } from '@fluxel/relay-client/contract';
 *
 * assert.equal(SendDelivered.safeParse({ status: 'delivered', upstreamStatus: 200, deliveredAt: '2026-01-31T12:00:00Z', replayed: false }).success, true);
 * ```
 */
export const SendDelivered = z.strictObject({
  status: z.literal('delivered'),
  upstreamStatus: z.number().int(),
  result: JsonValue.optional(),
  deliveredAt: Timestamp,
  replayed: z.boolean(),
});

/**
 * One item of a `sendBatch` request: a `send` with its own connection and idempotency key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { SendBatchItem } from '@fluxel/relay-client/contract';
 *
 * assert.equal(SendBatchItem.safeParse({ idempotencyKey: crypto.randomUUID(), connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } }).success, true);
 * ```
 */
export const SendBatchItem = z.strictObject({
  idempotencyKey: IdempotencyKey,
  connection: ConnectionId,
  operation: OperationName,
  payload: JsonValue,
});

/**
 * A `sendBatch` request: 1 to {@link MAX_SEND_BATCH_ITEMS} items, each idempotency key at most
 * once (the whole batch is refused otherwise: nothing is forwarded).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { SendBatchBody } from '@fluxel/relay-client/contract';
 *
 * const item = { idempotencyKey: crypto.randomUUID(), connection: 'shop-1', operation: 'order.status', payload: { order: 'A-1' } };
 * assert.equal(SendBatchBody.safeParse({ items: [item] }).success, true);
 * assert.equal(SendBatchBody.safeParse({ items: [item, item] }).success, false); // a key twice
 * ```
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { SendBatchResult } from '@fluxel/relay-client/contract';
 *
 * assert.equal(SendBatchResult.safeParse({ idempotencyKey: crypto.randomUUID(), status: 'unavailable', httpStatus: 503, problem: { type: 'about:blank', title: 'down', status: 503 } }).success, true);
 * ```
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
