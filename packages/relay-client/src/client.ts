/**
 * The typed relay client, independent of the HTTP stack: it validates what it sends and what
 * comes back against the contract, signs every attempt with a fresh DPoP proof, answers the
 * server's nonce challenge once, refreshes an expired access token once, and retries with
 * full jitter (honouring Retry-After) — only requests that are idempotent or carry an
 * idempotency key, which stays the same across attempts.
 *
 * `client.send(...)` throws a {@link RelayError}; `client.send.safe(...)` returns a result.
 * The undici transport (CA pinning, proxies, timeouts) is in `@fluxel/relay-client/node`.
 */
import type { z } from 'zod';
import { utf8 } from '../../internal/src/base64url.js';
import {
  IdempotencyKey,
  Problem,
  type RelayContract,
  type RouteDefinition,
  type RouteInput,
  type RouteName,
  type RouteOutput,
  relayContract,
  relayProblemCode,
  routePath,
  type TokensBody,
} from './contract.js';
import {
  DeviceProofError,
  IdempotencyConflictError,
  type ProblemDetails,
  RelayError,
  RequestValidationError,
  ResponseValidationError,
  UnexpectedStatusError,
  UpstreamUnavailableError,
} from './errors.js';
import { checkClientOptions, relayBaseUrl } from './options.js';
import type { ProofSigner } from './proof-signer.js';

/**
 * One HTTP request as the transport sends it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { HttpRequest } from '@fluxel/relay-client';
 *
 * const request: HttpRequest = { method: 'GET', url: 'https://relay.example/v1/status', headers: { accept: 'application/json' } };
 * assert.equal(request.method, 'GET');
 * ```
 */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One HTTP response as the transport returns it (header names lower-case).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { HttpResponse } from '@fluxel/relay-client';
 *
 * const response: HttpResponse = { status: 204, headers: { 'dpop-nonce': 'n-1' }, body: new Uint8Array(0) };
 * assert.equal(response.headers['dpop-nonce'], 'n-1');
 * ```
 */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

/**
 * Sends one request; throws a {@link RelayError} when no response arrives.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * assert.equal((await client.send.safe({ connection: 'shop-1', idempotencyKey: crypto.randomUUID(), body: { operation: 'order.status', payload: { order: 'A-1' } } })).ok, true);
 * ```
 */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * The tokens a device holds.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { StoredTokens } from '@fluxel/relay-client';
 *
 * const tokens: StoredTokens = {
 *   licenseId: 'lic-1',
 *   accessToken: 'token',
 *   accessTokenExpiresAt: '2030-01-01T00:00:00Z',
 *   licenseToken: 'license',
 *   licenseTokenExpiresAt: '2030-01-02T00:00:00Z',
 * };
 * assert.equal(tokens.licenseId, 'lic-1');
 * ```
 */
export type StoredTokens = Omit<TokensBody, 'jwks'> & { readonly jwks?: TokensBody['jwks'] };

/**
 * Where the client keeps its tokens between runs (they are not secret without the device key).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * assert.equal((await client.tokens())?.licenseId, 'lic-1');
 * ```
 */
export interface TokenStore {
  load(): Promise<StoredTokens | undefined> | StoredTokens | undefined;
  save(tokens: StoredTokens): Promise<void> | void;
}

/**
 * Retry policy for in-process retries.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type RetryOptions } from '@fluxel/relay-client';
 *
 * const retry: RetryOptions = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 10_000 };
 * const client = createRelayClientCore({
 *   baseUrl: 'https://relay.example',
 *   device: { proof: async () => 'proof' },
 *   transport: async () => ({ status: 204, headers: {}, body: new Uint8Array(0) }),
 *   retry,
 * });
 * assert.equal(typeof client.send, 'function');
 * ```
 */
export interface RetryOptions {
  /** Attempts in total, including the first. Default 4. */
  readonly attempts?: number;
  /** Base of the exponential backoff. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** Cap of one backoff delay. Default 8 s. */
  readonly maxDelayMs?: number;
  /**
   * A Retry-After longer than this ends in-process retrying: the error carries
   * `retryAfterMs` for the outbox to schedule. Default 30 s.
   */
  readonly maxRetryAfterMs?: number;
}

