/** A small client of the relay's LicenseAdmin gRPC API (TLS with the dev CA, bearer token). */

import { fileURLToPath } from 'node:url';
import { LICENSE_ADMIN_PROTO } from '@fluxel/license/admin';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';

export interface AdminLicense {
  readonly id: string;
  readonly tenant: string;
  readonly product: string;
  readonly status: string;
  readonly device_jkt?: string;
  readonly activated_at?: string;
  readonly locked_reason?: string;
}

type Unary = (
  req: Record<string, unknown>,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void,
) => void;

export interface LicenseAdminClient {
  create(input: {
    tenant: string;
    product: string;
    entitlements?: string[];
  }): Promise<{ license: AdminLicense; licenseKey: string }>;
  lock(id: string, reason: string): Promise<AdminLicense>;
  unlock(id: string): Promise<AdminLicense>;
  rebind(id: string): Promise<Record<string, unknown>>;
  get(id: string): Promise<AdminLicense>;
  list(tenant?: string): Promise<AdminLicense[]>;
  /** Raw call (e.g. with another token) for tests. */
  call(
    method: string,
    req: Record<string, unknown>,
    token?: string,
  ): Promise<Record<string, unknown>>;
  close(): void;
}

export function licenseAdminClient(address: string, token: string, ca: string): LicenseAdminClient {
  const definition = loader.loadSync(fileURLToPath(LICENSE_ADMIN_PROTO), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as Record<string, unknown>;
  const Service = findService(pkg, 'LicenseAdmin');
  const client = new Service(address, grpc.credentials.createSsl(Buffer.from(ca))) as grpc.Client &
    Record<string, Unary>;
  const call = (method: string, req: Record<string, unknown>, bearer = token) =>
    new Promise<Record<string, unknown>>((done, fail) => {
      const meta = new grpc.Metadata();
      if (bearer) meta.set('authorization', `Bearer ${bearer}`);
      (client[method] as Unary).call(
        client,
        req,
        meta,
        { deadline: Date.now() + 15_000 },
        (e, r) => (e ? fail(e) : done(r)),
      );
    });
  return {
    async create(input) {
      const r = await call('Create', { entitlements: [], ...input });
      return { license: r.license as AdminLicense, licenseKey: String(r.license_key) };
    },
    lock: async (id, reason) => (await call('Lock', { id, reason })) as unknown as AdminLicense,
    unlock: async (id) => (await call('Unlock', { id })) as unknown as AdminLicense,
    rebind: (id) => call('Rebind', { id }),
    get: async (id) => (await call('Get', { id })) as unknown as AdminLicense,
    async list(tenant) {
      const r = await call('List', tenant ? { tenant } : {});
      return (r.licenses as AdminLicense[] | undefined) ?? [];
    },
    call,
    close: () => client.close(),
  };
}

type ServiceCtor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

function findService(node: Record<string, unknown>, name: string): ServiceCtor {
  for (const [key, value] of Object.entries(node)) {
    if (key === name && typeof value === 'function') return value as ServiceCtor;
    if (value && typeof value === 'object') {
      try {
        return findService(value as Record<string, unknown>, name);
      } catch {}
    }
  }
  throw new Error(`service ${name} not found in the proto`);
}
