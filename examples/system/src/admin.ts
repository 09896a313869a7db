/** A small client of the relay's LicenseAdmin gRPC API (TLS with the dev CA, bearer token). */

import { licenseAdminClient as typedAdminClient } from '@fluxel/license/admin';
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
  const client = typedAdminClient({
    grpc,
    protoLoader: loader,
    address,
    credentials: grpc.credentials.createSsl(Buffer.from(ca)),
    token,
  });
  const methods = {
    Create: client.create,
    Lock: client.lock,
    Unlock: client.unlock,
    Rebind: client.rebind,
    Get: client.get,
    List: client.list,
  } as unknown as Record<
    string,
    (req: Record<string, unknown>, o: { token: string }) => Promise<Record<string, unknown>>
  >;
  const call = (method: string, req: Record<string, unknown>, bearer = token) => {
    const fn = methods[method];
    if (!fn) throw new Error(`no LicenseAdmin method ${method}`);
    return fn(req, { token: bearer });
  };
  return {
    async create(input) {
      const r = await client.create(input);
      return { license: r.license, licenseKey: r.license_key };
    },
    lock: (id, reason) => client.lock({ id, reason }),
    unlock: (id) => client.unlock({ id }),
    rebind: async (id) => ({ ...(await client.rebind({ id })) }),
    get: (id) => client.get({ id }),
    list: async (tenant) => (await client.list(tenant ? { tenant } : {})).licenses,
    call,
    close: () => client.close(),
  };
}
