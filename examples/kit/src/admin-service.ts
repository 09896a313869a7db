/**
 * The relay's admin gRPC API as a service definition: `LicenseAdmin` from the proto that
 * `@fluxel/license/admin` ships (Create, Lock, Unlock, Rebind, Get, List). The relay serves it,
 * the portal calls it; both load it here, so they always agree on the service.
 */
import { fileURLToPath } from 'node:url';
import { LICENSE_ADMIN_PROTO } from '@fluxel/license/admin';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

interface ServiceDefinitionTree {
  fluxel: { license: { v1: { LicenseAdmin: grpc.ServiceClientConstructor } } };
}

/** The loaded `LicenseAdmin` service definition (also what a grpc-js client is built from). */
export function licenseAdminService(): grpc.ServiceClientConstructor {
  const definition = loader.loadSync(fileURLToPath(LICENSE_ADMIN_PROTO), {
    keepCase: true,
    defaults: true,
  });
  return (grpc.loadPackageDefinition(definition) as unknown as ServiceDefinitionTree).fluxel.license
    .v1.LicenseAdmin;
}
