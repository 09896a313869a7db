/**
 * The LicenseAdmin gRPC service (Create, Lock, Unlock, Rebind, Get, List) mapped onto a
 * `LicenseAuthority`. The handlers work with `@grpc/grpc-js`
 * (`server.addService(licenseAdminService({ grpc, protoLoader }).service, handlers)`) without
 * this package depending on it.
 */
import type { IssueLicenseInput, LicenseInfo, ListLicensesInput } from './authority.js';
import { LicenseError } from './errors.js';

/**
 * What the admin service needs of a `LicenseAuthority` (which satisfies it).
 *
 * @example
 * ```ts
 * import type { AdminAuthority } from '@fluxel/license/admin';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const admin: AdminAuthority = authority; // a LicenseAuthority is one; a stand-in works in tests
 * console.log((await admin.list()).licenses.length); // 0
 * ```
 */
export interface AdminAuthority {
  issue(input: IssueLicenseInput): Promise<{ license: LicenseInfo; key: string }>;
  lock(id: string, options?: { reason?: string; actor?: string }): Promise<LicenseInfo>;
  unlock(id: string, options?: { actor?: string }): Promise<LicenseInfo>;
  rebind(
    id: string,
    options?: { actor?: string },
  ): Promise<{ license: LicenseInfo; rebindCode: string; expiresAt: Date }>;
  get(id: string): Promise<LicenseInfo>;
  list(input?: ListLicensesInput): Promise<{ licenses: LicenseInfo[]; nextCursor: string | null }>;
}

/**
 * gRPC status codes used here (numbers as in every gRPC implementation).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, GrpcStatus, type Handler, type LicenseMessage } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * await assert.rejects(invoke<{ id: string }, LicenseMessage>(handlers.Get, { id: 'lic_missing' }), {
 *   code: GrpcStatus.NOT_FOUND, // 5
 * });
 * ```
 */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * The error passed to a gRPC callback.
 *
 * @example
 * ```ts
 * import type { GrpcError, UnaryCallback } from '@fluxel/license/admin';
 *
 * const callback: UnaryCallback<unknown> = (error: GrpcError | null) => {
 *   if (error) console.log(error.code, error.details); // e.g. 5 'no such license'
 * };
 * callback({ code: 5, details: 'no such license', message: '5 NOT_FOUND: no such license' });
 * ```
 */
export interface GrpcError {
  readonly code: number;
  readonly details: string;
  readonly message: string;
}

/**
 * A unary call as grpc-js passes it, reduced to what the handlers read.
 *
 * @example
 * ```ts
 * import { createLicenseAdminHandlers, type UnaryCall } from '@fluxel/license/admin';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * // Authorize by bearer token in the call's metadata (or by the mTLS peer).
 * const authorize = (call: UnaryCall<unknown>): string => {
 *   const [value] = call.metadata.get('authorization');
 *   if (value !== 'Bearer admin-token') throw new Error('not authenticated');
 *   return 'ops@example';
 * };
 * createLicenseAdminHandlers(authority, { authorize });
 * console.log(authorize({ request: {}, metadata: { get: () => ['Bearer admin-token'] } })); // 'ops@example'
 * ```
 */
export interface UnaryCall<Request> {
  readonly request: Request;
  readonly metadata: { get(key: string): unknown[] };
  getPeer?(): string;
}

/**
 * A unary callback as grpc-js passes it.
 *
 * @example
 * ```ts
 * import type { LicenseMessage, UnaryCallback } from '@fluxel/license/admin';
 *
 * const print: UnaryCallback<LicenseMessage> = (error, license) => {
 *   if (error) console.error(error.details);
 *   else console.log(license?.status);
 * };
 * print({ code: 5, details: 'no such license', message: 'no such license' });
 * ```
 */
export type UnaryCallback<Response> = (error: GrpcError | null, response?: Response) => void;

/**
 * The License message. Timestamps are RFC 3339 strings; empty means none.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type Handler, type LicenseMessage } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const { license } = await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 * });
 * const message: LicenseMessage = await invoke<{ id: string }, LicenseMessage>(handlers.Get, { id: license.id });
 * console.log(message.status, message.device_jkt === ''); // 'issued' true
 * ```
 */
