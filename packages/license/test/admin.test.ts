/**
 * LicenseAdmin over real gRPC: a @grpc/grpc-js server built from the shipped .proto file, and
 * the package's own client (`licenseAdminClient`, built from the embedded descriptor) — so the
 * file and the descriptor are checked against each other on the wire too.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminCallEvent,
  createLicenseAdminHandlers,
  type LicenseAdminClient,
  licenseAdminClient,
  licenseAdminDescriptor,
  licenseAdminProtoUrl,
  licenseAdminService,
} from '../src/admin.ts';
import { MemoryLicenseStore } from '../src/lib/store.ts';
import { Device, harness } from './helpers.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

let server: grpc.Server;
let address: string;
let admin: LicenseAdminClient;
const calls: AdminCallEvent[] = [];
let h: Awaited<ReturnType<typeof harness>>;

const METHODS = {
  Create: 'create',
  Lock: 'lock',
  Unlock: 'unlock',
  Rebind: 'rebind',
  Get: 'get',
  List: 'list',
} as const;

function call(
  method: keyof typeof METHODS,
  request: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<Record<string, unknown>> {
  const fn = admin[METHODS[method]] as unknown as (
    request: unknown,
    options: { token: string | null },
  ) => Promise<Record<string, unknown>>;
  return fn(request, { token });
}

beforeAll(async () => {
  h = await harness(new MemoryLicenseStore());
  const definition = protoLoader.loadSync(fileURLToPath(licenseAdminProtoUrl()), {
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
  address = `127.0.0.1:${port}`;
  admin = licenseAdminClient({
    grpc,
    protoLoader,
    address,
    credentials: grpc.credentials.createInsecure(),
    token: ADMIN_TOKEN,
  });
});

afterAll(() => {
  admin?.close();
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

describe('licenseAdminClient (the typed client examples used to build by hand)', () => {
  it('returns typed messages with every field, and sends the bearer token of its options', async () => {
    const { license, license_key } = await admin.create({ tenant: 'typed-1', product: 'p' });
    expect(license_key).toMatch(/^FLX-/);
    expect(license).toMatchObject({ tenant: 'typed-1', entitlements: [], expires_at: '' });
    const locked = await admin.lock({ id: license.id, reason: 'chargeback' });
    expect(locked.status).toBe('locked');
    expect((await admin.unlock({ id: license.id })).status).toBe('issued');
    expect((await admin.get({ id: license.id })).id).toBe(license.id);
    const page = await admin.list({ tenant: 'typed-1' });
    expect(page.licenses.map((l) => l.id)).toEqual([license.id]);
    expect(page.next_page_token).toBe('');
    await expect(admin.rebind({ id: license.id })).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
    });
  });

  it('rejects with the gRPC status: another token per call, none, a short deadline', async () => {
    await expect(admin.get({ id: 'x' }, { token: 'wrong' })).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    const anonymous = licenseAdminClient({
      grpc,
      protoLoader,
      address,
      credentials: grpc.credentials.createInsecure(),
    });
    try {
      await expect(anonymous.list()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    } finally {
      anonymous.close();
    }
  });

  it('refuses bad options when built, with a typed error', () => {
    const credentials = grpc.credentials.createInsecure();
    const bad = [
      {},
      { grpc, address, credentials },
      { grpc: {}, protoLoader, address, credentials },
      { grpc, protoLoader, address: '', credentials },
      { grpc, protoLoader, address },
      { grpc, protoLoader, address, credentials, token: '' },
      { grpc, protoLoader, address, credentials, timeoutMs: -1 },
    ];
    for (const options of bad) {
      expect(() => licenseAdminClient(options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_LICENSE_INVALID_ARGUMENT' }),
      );
    }
  });

  it('the embedded descriptor is exactly the shipped .proto (every message and method)', () => {
    const options = { keepCase: true, defaults: true };
    const fromFile = protoLoader.loadSync(fileURLToPath(licenseAdminProtoUrl()), options);
    const embedded = protoLoader.fromJSON(licenseAdminDescriptor() as never, options);
    expect(Object.keys(embedded).sort()).toEqual(Object.keys(fromFile).sort());
    const strip = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value, (k, v) => (k === 'fileDescriptorProtos' ? undefined : v)));
    for (const name of Object.keys(fromFile)) {
      expect(strip(embedded[name]), name).toEqual(strip(fromFile[name]));
    }
    const service = licenseAdminService({ grpc, protoLoader });
    expect(Object.keys(service.service as object).sort()).toEqual([
      'Create',
      'Get',
      'List',
      'Lock',
      'Rebind',
      'Unlock',
    ]);
  });
});
