/**
 * A typed client of the LicenseAdmin gRPC service, for `@grpc/grpc-js`. The package does not
 * depend on grpc-js: the caller passes the two modules it already has (`@grpc/grpc-js` and
 * `@grpc/proto-loader`), and the service description comes from
 * {@link licenseAdminDescriptor}, so no `.proto` file is read.
 */

import { licenseAdminDescriptor } from '../admin-proto.js';
import type {
  AdminCreateRequest,
  AdminCreateResponse,
  AdminListRequest,
  AdminListResponse,
  AdminRebindResponse,
  LicenseMessage,
} from './admin-handlers.js';
import { LicenseError } from './errors.js';

/**
 * What is used of `@grpc/grpc-js` (pass the module: `import * as grpc from '@grpc/grpc-js'`).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import type { GrpcJsModule } from '@fluxel/license/admin';
 *
 * const module: GrpcJsModule = grpc; // the grpc-js module itself fits
 * console.log(typeof module.loadPackageDefinition); // 'function'
 * ```
 */
export interface GrpcJsModule {
  /** grpc-js's `loadPackageDefinition`. */
  loadPackageDefinition(definition: never): unknown;
  /** grpc-js's `Metadata` class. */
  readonly Metadata: new () => { set(key: string, value: string): void };
}

/**
 * What is used of `@grpc/proto-loader` (pass the module).
 *
 * @example
 * ```ts
 * import * as protoLoader from '@grpc/proto-loader';
 * import type { ProtoLoaderModule } from '@fluxel/license/admin';
 *
 * const module: ProtoLoaderModule = protoLoader; // the proto-loader module itself fits
 * console.log(typeof module.fromJSON); // 'function'
 * ```
 */
export interface ProtoLoaderModule {
  /** proto-loader's `fromJSON`. */
  fromJSON(json: never, options?: never): unknown;
}

/**
 * The modules {@link licenseAdminService} and {@link licenseAdminClient} build on.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { type GrpcModules, licenseAdminService } from '@fluxel/license/admin';
 *
 * const modules: GrpcModules = { grpc, protoLoader };
 * console.log(typeof licenseAdminService(modules)); // 'function', the client constructor
 * ```
 */
export interface GrpcModules {
  /** `import * as grpc from '@grpc/grpc-js'`. */
  readonly grpc: GrpcJsModule;
  /** `import * as protoLoader from '@grpc/proto-loader'`. */
  readonly protoLoader: ProtoLoaderModule;
}

/**
 * The grpc-js service client constructor of LicenseAdmin (`new Service(address, credentials)`;
 * its `.service` is what `server.addService` takes). Messages keep the `.proto`'s snake_case
 * field names, and every field is present (defaults filled in), as the handlers expect.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { type LicenseAdminServiceConstructor, licenseAdminService } from '@fluxel/license/admin';
 *
 * const Service: LicenseAdminServiceConstructor = licenseAdminService({ grpc, protoLoader });
 * const client = new Service('localhost:7443', grpc.credentials.createInsecure()); // connects lazily
 * client.close();
 * ```
 */
export interface LicenseAdminServiceConstructor {
  new (
    address: string,
    credentials: unknown,
    options?: Record<string, unknown>,
  ): Record<string, unknown> & { close(): void };
  readonly service: unknown;
}

/**
 * Loads the LicenseAdmin service for grpc-js, without reading a file. Name grpc-js's type to
 * get it typed as such: `licenseAdminService<grpc.ServiceClientConstructor>(modules)`.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { createLicenseAdminHandlers, licenseAdminService } from '@fluxel/license/admin';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const authorize = () => 'ops@example'; // check the caller's mTLS identity or token here
 * const server = new grpc.Server();
 * server.addService(
 *   licenseAdminService<grpc.ServiceClientConstructor>({ grpc, protoLoader }).service,
 *   createLicenseAdminHandlers(authority, { authorize }) as unknown as grpc.UntypedServiceImplementation,
 * );
 * // then server.bindAsync('0.0.0.0:7443', credentials, …) in the relay
 * server.forceShutdown();
 * ```
 */