/**
 * Options of {@link createRelayClientCore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type RelayClientCoreOptions } from '@fluxel/relay-client';
 *
 * const options: RelayClientCoreOptions = {
 *   baseUrl: 'https://relay.example',
 *   device: { proof: async () => 'proof' },
 *   transport: async () => ({ status: 204, headers: {}, body: new Uint8Array(0) }),
 *   userAgent: 'my-agent/1.0',
 * };
 * assert.equal(typeof createRelayClientCore(options).status, 'function');
 * ```
 */
export interface RelayClientCoreOptions {
  /** The relay's base URL, `https://…` (http only for tests on loopback). */
  readonly baseUrl: string;
  readonly transport: Transport;
  /** Signs the DPoP proof of every attempt with the device key. */
  readonly device: ProofSigner;
  /** Keeps tokens across runs. Default: memory. */
  readonly tokens?: TokenStore;
  readonly retry?: RetryOptions;
  /** W3C `traceparent` for a call (one trace per call, a new span per attempt). Default: random. */
  readonly traceparent?: () => string;
  readonly userAgent?: string;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
  /** Sleep, for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random in [0, 1), for tests. */
  readonly random?: () => number;
}

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, type CallOptions } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const options: CallOptions = { signal: AbortSignal.timeout(5_000) };
 * assert.deepEqual(await client.pickup({ wait: 0 }, options), { events: [] });
 * ```
 */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/**
 * The result of a `.safe` call.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, type Result } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const result: Result<{ acked: number }> = await client.ack.safe({ body: { ids: ['evt-1'] } });
 * assert.deepEqual(result, { ok: true, value: { acked: 1 } });
 * ```
 */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: RelayError };

/**
 * The arguments of a route method: input (optional when the route takes none) and options.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, type Args } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const args: Args<'pickup'> = [{ wait: 0, limit: 10 }];
 * assert.deepEqual(await client.pickup(...args), { events: [] });
 * ```
 */
export type Args<N extends RouteName> =
  Record<never, never> extends RouteInput<N>
    ? [input?: RouteInput<N>, options?: CallOptions]
    : [input: RouteInput<N>, options?: CallOptions];

/**
 * A typed call of one route, with its `.safe` variant.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, type RouteMethod } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const ack: RouteMethod<'ack'> = client.ack;
 * assert.deepEqual(await ack({ body: { ids: ['evt-1'] } }), { acked: 1 });
 * ```
 */
export type RouteMethod<N extends RouteName> = ((...args: Args<N>) => Promise<RouteOutput<N>>) & {
  safe(...args: Args<N>): Promise<Result<RouteOutput<N>>>;
};

/**
 * The relay client.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport, type RelayClient } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const typed: RelayClient = client;
 * const result = await typed.send.safe({ connection: 'shop-1', idempotencyKey: crypto.randomUUID(), body: { operation: 'order.status', payload: { order: 'A-1' } } });
 * assert.equal(result.ok, true);
 * ```
 */
export type RelayClient = { readonly [N in RouteName]: RouteMethod<N> } & {
  /** The tokens currently held (after activation or loading). */
  tokens(): Promise<StoredTokens | undefined>;
};

const MAX_NONCE_RETRIES = 1;

/**
 * Creates a relay client on a given transport.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createRelayClientCore, type TokenStore, type Transport } from '@fluxel/relay-client';
 *
 * const reply = (body: unknown) => ({ status: 200, headers: {}, body: new TextEncoder().encode(JSON.stringify(body)) });
 * const transport: Transport = async (request) =>
 *   request.url.endsWith('/v1/mailbox/ack') ? reply({ acked: 1 })
 *   : request.url.includes('/v1/mailbox') ? reply({ events: [] })
 *   : reply({ status: 'delivered', upstreamStatus: 200, deliveredAt: new Date().toISOString(), replayed: false });
 * const tokens: TokenStore = {
 *   load: () => ({
 *     licenseId: 'lic-1',
 *     accessToken: 'token-from-activation',
 *     accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
 *     licenseToken: 'license-token',
 *     licenseTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
 *   }),
 *   save: () => {},
 * };
 * const client = createRelayClientCore({ baseUrl: 'https://relay.example', transport, device: { proof: async () => 'proof' }, tokens });
 *
 * const sent = await client.send({ connection: 'shop-1', idempotencyKey: crypto.randomUUID(), body: { operation: 'order.status', payload: { order: 'A-1' } } });
 * assert.equal(sent.status, 'delivered');
 * ```
 */
