/**
 * How the portal reaches the relay: licenses through the relay's LicenseAdmin gRPC API (never
 * its database), credentials through the relay's bearer-protected portal API (values go into
 * the relay's vault and never come back). Both over TLS pinned to the relay's CA; to the admin
 * API with a client certificate too when the relay requires mutual TLS.
 */

import { adminClient } from '@fluxel-example/kit/admin-service';
import * as grpc from '@grpc/grpc-js';
import { Agent, request } from 'undici';

export interface RelayGatewayOptions {
  /** `host:port` of the relay's admin gRPC API. */
  readonly adminAddress: string;
  readonly adminToken: string;
  /** `https://…` base URL of the relay (its portal API). */
  readonly relayUrl: string;
  readonly portalToken: string;
  /** PEM of the CA that issued the relay's certificate. */
  readonly ca: string;
  /**
   * Client certificate (PEM, with its chain) and key the portal presents to the admin gRPC API
   * when the relay requires mutual TLS (`RELAY_ADMIN_CLIENT_CA_FILE` there). Both or neither.
   */
  readonly adminClientCert?: string;
  readonly adminClientKey?: string;
}

export interface LicenseRecord {
  readonly id: string;
  readonly tenant: string;
  readonly product: string;
  readonly entitlements: readonly string[];
  readonly status: string;
  readonly lockedReason?: string;
  readonly deviceJkt?: string;
  readonly createdAt: string;
  readonly activatedAt?: string;
  readonly expiresAt?: string;
  readonly lastSeenAt?: string;
  /** What the bound device reported at activation or refresh (absent from older relays). */
  readonly deviceHostName?: string;
  readonly deviceAgentVersion?: string;
  /** The client IP of the device's last-seen request (personal data: see the licenses service). */
  readonly lastIp?: string;
}

export interface ConnectionMeta {
  readonly connection: string;
  readonly kind: string;
  readonly fieldNames: readonly string[];
  readonly setAt: string;
  readonly setBy: string;
  /** The connection's own inbound webhook URL at the relay (null without a webhookSecret; absent from older relays). */
  readonly hookUrl?: string | null;
}

/** The `code` of a problem document the relay answered, if the body is one. */
function problemCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A failure reaching the relay or refused by it; `status` is HTTP-like. */
export class RelayGatewayError extends Error {
  constructor(
    readonly status: number,
    readonly reason:
      | 'not_found'
      | 'license_not_active'
      | 'forbidden'
      | 'invalid'
      | 'webhook_secret_invalid'
      | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'RelayGatewayError';
  }
}

export interface RelayGateway {
  create(input: {
    tenant: string;
    product: string;
    entitlements: readonly string[];
    expiresAt?: string;
  }): Promise<{ license: LicenseRecord; licenseKey: string }>;
  get(id: string): Promise<LicenseRecord>;
  list(tenant?: string): Promise<LicenseRecord[]>;
  lock(id: string, reason: string): Promise<LicenseRecord>;
  unlock(id: string): Promise<LicenseRecord>;
  rebind(id: string): Promise<{ rebindCode: string; expiresAt: string }>;
  connections(licenseId: string): Promise<ConnectionMeta[]>;
  putCredentials(
    licenseId: string,
    connection: string,
    body: {
      tenant: string;
      kind: string;
      fields: Record<string, string>;
      actor: { id: string; name: string };
    },
  ): Promise<void>;
  /** Mailbox backlog from the relay's portal API; `undefined` when the relay does not offer it. */
  stats(): Promise<{ mailboxBacklog: number; oldestEventAgeSeconds: number } | undefined>;
  close(): void;
}

type Message = Record<string, unknown>;

function toRecord(m: Message): LicenseRecord {
  const s = (k: string) => (typeof m[k] === 'string' && m[k] !== '' ? (m[k] as string) : undefined);
  const lockedReason = s('locked_reason');
  const deviceJkt = s('device_jkt');
  const activatedAt = s('activated_at');
  const expiresAt = s('expires_at');
  const lastSeenAt = s('last_seen_at');
  const deviceHostName = s('device_host_name');
  const deviceAgentVersion = s('device_agent_version');
  const lastIp = s('last_ip');
  return {
    id: String(m.id),
    tenant: String(m.tenant),
    product: String(m.product),
    entitlements: (m.entitlements as string[] | undefined) ?? [],
    status: String(m.status),
    createdAt: String(m.created_at),
    ...(lockedReason ? { lockedReason } : {}),
    ...(deviceJkt ? { deviceJkt } : {}),
    ...(activatedAt ? { activatedAt } : {}),
    ...(expiresAt ? { expiresAt } : {}),
    ...(lastSeenAt ? { lastSeenAt } : {}),
    ...(deviceHostName ? { deviceHostName } : {}),
    ...(deviceAgentVersion ? { deviceAgentVersion } : {}),
    ...(lastIp ? { lastIp } : {}),
  };
}

