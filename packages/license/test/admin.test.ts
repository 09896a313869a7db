/** LicenseAdmin over real gRPC: @grpc/grpc-js server and client, the shipped .proto. */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminCallEvent,
  createLicenseAdminHandlers,
  LICENSE_ADMIN_PROTO,
} from '../src/admin.ts';
import { MemoryLicenseStore } from '../src/store.ts';
import { Device, harness } from './helpers.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void,
) => void;
let server: grpc.Server;
let client: grpc.Client & Record<string, Unary>;
const calls: AdminCallEvent[] = [];
let h: Awaited<ReturnType<typeof harness>>;

function call(
  method: string,
  request: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<Record<string, unknown>> {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    (client[method] as Unary).call(client, request, metadata, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

beforeAll(async () => {
  h = await harness(new MemoryLicenseStore());
  const definition = protoLoader.loadSync(fileURLToPath(LICENSE_ADMIN_PROTO), {
    keepCase: true,
    defaults: true,
  });
  const proto = grpc.loadPackageDefinition(definition) as unknown as {
    fluxel: { license: { v1: { LicenseAdmin: grpc.ServiceClientConstructor } } };
  };
  const service = proto.fluxel.license.v1.LicenseAdmin;
  server = new grpc.Server();
  server.addService(
    service.service,
    createLicenseAdminHandlers(h.authority, {
      authorize(unary) {
        const [value] = unary.metadata.get('authorization');
        if (value !== `Bearer ${ADMIN_TOKEN}`) throw new Error('a valid admin token is required');
        return 'web-shop';
      },
      onCall: (event) => {
        calls.push(event);
      },
    }) as unknown as grpc.UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  client = new service(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as typeof client;
});

afterAll(() => {
  client?.close();
  server?.forceShutdown();
});

describe('LicenseAdmin over gRPC', () => {
  it('Create, Get, Lock, Unlock, Rebind, List — each audited with its actor', async () => {
    const created = await call('Create', {
      tenant: 'merchant-42',
      product: 'wawi-sync',
      entitlements: ['orders'],
      expires_at: '',
    });
    const license = created.license as Record<string, unknown>;
    expect(license).toMatchObject({ tenant: 'merchant-42', status: 'issued', device_jkt: '' });
    expect(created.license_key).toMatch(/^FLX-/);

    const device = await Device.create(h.clock);
    await device.activate(h.authority, created.license_key as string);
    expect(await call('Get', { id: license.id })).toMatchObject({
      status: 'active',
      device_jkt: device.signer.jkt,
    });

    expect(await call('Lock', { id: license.id, reason: 'chargeback' })).toMatchObject({
      status: 'locked',
      locked_reason: 'chargeback',
    });
    await expect(
      h.authority.verifyRequest(await device.request('GET', '/v1/mailbox')),
    ).rejects.toMatchObject({ code: 'ERR_LICENSE_LOCKED' });
    expect(await call('Unlock', { id: license.id })).toMatchObject({ status: 'active' });

    const rebound = await call('Rebind', { id: license.id });
    expect(rebound.rebind_code).toMatch(/^FLXRB-/);
    expect(rebound.license).toMatchObject({ status: 'rebinding', device_jkt: '' });

    const page = await call('List', {
      tenant: 'merchant-42',
      status: '',
      page_size: 10,
      page_token: '',
    });
    expect((page.licenses as unknown[]).length).toBe(1);
    expect(calls.filter((c) => c.outcome === 'success').map((c) => c.method)).toEqual([
      'Create',
      'Get',
      'Lock',
      'Unlock',
      'Rebind',
      'List',
    ]);
    expect(calls.every((c) => c.actor === 'web-shop')).toBe(true);
    expect(h.events.find((e) => e.action === 'license.lock')).toMatchObject({
      actor: 'web-shop',
      reason: 'chargeback',
    });
  });

  it('refuses calls without a valid token (UNAUTHENTICATED) and audits the attempt', async () => {
    await expect(call('Get', { id: 'x' }, null)).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    await expect(call('Create', { tenant: 't', product: 'p' }, 'wrong')).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    expect(calls.filter((c) => c.outcome === 'denied').map((c) => c.method)).toEqual([
      'Get',
      'Create',
    ]);
    expect((await h.authority.list()).licenses.filter((l) => l.tenant === 't')).toHaveLength(0);
  });

  it('maps errors to gRPC status codes without leaking internals', async () => {
    await expect(call('Get', { id: 'does-not-exist' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await expect(call('Create', { tenant: '', product: 'p' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(
      call('Create', { tenant: 't', product: 'p', expires_at: 'next tuesday' }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(call('List', { status: 'weird' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    const fresh = await call('Create', { tenant: 't2', product: 'p' });
    await expect(
      call('Rebind', { id: (fresh.license as { id: string }).id }),
    ).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });
});