export function createRelayClientCore(options: RelayClientCoreOptions): RelayClient {
  checkClientOptions(options);
  if (typeof options.transport !== 'function')
    throw new RelayError(
      'ERR_RELAY_INVALID_ARGUMENT',
      'transport must be a function (request) => Promise<response> (in Node: createRelayClient from @fluxel/relay-client/node builds one)',
    );
  const base = relayBaseUrl(options.baseUrl);
  const baseUrl = base.href.replace(/\/$/, '');
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const attempts = Math.max(1, options.retry?.attempts ?? 4);
  const baseDelay = options.retry?.baseDelayMs ?? 250;
  const maxDelay = options.retry?.maxDelayMs ?? 8000;
  const maxRetryAfter = options.retry?.maxRetryAfterMs ?? 30_000;
  const tokenStore: TokenStore = options.tokens ?? memoryTokens();
  const userAgent = options.userAgent ?? '@fluxel/relay-client';
  const routes = new Map<RouteName, PreparedRoute>();
  for (const name of Object.keys(relayContract) as RouteName[])
    routes.set(name, prepareRoute(relayContract[name] as RouteDefinition, baseUrl));
  let nonce: string | undefined;
  let cachedTokens: StoredTokens | undefined;
  // The access token's expiry, parsed once per token set (not on every call).
  let cachedExpiry = 0;
  let loaded = false;
  let refreshing: Promise<StoredTokens> | undefined;

  function holdTokens(tokens: StoredTokens | undefined): void {
    cachedTokens = tokens;
    cachedExpiry = tokens ? Date.parse(tokens.accessTokenExpiresAt) : 0;
    loaded = true;
  }

  async function currentTokens(): Promise<StoredTokens | undefined> {
    if (!loaded) holdTokens((await tokenStore.load()) ?? undefined);
    return cachedTokens;
  }

  async function keepTokens(tokens: StoredTokens): Promise<void> {
    holdTokens(tokens);
    await tokenStore.save(tokens);
  }

  async function refresh(signal: AbortSignal | undefined): Promise<StoredTokens> {
    refreshing ??= (async () => {
      try {
        const tokens = (await call(
          'refreshToken',
          { body: {} },
          signal ? { signal } : {},
        )) as TokensBody;
        await keepTokens(tokens);
        return tokens;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  /** The access token when it is loaded and fresh (no await on the hot path), else undefined. */
  function freshAccessToken(): string | undefined {
    return loaded && cachedTokens && cachedExpiry - 30_000 > now()
      ? cachedTokens.accessToken
      : undefined;
  }

  async function accessToken(signal: AbortSignal | undefined): Promise<string> {
    const tokens = await currentTokens();
    if (!tokens)
      throw new DeviceProofError(
        'this device is not activated with the relay: call activate() first',
      );
    if (cachedExpiry - 30_000 <= now()) return (await refresh(signal)).accessToken;
    return tokens.accessToken;
  }

  async function call(
    name: RouteName,
    input: Record<string, unknown> = {},
    callOptions: CallOptions = {},
  ): Promise<unknown> {
    const prepared = routes.get(name) as PreparedRoute;
    const route = prepared.route;
    const { url, body, idempotencyKey } = prepare(prepared, input);
    const retrySafe = route.idempotent || idempotencyKey !== undefined;
    const traceId = options.traceparent ? '' : hex(16, random);
    const signal = callOptions.signal;
    let nonceRetries = 0;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const token =
        route.auth === 'device' ? (freshAccessToken() ?? (await accessToken(signal))) : undefined;
      const proof = await options.device.proof({
        method: route.method,
        url,
        ...(token ? { accessToken: token } : {}),
        ...(nonce ? { nonce } : {}),
        ...(body ? { body } : {}),
      });
      const headers: Record<string, string> = {
        accept: 'application/json, application/problem+json',
        dpop: proof,
        traceparent: options.traceparent?.() ?? `00-${traceId}-${hex(8, random)}-01`,
        'user-agent': userAgent,
      };
      if (token) headers.authorization = `DPoP ${token}`;
      if (body) headers['content-type'] = 'application/json';
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;

      let error: RelayError;
      try {
        if (signal?.aborted) throw abortError(signal);
        const response = await options.transport({
          method: route.method,
          url,
          headers,
          body,
          signal,
        });
        const fresh = response.headers['dpop-nonce'];
        if (fresh) nonce = fresh;
        const outcome = interpret(route, response, now);
        if (outcome.ok) {
          if (name === 'activate' || name === 'refreshToken')
            await keepTokens(outcome.value as TokensBody);
          return outcome.value;
        }
        error = outcome.error;
      } catch (thrown) {
        error = RelayError.isInstance(thrown)
          ? thrown
          : new RelayError('ERR_RELAY_CONNECTION', 'the request failed', { cause: thrown });
      }

      // Typed by the contract's problem codes: a misspelt code below does not compile.
      const code = relayProblemCode(error.problem);
      if (
        error.status === 401 &&
        code === 'ERR_DPOP_NONCE_REQUIRED' &&
        nonce &&
        nonceRetries < MAX_NONCE_RETRIES
      ) {
        nonceRetries++;
        attempt--;
        continue;
      }
      if (
        error.status === 401 &&
        code === 'ERR_LICENSE_TOKEN_EXPIRED' &&
        route.auth === 'device' &&
        !refreshed
      ) {
        refreshed = true;
        await refresh(signal);
        attempt--;
        continue;
      }
      if (!error.retryable || !retrySafe || attempt >= attempts || signal?.aborted) throw error;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > maxRetryAfter) throw error;
      const backoff = random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      await sleep(Math.max(backoff, error.retryAfterMs ?? 0), signal);
    }
  }

  function prepare(prepared: PreparedRoute, input: Record<string, unknown>) {
    const { route } = prepared;
    let url = prepared.url;
    if (route.params) {
      const params = validate(
        route.params,
        pick(input, prepared.paramKeys),
        'path parameters',
      ) as Record<string, string>;
      url = baseUrl + routePath(route, params);
    }
    const query = route.query
      ? validate(route.query, pick(input, prepared.queryKeys), 'query')
      : undefined;
    const body = route.body === undefined ? undefined : validate(route.body, input.body, 'body');
    const idempotencyKey = route.idempotencyKey ? uuidKey(input.idempotencyKey) : undefined;
    if (query) {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query as Record<string, unknown>))
        if (value !== undefined) search.set(key, String(value));
      const text = search.toString();
      if (text) url += `?${text}`;
    }
    return {
      url,
      body: body === undefined ? undefined : utf8(JSON.stringify(body)),
      idempotencyKey,
    };
  }

  const client: Record<string, unknown> = {
    tokens: () => currentTokens(),
  };
  for (const name of Object.keys(relayContract) as RouteName[]) {
    const method = (input?: Record<string, unknown>, callOptions?: CallOptions) =>
      call(name, input, callOptions);
    method.safe = async (input?: Record<string, unknown>, callOptions?: CallOptions) => {
      try {
        return { ok: true, value: await call(name, input, callOptions) };
      } catch (error) {
        if (RelayError.isInstance(error)) return { ok: false, error };
        throw error;
      }
    };
    client[name] = method;
  }
  return client as RelayClient;
}