export function licenseAdminService<Service = LicenseAdminServiceConstructor>(
  modules: GrpcModules,
): Service {
  const { grpc, protoLoader } = checkModules(modules);
  const fromJSON = protoLoader.fromJSON as (json: unknown, options: unknown) => unknown;
  const definition = fromJSON(licenseAdminDescriptor(), {
    keepCase: true,
    defaults: true,
    longs: String,
  });
  const load = grpc.loadPackageDefinition as (definition: unknown) => unknown;
  const tree = load(definition) as { fluxel: { license: { v1: { LicenseAdmin: Service } } } };
  return tree.fluxel.license.v1.LicenseAdmin;
}

/**
 * Options of {@link licenseAdminClient}.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { licenseAdminClient, type LicenseAdminClientOptions } from '@fluxel/license/admin';
 *
 * const options: LicenseAdminClientOptions = {
 *   grpc,
 *   protoLoader,
 *   address: 'relay.internal:7443',
 *   credentials: grpc.credentials.createSsl(), // pass your CA (and client certificate) here
 *   token: 'admin-token', // sent as `authorization: Bearer admin-token`
 *   timeoutMs: 5_000,
 * };
 * licenseAdminClient(options).close(); // connects on the first call only
 * ```
 */
export interface LicenseAdminClientOptions extends GrpcModules {
  /** `host:port` of the server. */
  readonly address: string;
  /** Channel credentials, e.g. `grpc.credentials.createSsl(ca)` (or with a client certificate). */
  readonly credentials: unknown;
  /**
   * Bearer token, sent as `authorization: Bearer <token>` metadata on every call (the
   * convention of {@link LicenseAdminOptions.authorize}); none when omitted.
   */
  readonly token?: string;
  /** Deadline of each call. Default 15 000 ms. */
  readonly timeoutMs?: number;
  /** grpc-js channel options, e.g. `{ 'grpc.ssl_target_name_override': 'localhost' }`. */
  readonly channelOptions?: Record<string, unknown>;
}

/**
 * Per-call options of a {@link LicenseAdminClient}.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { type LicenseAdminCallOptions, licenseAdminClient } from '@fluxel/license/admin';
 *
 * const admin = licenseAdminClient({
 *   grpc,
 *   protoLoader,
 *   address: 'relay.internal:7443',
 *   credentials: grpc.credentials.createSsl(),
 *   token: 'admin-token',
 * });
 * const urgent: LicenseAdminCallOptions = { timeoutMs: 2_000, token: 'break-glass-token' };
 * // With a server listening: await admin.lock({ id, reason: 'chargeback' }, urgent);
 * const lock = (id: string) => admin.lock({ id, reason: 'chargeback' }, urgent);
 * console.log(typeof lock);
 * admin.close();
 * ```
 */
export interface LicenseAdminCallOptions {
  /** Another bearer token for this call; `null` sends none. */
  readonly token?: string | null;
  /** Deadline of this call. */
  readonly timeoutMs?: number;
}

/**
 * A LicenseAdmin client. Every method resolves with the response message (snake_case, every
 * field present) or rejects with grpc-js's `ServiceError` (`code` is the gRPC status,
 * `details` the server's message; see {@link GrpcStatus}).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { type LicenseAdminClient, licenseAdminClient } from '@fluxel/license/admin';
 *
 * const admin: LicenseAdminClient = licenseAdminClient({
 *   grpc,
 *   protoLoader,
 *   address: 'relay.internal:7443',
 *   credentials: grpc.credentials.createSsl(),
 * });
 * // Every page of one tenant's licenses (runs against a listening server):
 * async function allLicenses(tenant: string) {
 *   const all = [];
 *   let page_token = '';
 *   do {
 *     const page = await admin.list({ tenant, page_token });
 *     all.push(...page.licenses);
 *     page_token = page.next_page_token;
 *   } while (page_token);
 *   return all;
 * }
 * console.log(typeof allLicenses);
 * admin.close();
 * ```
 */