export interface LicenseMessage {
  id: string;
  tenant: string;
  product: string;
  entitlements: string[];
  status: string;
  locked_reason: string;
  device_jkt: string;
  created_at: string;
  activated_at: string;
  expires_at: string;
  last_seen_at: string;
  /** What the bound device said about itself; empty when it did not (or none is bound). */
  device_host_name: string;
  device_agent_version: string;
  /** The client IP of the last-seen request; empty when unknown. */
  last_ip: string;
}

/**
 * The CreateRequest message.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type Handler } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const request: AdminCreateRequest = {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 *   expires_at: '2027-12-31T23:59:59Z',
 * };
 * const created = await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, request);
 * console.log(created.license.expires_at);
 * ```
 */
export interface AdminCreateRequest {
  /** The customer the license belongs to. */
  tenant: string;
  /** The product licensed. */
  product: string;
  /** Feature names the license grants. */
  entitlements?: string[];
  /** RFC 3339; empty or absent for no expiry. */
  expires_at?: string;
}

/**
 * The CreateResponse message: the license key is shown this once.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type Handler } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const response: AdminCreateResponse = await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 * });
 * console.log(response.license_key.startsWith('FLX-')); // true — hand the key to its owner once; never log it
 * ```
 */
export interface AdminCreateResponse {
  license: LicenseMessage;
  /** The license key; only its keyed hash is stored, so this is the one chance to show it. */
  license_key: string;
}

/**
 * The RebindResponse message.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type AdminRebindResponse, type Handler } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const { license } = await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 * });
 * // a license never activated has no device to unbind
 * await assert.rejects(invoke<{ id: string }, AdminRebindResponse>(handlers.Rebind, { id: license.id }), {
 *   code: 9, // FAILED_PRECONDITION
 * });
 * ```
 */
export interface AdminRebindResponse {
  license: LicenseMessage;
  /** The one-time code the replacement device activates with. */
  rebind_code: string;
  /** When the code expires (RFC 3339). */
  expires_at: string;
}

/**
 * The ListRequest message (empty strings and 0 mean "any" and the default page size).
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminListRequest, type AdminListResponse, type Handler } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const request: AdminListRequest = { tenant: 'merchant-42', status: 'active', page_size: 50, page_token: '' };
 * const page = await invoke<AdminListRequest, AdminListResponse>(handlers.List, request);
 * console.log(page.licenses.length); // 0
 * ```
 */
export interface AdminListRequest {
  /** Only this tenant's licenses. */
  tenant: string;
  /** `issued`, `active`, `rebinding` or `locked`. */
  status: string;
  /** 1–1000 (0: 100). */
  page_size: number;
  /** `next_page_token` of the previous page. */
  page_token: string;
}

/**
 * The ListResponse message.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type AdminListRequest, type AdminListResponse, type Handler } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, { tenant: 'merchant-42', product: 'wawi-sync' });
 * const page: AdminListResponse = await invoke<AdminListRequest, AdminListResponse>(handlers.List, {
 *   tenant: '',
 *   status: '',
 *   page_size: 0,
 *   page_token: '',
 * });
 * console.log(page.licenses.length, page.next_page_token === ''); // 1 true
 * ```
 */
export interface AdminListResponse {
  licenses: LicenseMessage[];
  /** Empty on the last page. */
  next_page_token: string;
}

/**
 * A unary handler as grpc-js calls it.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type Handler, type LicenseMessage } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const get: Handler<{ id: string }, LicenseMessage> = handlers.Get;
 * await invoke(get, { id: 'lic_missing' }).catch((error: { details: string }) => console.log(error.details));
 * ```
 */
export type Handler<Req, Res> = (call: UnaryCall<Req>, callback: UnaryCallback<Res>) => void;

/**
 * The service implementation.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { createLicenseAdminHandlers, type LicenseAdminHandlers, licenseAdminService } from '@fluxel/license/admin';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers: LicenseAdminHandlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * const server = new grpc.Server();
 * server.addService(
 *   licenseAdminService<grpc.ServiceClientConstructor>({ grpc, protoLoader }).service,
 *   handlers as unknown as grpc.UntypedServiceImplementation,
 * );
 * // then server.bindAsync('0.0.0.0:7443', credentials, …) in the relay
 * server.forceShutdown();
 * ```
 */