const decoder = new TextDecoder();

function interpret(
  route: RouteDefinition,
  response: HttpResponse,
  now: () => number,
): Result<unknown> {
  const declared = route.responses[response.status];
  const text = response.body.length ? decoder.decode(response.body) : '';
  let json: unknown;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (response.status >= 400) {
    const parsed = Problem.safeParse(json);
    const problem: ProblemDetails | undefined = parsed.success
      ? (parsed.data as ProblemDetails)
      : undefined;
    const retryAfterMs = retryAfter(response.headers['retry-after'], problem?.retryAfter, now);
    const error = toError(response.status, problem, retryAfterMs);
    if (declared === undefined) {
      return {
        ok: false,
        error: new UnexpectedStatusError(
          `the relay answered ${response.status}, which the contract does not declare for ${route.name}`,
          {
            status: response.status,
            retryable: response.status >= 500,
            ...(problem ? { problem } : {}),
            ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          },
        ),
      };
    }
    return { ok: false, error };
  }
  if (declared === undefined) {
    return {
      ok: false,
      error: new UnexpectedStatusError(
        `the relay answered ${response.status}, which the contract does not declare for ${route.name}`,
        {
          status: response.status,
        },
      ),
    };
  }
  if (declared === null) return { ok: true, value: undefined };
  const checked = (declared as z.ZodType).safeParse(json);
  if (!checked.success) {
    return {
      ok: false,
      error: new ResponseValidationError(
        `the relay's ${response.status} answer to ${route.name} does not match the contract: ${issues(checked.error)}`,
        {
          status: response.status,
          cause: checked.error,
        },
      ),
    };
  }
  return { ok: true, value: checked.data };
}

