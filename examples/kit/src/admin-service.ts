/**
 * The relay's admin gRPC API as a service definition: `LicenseAdmin` as `@fluxel/license/admin`
 * describes it (Create, Lock, Unlock, Rebind, Get, List). The relay serves it, the portal calls
 * it; both load it here, so they always agree on the service.
 */
import {
  type LicenseAdminClient,
  type LicenseAdminClientOptions,
  licenseAdminClient,
  licenseAdminService as load,
} from '@fluxel/license/admin';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

/** The loaded `LicenseAdmin` service definition (also what a grpc-js client is built from). */
export function licenseAdminService(): grpc.ServiceClientConstructor {
  return load<grpc.ServiceClientConstructor>({ grpc, protoLoader: loader });
}

/** A typed LicenseAdmin client (`licenseAdminClient` of `@fluxel/license/admin` over grpc-js). */
export function adminClient(
  options: Omit<LicenseAdminClientOptions, 'grpc' | 'protoLoader'>,
): LicenseAdminClient {
  return licenseAdminClient({ grpc, protoLoader: loader, ...options });
}