export interface LicenseAdminHandlers {
  Create: Handler<AdminCreateRequest, AdminCreateResponse>;
  Lock: Handler<{ id: string; reason: string }, LicenseMessage>;
  Unlock: Handler<{ id: string }, LicenseMessage>;
  Rebind: Handler<{ id: string }, AdminRebindResponse>;
  Get: Handler<{ id: string }, LicenseMessage>;
  List: Handler<AdminListRequest, AdminListResponse>;
  [method: string]: Handler<never, unknown>;
}

/**
 * One admin call, for the audit log.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCallEvent, type Handler, type LicenseMessage } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const events: AdminCallEvent[] = [];
 * const audited = createLicenseAdminHandlers(authority, {
 *   authorize: () => 'ops@example',
 *   onCall: (event) => void events.push(event), // e.g. to @fluxel/audit
 * });
 * await invoke<{ id: string }, LicenseMessage>(audited.Get, { id: 'lic_missing' }).catch(() => undefined);
 * console.log(events[0]); // { method: 'Get', actor: 'ops@example', outcome: 'failure', code: 'ERR_LICENSE_NOT_FOUND' }
 * ```
 */
export interface AdminCallEvent {
  readonly method: string;
  readonly actor: string | undefined;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly code?: string;
  readonly peer?: string;
  readonly licenseId?: string;
}

/**
 * Options of {@link createLicenseAdminHandlers}.
 *
 * @example
 * ```ts
 * import { createLicenseAdminHandlers, type LicenseAdminOptions } from '@fluxel/license/admin';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const options: LicenseAdminOptions = {
 *   authorize(call) {
 *     const [value] = call.metadata.get('authorization');
 *     if (value !== 'Bearer admin-token') throw new Error('not authenticated'); // UNAUTHENTICATED
 *     return 'ops@example';
 *   },
 *   onCall: (event) => console.log(event.method, event.outcome),
 * };
 * createLicenseAdminHandlers(authority, options);
 * ```
 */
export interface LicenseAdminOptions {
  /**
   * Decides who is calling (e.g. from mTLS peer or a bearer token in metadata) and returns
   * that actor's name; throw to refuse (the call fails UNAUTHENTICATED). Required: an
   * unauthenticated admin API is never the default.
   */
  authorize(call: UnaryCall<unknown>): string | Promise<string>;
  /** Receives every call, for the audit log. */
  onCall?(event: AdminCallEvent): void | Promise<void>;
}

/**
 * Creates the LicenseAdmin service implementation.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 * import { createLicenseAdminHandlers, type AdminCreateRequest, type AdminCreateResponse, type Handler, type LicenseMessage } from '@fluxel/license/admin';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const handlers = createLicenseAdminHandlers(authority, { authorize: () => 'ops@example' });
 * // grpc-js calls the handlers; here they are called directly, as grpc-js would.
 * const metadata = { get: (): unknown[] => [] };
 * const invoke = <Req, Res>(handler: Handler<Req, Res>, request: Req) =>
 *   new Promise<Res>((resolve, reject) =>
 *     handler({ request, metadata }, (error, response) => (error ? reject(error) : resolve(response as Res))),
 *   );
 *
 * const { license, license_key } = await invoke<AdminCreateRequest, AdminCreateResponse>(handlers.Create, {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders'],
 * });
 * assert.match(license_key, /^FLX-/);
 * const locked = await invoke<{ id: string; reason: string }, LicenseMessage>(handlers.Lock, {
 *   id: license.id,
 *   reason: 'chargeback',
 * });
 * assert.equal(locked.status, 'locked');
 * ```
 */
