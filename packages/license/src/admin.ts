/**
 * `@fluxel/license/admin`: the LicenseAdmin gRPC service (Create, Lock, Unlock, Rebind, Get,
 * List) mapped onto a `LicenseAuthority`, and a typed client of it. The `.proto` ships with
 * the package (`@fluxel/license/license_admin.proto`); the same description is built in
 * ({@link licenseAdminDescriptor}), so nothing reads a file and the module imports on any
 * runtime. The server handlers and the client work with `@grpc/grpc-js` without this package
 * depending on it.
 *
 * @packageDocumentation
 */

export {
  LICENSE_ADMIN_SERVICE,
  licenseAdminDescriptor,
  licenseAdminProtoUrl,
  type ProtoNamespaceJson,
} from './admin-proto.js';
export {
  type GrpcJsModule,
  type GrpcModules,
  type LicenseAdminCallOptions,
  type LicenseAdminClient,
  type LicenseAdminClientOptions,
  type LicenseAdminServiceConstructor,
  licenseAdminClient,
  licenseAdminService,
  type ProtoLoaderModule,
} from './lib/admin-client.js';
export {
  type AdminAuthority,
  type AdminCallEvent,
  type AdminCreateRequest,
  type AdminCreateResponse,
  type AdminListRequest,
  type AdminListResponse,
  type AdminRebindResponse,
  createLicenseAdminHandlers,
  type GrpcError,
  GrpcStatus,
  type Handler,
  type LicenseAdminHandlers,
  type LicenseAdminOptions,
  type LicenseMessage,
  type UnaryCall,
  type UnaryCallback,
} from './lib/admin-handlers.js';
export type { IssueLicenseInput, LicenseInfo, ListLicensesInput } from './lib/authority.js';
export type { LicenseState } from './lib/store.js';