export interface LicenseAdminClient {
  /** Issues a license (`Create`); the response carries the license key, shown this once. */
  create(
    request: AdminCreateRequest,
    options?: LicenseAdminCallOptions,
  ): Promise<AdminCreateResponse>;
  /** Locks (revokes) a license (`Lock`); its next request is refused. */
  lock(
    request: { id: string; reason?: string },
    options?: LicenseAdminCallOptions,
  ): Promise<LicenseMessage>;
  /** Unlocks a license (`Unlock`). */
  unlock(request: { id: string }, options?: LicenseAdminCallOptions): Promise<LicenseMessage>;
  /** Unbinds the device and returns a one-time rebind code (`Rebind`). */
  rebind(request: { id: string }, options?: LicenseAdminCallOptions): Promise<AdminRebindResponse>;
  /** One license (`Get`). */
  get(request: { id: string }, options?: LicenseAdminCallOptions): Promise<LicenseMessage>;
  /** One page of licenses (`List`); pass `next_page_token` as `page_token` for the next. */
  list(
    request?: Partial<AdminListRequest>,
    options?: LicenseAdminCallOptions,
  ): Promise<AdminListResponse>;
  /** Closes the channel. */
  close(): void;
}

type Unary = (
  request: unknown,
  metadata: unknown,
  options: { deadline: number },
  callback: (error: Error | null, response?: unknown) => void,
) => void;

/**
 * Creates a typed LicenseAdmin client over `@grpc/grpc-js`.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import * as protoLoader from '@grpc/proto-loader';
 * import { licenseAdminClient } from '@fluxel/license/admin';
 * const admin = licenseAdminClient({
 *   grpc,
 *   protoLoader,
 *   address: 'relay.internal:7443',
 *   credentials: grpc.credentials.createSsl(), // createSsl(caPem) for a private CA
 *   token: process.env.ADMIN_TOKEN ?? 'admin-token',
 * });
 * // Runs against a listening LicenseAdmin server; the channel connects on the first call.
 * async function issueAndLock() {
 *   const { license, license_key } = await admin.create({ tenant: 'merchant-42', product: 'wawi-sync' });
 *   await admin.lock({ id: license.id, reason: 'chargeback' });
 *   return license_key;
 * }
 * console.log(typeof issueAndLock);
 * admin.close();
 * ```
 */
export function licenseAdminClient(options: LicenseAdminClientOptions): LicenseAdminClient {
  if (typeof options !== 'object' || options === null)
    invalid('licenseAdminClient takes { grpc, protoLoader, address, credentials, token? }');
  const Service = licenseAdminService<LicenseAdminServiceConstructor>(options);
  if (typeof options.address !== 'string' || options.address === '')
    invalid('address must be "host:port" of the LicenseAdmin server');
  if (options.credentials === undefined || options.credentials === null)
    invalid('credentials are required, e.g. grpc.credentials.createSsl(caPem)');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === ''))
    invalid('token must be a non-empty string when given');
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) invalid('timeoutMs must be a positive number');
  const client = new Service(options.address, options.credentials, options.channelOptions ?? {});
  const { Metadata } = options.grpc;

  const call = <Res>(method: string, request: object, callOptions: LicenseAdminCallOptions = {}) =>
    new Promise<Res>((resolve, reject) => {
      const metadata = new Metadata();
      const token = callOptions.token === undefined ? options.token : callOptions.token;
      if (token) metadata.set('authorization', `Bearer ${token}`);
      const deadline = Date.now() + (callOptions.timeoutMs ?? timeoutMs);
      (client[method] as Unary).call(client, request, metadata, { deadline }, (error, response) =>
        error ? reject(error) : resolve(response as Res),
      );
    });

  return {
    create: (request, o) => call('Create', { entitlements: [], ...request }, o),
    lock: (request, o) => call('Lock', request, o),
    unlock: (request, o) => call('Unlock', request, o),
    rebind: (request, o) => call('Rebind', request, o),
    get: (request, o) => call('Get', request, o),
    list: (request = {}, o) => call('List', request, o),
    close: () => client.close(),
  };
}

function checkModules(modules: GrpcModules): GrpcModules {
  if (
    typeof modules?.grpc?.loadPackageDefinition !== 'function' ||
    typeof modules.grpc.Metadata !== 'function'
  )
    invalid("grpc must be the @grpc/grpc-js module: import * as grpc from '@grpc/grpc-js'");
  if (typeof modules.protoLoader?.fromJSON !== 'function')
    invalid(
      "protoLoader must be the @grpc/proto-loader module (≥ 0.6): import * as protoLoader from '@grpc/proto-loader'",
    );
  return modules;
}

function invalid(message: string): never {
  throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', message);
}