export function createLicenseAdminHandlers(
  authority: AdminAuthority,
  options: LicenseAdminOptions,
): LicenseAdminHandlers {
  function unary<Req, Res>(
    method: string,
    run: (request: Req, actor: string) => Promise<Res>,
  ): Handler<Req, Res> {
    return (call, callback) => {
      const peer = call.getPeer?.();
      const base = { method, ...(peer ? { peer } : {}) };
      const report = (event: AdminCallEvent) =>
        Promise.resolve(options.onCall?.(event)).catch(() => undefined);
      Promise.resolve()
        .then(() => options.authorize(call as UnaryCall<unknown>))
        .then(
          async (actor) => {
            try {
              const response = await run(call.request, actor);
              const licenseId = (call.request as { id?: string }).id;
              await report({
                ...base,
                actor,
                outcome: 'success',
                ...(licenseId ? { licenseId } : {}),
              });
              callback(null, response);
            } catch (error) {
              const status = toStatus(error);
              await report({ ...base, actor, outcome: 'failure', code: status.code_name });
              callback(status.error);
            }
          },
          async (error: unknown) => {
            await report({ ...base, actor: undefined, outcome: 'denied' });
            const message = error instanceof Error ? error.message : 'not authenticated';
            callback(grpcError(GrpcStatus.UNAUTHENTICATED, message));
          },
        );
    };
  }

  return {
    Create: unary('Create', async (req, actor) => {
      const { license, key } = await authority.issue({
        tenant: req.tenant,
        product: req.product,
        entitlements: req.entitlements ?? [],
        expiresAt: parseTime(req.expires_at),
        actor,
      });
      return { license: toMessage(license), license_key: key };
    }),
    Lock: unary('Lock', async (req, actor) =>
      toMessage(
        await authority.lock(req.id, { actor, ...(req.reason ? { reason: req.reason } : {}) }),
      ),
    ),
    Unlock: unary('Unlock', async (req, actor) =>
      toMessage(await authority.unlock(req.id, { actor })),
    ),
    Rebind: unary('Rebind', async (req, actor) => {
      const result = await authority.rebind(req.id, { actor });
      return {
        license: toMessage(result.license),
        rebind_code: result.rebindCode,
        expires_at: result.expiresAt.toISOString(),
      };
    }),
    Get: unary('Get', async (req) => toMessage(await authority.get(req.id))),
    List: unary('List', async (req) => {
      const status = req.status || undefined;
      if (status !== undefined && !['issued', 'active', 'rebinding', 'locked'].includes(status)) {
        throw new LicenseError(
          'ERR_LICENSE_INVALID_ARGUMENT',
          'status must be issued, active, rebinding or locked',
        );
      }
      const page = await authority.list({
        limit: req.page_size || 100,
        ...(req.tenant ? { tenant: req.tenant } : {}),
        ...(status ? { status: status as LicenseInfo['status'] } : {}),
        ...(req.page_token ? { cursor: req.page_token } : {}),
      });
      return { licenses: page.licenses.map(toMessage), next_page_token: page.nextCursor ?? '' };
    }),
  } as LicenseAdminHandlers;
}

function parseTime(value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      'expires_at must be an RFC 3339 timestamp',
    );
  }
  return date;
}

function toMessage(license: LicenseInfo): LicenseMessage {
  const time = (d: Date | null) => (d ? d.toISOString() : '');
  return {
    id: license.id,
    tenant: license.tenant,
    product: license.product,
    entitlements: [...license.entitlements],
    status: license.status,
    locked_reason: license.lockedReason ?? '',
    device_jkt: license.device?.jkt ?? '',
    created_at: license.createdAt.toISOString(),
    activated_at: time(license.activatedAt),
    expires_at: time(license.expiresAt),
    last_seen_at: time(license.lastSeenAt),
    device_host_name: license.device?.hostName ?? '',
    device_agent_version: license.device?.agentVersion ?? '',
    last_ip: license.lastIp ?? '',
  };
}

function grpcError(code: number, details: string): GrpcError {
  return { code, details, message: details };
}

function toStatus(error: unknown): { error: GrpcError; code_name: string } {
  if (!LicenseError.isInstance(error)) {
    return { error: grpcError(GrpcStatus.INTERNAL, 'internal error'), code_name: 'INTERNAL' };
  }
  const map: Partial<Record<string, number>> = {
    ERR_LICENSE_INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
    ERR_LICENSE_NOT_FOUND: GrpcStatus.NOT_FOUND,
    ERR_LICENSE_NOT_ACTIVE: GrpcStatus.FAILED_PRECONDITION,
    ERR_LICENSE_CONFLICT: GrpcStatus.ABORTED,
    ERR_LICENSE_STORAGE: GrpcStatus.UNAVAILABLE,
  };
  const code = map[error.code] ?? GrpcStatus.INTERNAL;
  return {
    error: grpcError(code, code === GrpcStatus.INTERNAL ? 'internal error' : error.message),
    code_name: error.code,
  };
}