export function toError(
  status: number,
  problem: ProblemDetails | undefined,
  retryAfterMs: number | undefined,
): RelayError {
  const detail = problem?.detail ?? problem?.title ?? `HTTP ${status}`;
  const extra = {
    status,
    ...(problem ? { problem } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  switch (status) {
    case 400:
    case 413:
    case 415:
      return new RequestValidationError(`the relay refused the request: ${detail}`, extra);
    case 401:
      return new DeviceProofError(`the relay refused the device proof or token: ${detail}`, extra);
    case 403:
      return new RelayError('ERR_RELAY_UNAUTHORIZED', `the relay refused: ${detail}`, {
        ...extra,
        retryable: false,
      });
    case 404:
      return new RelayError('ERR_RELAY_NOT_FOUND', `not found: ${detail}`, extra);
    case 409:
      return new IdempotencyConflictError(`idempotency conflict: ${detail}`, extra);
    case 429:
      return new RelayError('ERR_RELAY_RATE_LIMITED', `rate limited: ${detail}`, {
        ...extra,
        retryable: true,
      });
    case 503:
      return new UpstreamUnavailableError(`unavailable: ${detail}`, {
        ...extra,
        retryable: problem?.retryable ?? true,
      });
    default:
      return new RelayError('ERR_RELAY_PROBLEM', `the relay answered ${status}: ${detail}`, {
        ...extra,
        retryable: problem?.retryable ?? status >= 500,
      });
  }
}

/**
 * Retry-After (seconds or HTTP date) or the problem's `retryAfter`, in milliseconds.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { retryAfter } from '@fluxel/relay-client';
 *
 * assert.equal(retryAfter('120', undefined, Date.now), 120_000);
 * assert.equal(retryAfter(undefined, 5, Date.now), 5_000);
 * assert.equal(retryAfter(undefined, undefined, Date.now), undefined);
 * ```
 */
export function retryAfter(
  header: string | undefined,
  fromProblem: number | undefined,
  now: () => number,
): number | undefined {
  if (header !== undefined && header.trim() !== '') {
    const trimmed = header.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now());
  }
  return fromProblem === undefined ? undefined : fromProblem * 1000;
}

function validate(schema: z.ZodType, value: unknown, what: string): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new RequestValidationError(
      `the ${what} do not match the contract: ${issues(result.error)}`,
      { cause: result.error },
    );
  }
  return result.data;
}

// Paths and messages only: values (a license key, a credential) never go into an error.
function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function pick(input: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (input[key] !== undefined) out[key] = input[key];
  return out;
}

/** What the client computes once per route instead of on every call. */
interface PreparedRoute {
  readonly route: RouteDefinition;
  /** The full URL of a route without path parameters (else unused). */
  readonly url: string;
  readonly paramKeys: readonly string[];
  readonly queryKeys: readonly string[];
}

function prepareRoute(route: RouteDefinition, baseUrl: string): PreparedRoute {
  return {
    route,
    url: route.params ? '' : baseUrl + route.path,
    paramKeys: route.params ? Object.keys(route.params.shape) : [],
    queryKeys: route.query ? Object.keys(route.query.shape) : [],
  };
}

// The contract's IdempotencyKey (z.uuid()) as a plain check: same acceptance, no zod
// machinery on every send. Anything else goes through zod for its error message.
const UUID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

function uuidKey(value: unknown): string {
  if (typeof value === 'string' && UUID.test(value)) return value;
  return validate(IdempotencyKey, value, 'idempotencyKey') as string;
}

function memoryTokens(): TokenStore {
  let tokens: StoredTokens | undefined;
  return {
    load: () => tokens,
    save: (next) => {
      tokens = next;
    },
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ALL_ZERO = /^0+$/;

function hex(bytes: number, random: () => number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += HEX[Math.floor(random() * 256)];
  return ALL_ZERO.test(out) ? `${out.slice(1)}1` : out;
}

function abortError(signal: AbortSignal): RelayError {
  return new RelayError('ERR_RELAY_ABORTED', 'the request was aborted', {
    cause: signal.reason,
    retryable: false,
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export type { RelayContract };