function grpcError(error: grpc.ServiceError): RelayGatewayError {
  switch (error.code) {
    case grpc.status.NOT_FOUND:
      return new RelayGatewayError(404, 'not_found', 'no such license');
    case grpc.status.INVALID_ARGUMENT:
      return new RelayGatewayError(400, 'invalid', error.details || 'invalid request');
    case grpc.status.FAILED_PRECONDITION:
      return new RelayGatewayError(409, 'license_not_active', error.details || 'not possible now');
    default:
      return new RelayGatewayError(503, 'unavailable', 'the relay is not reachable');
  }
}

export function relayGateway(options: RelayGatewayOptions): RelayGateway {
  if (Boolean(options.adminClientCert) !== Boolean(options.adminClientKey))
    throw new Error('adminClientCert and adminClientKey go together');
  const client = adminClient({
    address: options.adminAddress,
    credentials:
      options.adminClientCert && options.adminClientKey
        ? grpc.credentials.createSsl(
            Buffer.from(options.ca),
            Buffer.from(options.adminClientKey),
            Buffer.from(options.adminClientCert),
          )
        : grpc.credentials.createSsl(Buffer.from(options.ca)),
    token: options.adminToken,
    timeoutMs: 10_000,
  });
  const methods = {
    Create: client.create,
    Get: client.get,
    List: client.list,
    Lock: client.lock,
    Unlock: client.unlock,
    Rebind: client.rebind,
  } as unknown as Record<string, (req: Message) => Promise<Message>>;
  const call = (method: keyof typeof methods, req: Message): Promise<Message> =>
    (methods[method] as (req: Message) => Promise<Message>)(req).catch((error: unknown) => {
      throw grpcError(error as grpc.ServiceError);
    });
  const dispatcher = new Agent({ connect: { ca: options.ca }, connections: 8 });
  const base = options.relayUrl.replace(/\/$/, '');
  const http = async (method: 'GET' | 'PUT', path: string, body?: unknown) => {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${base}${path}`, {
        method,
        dispatcher,
        headers: {
          authorization: `Bearer ${options.portalToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    } catch {
      throw new RelayGatewayError(503, 'unavailable', 'the relay is not reachable');
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return text ? JSON.parse(text) : undefined;
    if (res.statusCode === 404) throw new RelayGatewayError(404, 'not_found', 'no such license');
    if (res.statusCode === 409)
      throw new RelayGatewayError(409, 'license_not_active', 'the license is not activated');
    if (res.statusCode === 403)
      throw new RelayGatewayError(403, 'forbidden', 'the license belongs to another tenant');
    if (res.statusCode === 400) {
      if (problemCode(text) === 'ERR_WEBHOOK_SECRET_INVALID')
        throw new RelayGatewayError(
          400,
          'webhook_secret_invalid',
          'the webhook secret must be base64 of at least 24 bytes (with or without whsec_)',
        );
      throw new RelayGatewayError(400, 'invalid', 'invalid credentials');
    }
    throw new RelayGatewayError(503, 'unavailable', 'the relay refused the request');
  };
  const seg = encodeURIComponent;
  return {
    async create(input) {
      const res = await call('Create', {
        tenant: input.tenant,
        product: input.product,
        entitlements: input.entitlements,
        expires_at: input.expiresAt ?? '',
      });
      return { license: toRecord(res.license as Message), licenseKey: String(res.license_key) };
    },
    get: async (id) => toRecord(await call('Get', { id })),
    async list(tenant) {
      const out: LicenseRecord[] = [];
      let pageToken = '';
      for (let i = 0; i < 100; i++) {
        const res = await call('List', {
          tenant: tenant ?? '',
          page_size: 200,
          page_token: pageToken,
        });
        out.push(...((res.licenses as Message[]) ?? []).map(toRecord));
        pageToken = String(res.next_page_token ?? '');
        if (!pageToken) break;
      }
      return out;
    },
    lock: async (id, reason) => toRecord(await call('Lock', { id, reason })),
    unlock: async (id) => toRecord(await call('Unlock', { id })),
    async rebind(id) {
      const res = await call('Rebind', { id });
      return { rebindCode: String(res.rebind_code), expiresAt: String(res.expires_at) };
    },
    async connections(licenseId) {
      const res = (await http(
        'GET',
        `/internal/portal/v1/licenses/${seg(licenseId)}/connections`,
      )) as {
        connections: ConnectionMeta[];
      };
      return res.connections;
    },
    async putCredentials(licenseId, connection, body) {
      await http(
        'PUT',
        `/internal/portal/v1/licenses/${seg(licenseId)}/connections/${seg(connection)}/credentials`,
        body,
      );
    },
    async stats() {
      try {
        const body = (await http('GET', '/internal/portal/v1/stats')) as {
          mailboxBacklog?: unknown;
          oldestEventAgeSeconds?: unknown;
        };
        const backlog = Number(body?.mailboxBacklog);
        const age = Number(body?.oldestEventAgeSeconds);
        return Number.isFinite(backlog) && Number.isFinite(age)
          ? { mailboxBacklog: backlog, oldestEventAgeSeconds: age }
          : undefined;
      } catch (error) {
        if (error instanceof RelayGatewayError && error.reason === 'not_found') return undefined;
        throw error;
      }
    },
    close() {
      client.close();
      void dispatcher.close();
    },
  };
}
