/**
 * The LicenseAdmin gRPC service (Create, Lock, Unlock, Rebind, Get, List) mapped onto a
 * `LicenseAuthority`. The handlers work with `@grpc/grpc-js`
 * (`server.addService(licenseAdminService({ grpc, protoLoader }).service, handlers)`) without
 * this package depending on it.
 */
import type { IssueLicenseInput, LicenseInfo, ListLicensesInput } from './authority.js';
import { LicenseError } from './errors.js';

/** What the admin service needs of a `LicenseAuthority` (which satisfies it). */
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

/** gRPC status codes used here (numbers as in every gRPC implementation). */
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

/** The error passed to a gRPC callback. */
export interface GrpcError {
  readonly code: number;
  readonly details: string;
  readonly message: string;
}

/** A unary call as grpc-js passes it, reduced to what the handlers read. */
export interface UnaryCall<Request> {
  readonly request: Request;
  readonly metadata: { get(key: string): unknown[] };
  getPeer?(): string;
}

/** A unary callback as grpc-js passes it. */
export type UnaryCallback<Response> = (error: GrpcError | null, response?: Response) => void;

/** The License message. Timestamps are RFC 3339 strings; empty means none. */
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

/** The CreateRequest message. */
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

/** The CreateResponse message: the license key is shown this once. */
export interface AdminCreateResponse {
  license: LicenseMessage;
  /** The license key; only its keyed hash is stored, so this is the one chance to show it. */
  license_key: string;
}

/** The RebindResponse message. */
export interface AdminRebindResponse {
  license: LicenseMessage;
  /** The one-time code the replacement device activates with. */
  rebind_code: string;
  /** When the code expires (RFC 3339). */
  expires_at: string;
}

/** The ListRequest message (empty strings and 0 mean "any" and the default page size). */
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

/** The ListResponse message. */
export interface AdminListResponse {
  licenses: LicenseMessage[];
  /** Empty on the last page. */
  next_page_token: string;
}

/** A unary handler as grpc-js calls it. */
export type Handler<Req, Res> = (call: UnaryCall<Req>, callback: UnaryCallback<Res>) => void;

/** The service implementation. */
export interface LicenseAdminHandlers {
  Create: Handler<AdminCreateRequest, AdminCreateResponse>;
  Lock: Handler<{ id: string; reason: string }, LicenseMessage>;
  Unlock: Handler<{ id: string }, LicenseMessage>;
  Rebind: Handler<{ id: string }, AdminRebindResponse>;
  Get: Handler<{ id: string }, LicenseMessage>;
  List: Handler<AdminListRequest, AdminListResponse>;
  [method: string]: Handler<never, unknown>;
}

/** One admin call, for the audit log. */
export interface AdminCallEvent {
  readonly method: string;
  readonly actor: string | undefined;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly code?: string;
  readonly peer?: string;
  readonly licenseId?: string;
}

/** Options of {@link createLicenseAdminHandlers}. */
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

/** Creates the LicenseAdmin service implementation. */
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
